package sipua

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/pion/rtp"

	"phonesim/firmware"
	"phonesim/sipua/media"
)

// Multicast paging (firmware/multicast.go decides): the UA joins the
// groups of the core's MulticastListen, reports a stream of PCMU or PCMA
// RTP starting on one (MulticastStarted) and stopping (MulticastStopped:
// no RTP for multicastIdle), and plays the group the core's
// MulticastPlay names: its packets are decoded and counted in
// MulticastStats. No SIP is involved. The groups are joined on the
// interface of the UA's own address (loopback for a UA on 127.0.0.1, so
// a test's pages never leave the machine), or the system's default.

// multicastIdle is how long a stream may go without a packet before it
// counts as stopped (snom ends a page after a short silence, about 1-2 s).
var multicastIdle = 1500 * time.Millisecond

// maxPagePacket caps one datagram read; an RTP packet of 20 ms G.711 is
// 172 bytes.
const maxPagePacket = 1500

// MulticastGroupStats is what one group received.
type MulticastGroupStats struct {
	Group   string // ip:port
	Streams int    // streams started
	Packets int64  // RTP packets of PCMU or PCMA received
	Played  int64  // of them, played (the group was the one playing)
	Samples int64  // samples decoded and played
	Bad     int64  // datagrams that were no RTP, or another codec
	Source  string // the sender of the last stream
}

// MulticastStats is multicast paging's statistics: each group listened
// on, and the group playing ("" none).
type MulticastStats struct {
	Playing string
	Groups  []MulticastGroupStats
}

// pager is one UA's multicast paging. The UA struct stays as it is: the
// pager hangs off a table keyed by the UA, and goes when the UA closes.
type pager struct {
	u    *UA
	idle time.Duration

	// listenMu makes joins and leaves one at a time; closed (under it):
	// the UA closed, nothing is joined any more.
	listenMu sync.Mutex
	closed   bool

	mu      sync.Mutex
	groups  map[string]*pageGroup
	playing string
}

type pageGroup struct {
	addr string
	conn *net.UDPConn
	done chan struct{}

	// counted by the reader, read by MulticastStats (under pager.mu)
	stats MulticastGroupStats
}

var pagers sync.Map // *UA → *pager

func (u *UA) pager() *pager {
	if v, ok := pagers.Load(u); ok {
		return v.(*pager)
	}
	pg := &pager{u: u, idle: multicastIdle, groups: map[string]*pageGroup{}}
	if v, loaded := pagers.LoadOrStore(u, pg); loaded {
		return v.(*pager)
	}
	if u.ctx.Err() != nil {
		// Close ran (it cancels, then shuts the pager it finds): it may
		// not have found this one.
		u.shutPager()
	}
	return pg
}

// shutPager leaves every group and stops the readers (Close).
func (u *UA) shutPager() {
	if v, ok := pagers.LoadAndDelete(u); ok {
		pg := v.(*pager)
		pg.listenMu.Lock()
		defer pg.listenMu.Unlock()
		pg.apply(nil)
		pg.closed = true
	}
}

// multicast carries out the core's paging effects.
func (u *UA) multicast(e firmware.Effect) {
	if u.ctx.Err() != nil {
		return
	}
	switch e := e.(type) {
	case firmware.MulticastListen:
		u.pager().listen(e.Groups)
	case firmware.MulticastPlay:
		pg := u.pager()
		pg.mu.Lock()
		pg.playing = e.Group
		pg.mu.Unlock()
		if e.Group != "" {
			u.logf(firmware.Info, "multicast: playing %s", e.Group)
		} else {
			u.logf(firmware.Info, "multicast: playing nothing")
		}
	}
}

// MulticastStats returns multicast paging's statistics.
func (u *UA) MulticastStats() MulticastStats {
	v, ok := pagers.Load(u)
	if !ok {
		return MulticastStats{}
	}
	pg := v.(*pager)
	pg.mu.Lock()
	defer pg.mu.Unlock()
	st := MulticastStats{Playing: pg.playing}
	for _, g := range pg.groups {
		st.Groups = append(st.Groups, g.stats)
	}
	sortGroupStats(st.Groups)
	return st
}

func sortGroupStats(gs []MulticastGroupStats) {
	for i := 1; i < len(gs); i++ {
		for j := i; j > 0 && gs[j].Group < gs[j-1].Group; j-- {
			gs[j], gs[j-1] = gs[j-1], gs[j]
		}
	}
}

// listen joins exactly the groups given: new ones are joined, the ones
// no longer wanted left.
func (pg *pager) listen(groups []firmware.MulticastGroup) {
	pg.listenMu.Lock()
	defer pg.listenMu.Unlock()
	if pg.closed {
		return
	}
	pg.apply(groups)
}

