package sipua

import (
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"

	"phonesim/firmware"
)

// pageSender sends multicast on the loopback interface only, with TTL 0:
// nothing it sends leaves the machine.
func pageSender(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInet4Addr(int(fd), syscall.IPPROTO_IP, syscall.IP_MULTICAST_IF, [4]byte{127, 0, 0, 1})
		if serr == nil {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_MULTICAST_TTL, 0)
		}
	}); err != nil || serr != nil {
		t.Fatalf("loopback multicast sender: %v %v", err, serr)
	}
	return c
}

// freeGroup is a group address on a UDP port free on loopback
// (239.255.0.0/16, organisation-local scope).
func freeGroup(t *testing.T, last byte) *net.UDPAddr {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	return &net.UDPAddr{IP: net.IPv4(239, 255, 77, last), Port: port}
}

// requireLoopbackMulticast skips when this machine's loopback carries no
// multicast (a join on lo, a send with IP_MULTICAST_IF 127.0.0.1 and
// TTL 0, works on a default Debian lo).
func requireLoopbackMulticast(t *testing.T) {
	t.Helper()
	lo := interfaceOf("127.0.0.1")
	g := freeGroup(t, 250)
	c, err := net.ListenMulticastUDP("udp4", lo, g)
	if err != nil {
		t.Skipf("loopback multicast unavailable here (joining %v on lo: %v); needs a lo that takes multicast joins", g, err)
	}
	defer c.Close()
	if _, err := pageSender(t).WriteToUDP([]byte("probe"), g); err != nil {
		t.Skipf("loopback multicast unavailable here (sending to %v via 127.0.0.1: %v)", g, err)
	}
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	if _, _, err := c.ReadFromUDP(make([]byte, 64)); err != nil {
		t.Skipf("loopback multicast unavailable here (nothing looped back from %v: %v)", g, err)
	}
}

func rtpPacket(t *testing.T, pt uint8, seq uint16) []byte {
	t.Helper()
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 0x5ca1ab1e},
		Payload: make([]byte, 160)}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func groupStats(u *UA, addr string) (MulticastGroupStats, bool) {
	for _, g := range u.MulticastStats().Groups {
		if g.Group == addr {
			return g, true
		}
	}
	return MulticastGroupStats{}, false
}

// Multicast paging on the wire: the UA joins the groups the core names,
// reports a PCMU stream starting and stopping, plays (decodes, counts)
// only the group the core chose, counts what is not G.711 RTP as bad
// without a word to the core, and leaves the groups it no longer wants.
func TestMulticastPaging(t *testing.T) {
	requireLoopbackMulticast(t)
	b := startPhone(t, "B", MediaTone)
	g1, g2 := freeGroup(t, 1), freeGroup(t, 2)
	old := multicastIdle
	multicastIdle = 300 * time.Millisecond // read when the UA's pager is made, in this Do
	b.ua.Do(firmware.MulticastListen{Groups: []firmware.MulticastGroup{
		{Index: 1, Addr: g1.String(), Priority: 5}, {Index: 2, Addr: g2.String(), Priority: 8},
	}})
	multicastIdle = old
	eventually(t, "both groups joined", func() bool { return len(b.ua.MulticastStats().Groups) == 2 })
	s := pageSender(t)
	send := func(to *net.UDPAddr, pkt []byte) {
		if _, err := s.WriteToUDP(pkt, to); err != nil {
			t.Fatal(err)
		}
	}

	// a stream starts: reported once, not played until the core says so
	for i := range 5 {
		send(g1, rtpPacket(t, 0, uint16(i)))
		time.Sleep(20 * time.Millisecond)
	}
	st := expectOnly[firmware.MulticastStarted](b)
	if st.Group != g1.String() || st.Codec != "PCMU" || st.Source != s.LocalAddr().String() {
		t.Fatalf("MulticastStarted = %+v, want %s PCMU from %s", st, g1, s.LocalAddr())
	}
	b.ua.Do(firmware.MulticastPlay{Group: g1.String()})
	for i := 5; i < 15; i++ {
		send(g1, rtpPacket(t, 0, uint16(i)))
		time.Sleep(20 * time.Millisecond)
	}
	if got := expectOnly[firmware.MulticastStopped](b); got.Group != g1.String() {
		t.Fatalf("MulticastStopped = %+v", got)
	}
	gs, _ := groupStats(b.ua, g1.String())
	if gs.Packets != 15 || gs.Streams != 1 || gs.Played < 10 || gs.Samples != gs.Played*160 || gs.Bad != 0 {
		t.Fatalf("group stats = %+v; want 15 packets, at least the 10 sent after MulticastPlay played, 160 samples each, 1 stream", gs)
	}

	// bad input on the other group: no RTP, RTP version 1, G.722
	send(g2, []byte("\x1b[31mnot rtp"))
	v1 := rtpPacket(t, 0, 1)
	v1[0] = v1[0]&0x3f | 1<<6
	send(g2, v1)
	send(g2, rtpPacket(t, 9, 2))
	eventually(t, "bad datagrams counted", func() bool { gs, _ := groupStats(b.ua, g2.String()); return gs.Bad == 3 })
	if gs, _ := groupStats(b.ua, g2.String()); gs.Packets != 0 || gs.Streams != 0 {
		t.Fatalf("group 2 stats = %+v", gs)
	}
	assertQuiet(t, b)

	// no groups: left, and a stream goes unheard
	b.ua.Do(firmware.MulticastListen{})
	eventually(t, "groups left", func() bool { return len(b.ua.MulticastStats().Groups) == 0 })
	if p := b.ua.MulticastStats().Playing; p != "" {
		t.Fatalf("playing %q after leaving every group", p)
	}
	send(g1, rtpPacket(t, 0, 99))
	assertQuiet(t, b)
}