// apply is listen, under listenMu.
func (pg *pager) apply(groups []firmware.MulticastGroup) {
	want := map[string]bool{}
	for _, g := range groups {
		want[g.Addr] = true
	}
	pg.mu.Lock()
	var leave []*pageGroup
	for addr, g := range pg.groups {
		if !want[addr] {
			leave = append(leave, g)
			delete(pg.groups, addr)
		}
	}
	if !want[pg.playing] {
		pg.playing = ""
	}
	var join []string
	for _, g := range groups {
		if _, ok := pg.groups[g.Addr]; !ok {
			join = append(join, g.Addr)
		}
	}
	pg.mu.Unlock()
	for _, g := range leave {
		g.conn.Close()
		<-g.done
		pg.u.logf(firmware.Info, "multicast: left %s", g.addr)
	}
	for _, addr := range join {
		g, err := pg.join(addr)
		if err != nil {
			pg.u.logf(firmware.Warning, "multicast: cannot listen on %s: %v", addr, err)
			continue
		}
		pg.mu.Lock()
		pg.groups[addr] = g
		pg.mu.Unlock()
		go pg.read(g)
		pg.u.logf(firmware.Info, "multicast: listening on %s", addr)
	}
}

// join opens a socket on the group.
func (pg *pager) join(addr string) (*pageGroup, error) {
	ua, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return nil, err
	}
	if !ua.IP.IsMulticast() || ua.IP.To4() == nil {
		return nil, errors.New("not an IPv4 multicast address")
	}
	conn, err := net.ListenMulticastUDP("udp4", interfaceOf(pg.u.bindIP, pg.u.ip), ua)
	if err != nil {
		return nil, err
	}
	return &pageGroup{addr: addr, conn: conn, done: make(chan struct{}), stats: MulticastGroupStats{Group: addr}}, nil
}

// interfaceOf finds the interface holding one of the addresses (nil: the
// system's default).
func interfaceOf(ips ...string) *net.Interface {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	for _, s := range ips {
		ip := net.ParseIP(s)
		if ip == nil || ip.IsUnspecified() {
			continue
		}
		for i := range ifs {
			addrs, err := ifs[i].Addrs()
			if err != nil {
				continue
			}
			for _, a := range addrs {
				if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
					return &ifs[i]
				}
			}
		}
	}
	return nil
}

// read is one group's reader: it reports streams starting and stopping
// and plays (decodes and counts) the packets of the group playing.
func (pg *pager) read(g *pageGroup) {
	defer close(g.done)
	buf := make([]byte, maxPagePacket)
	pcm := make([]int16, 0, maxPagePacket)
	var pkt rtp.Packet
	streaming := false
	var last time.Time
	defer func() {
		if streaming {
			pg.u.emit(firmware.MulticastStopped{Group: g.addr})
		}
	}()
	for {
		_ = g.conn.SetReadDeadline(time.Now().Add(pg.idle / 3))
		n, from, err := g.conn.ReadFromUDP(buf)
		now := time.Now()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if streaming && now.Sub(last) >= pg.idle {
					streaming = false
					pg.u.logf(firmware.Info, "multicast: stream on %s stopped (no RTP for %v)", g.addr, pg.idle)
					pg.u.emit(firmware.MulticastStopped{Group: g.addr})
				}
				continue
			}
			return // closed
		}
		codec, ok := pageCodec(&pkt, buf[:n])
		pg.mu.Lock()
		if !ok {
			g.stats.Bad++
			pg.mu.Unlock()
			continue
		}
		g.stats.Packets++
		started := !streaming
		if started {
			g.stats.Streams++
			g.stats.Source = from.String()
		}
		if pg.playing == g.addr {
			pcm = codec.Decode(pcm[:0], pkt.Payload)
			g.stats.Played++
			g.stats.Samples += int64(len(pcm))
		}
		pg.mu.Unlock()
		last = now
		if started {
			streaming = true
			pg.u.logf(firmware.Info, "multicast: %s stream from %s on %s", codec.Name, from, g.addr)
			pg.u.emit(firmware.MulticastStarted{Group: g.addr, Source: from.String(), Codec: codec.Name})
		}
	}
}

// pageCodec reads an RTP packet of a page: version 2, PCMU or PCMA.
func pageCodec(pkt *rtp.Packet, b []byte) (media.Codec, bool) {
	if len(b) < 12 || b[0]>>6 != 2 {
		return media.Codec{}, false
	}
	if err := pkt.Unmarshal(b); err != nil {
		return media.Codec{}, false
	}
	return media.CodecByType(pkt.PayloadType)
}
