package media

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func pair(t *testing.T, modeA, modeB Mode) (*Session, *Session) {
	t.Helper()
	a, err := Listen("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Listen("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func addr(s *Session) *net.UDPAddr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.Port()}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
	}
}

func TestToneAndEcho(t *testing.T) {
	a, b := pair(t, Tone, Echo)
	a.Start(Tone, Params{PayloadType: PayloadPCMU, Remote: addr(b), Send: true, Receive: true}, nil)
	b.Start(Echo, Params{PayloadType: PayloadPCMU, Send: true, Receive: true}, nil)
	eventually(t, "echo", func() bool { return a.Stats().PacketsReceived >= 3 })
	if s := b.Stats(); s.PacketsSent == 0 || s.PacketsReceived == 0 {
		t.Fatalf("echo stats %+v", s)
	}
}

// Packets that are not RTP version 2 (pion does not check) and payload
// types not negotiated are dropped.
func TestDropsWrongVersion(t *testing.T) {
	a, _ := pair(t, Silence, Silence)
	a.Start(Silence, Params{PayloadType: PayloadPCMU, Send: false, Receive: true}, nil)
	conn, err := net.DialUDP("udp", nil, addr(a))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	good := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 1}, Payload: make([]byte, 160)}
	b, _ := good.Marshal()
	v1 := append([]byte{}, b...)
	v1[0] = v1[0]&0x3f | 1<<6
	other := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 18, SSRC: 1}, Payload: []byte{1}}
	o, _ := other.Marshal()
	for _, p := range [][]byte{v1, {0x80}, o, b} {
		conn.Write(p)
	}
	eventually(t, "counted", func() bool { s := a.Stats(); return s.PacketsReceived+s.PacketsDropped == 4 })
	if s := a.Stats(); s.PacketsReceived != 1 || s.PacketsDropped != 3 {
		t.Fatalf("stats %+v", s)
	}
}

// A digit goes out as RFC 4733 events: marker on the first packet, one
// timestamp, growing duration, the end packet three times; the receiver
// reports it once.
func TestDTMFEvents(t *testing.T) {
	a, b := pair(t, Silence, Silence)
	var mu sync.Mutex
	var got []byte
	b.Start(Silence, Params{PayloadType: PayloadPCMU, DTMFType: 101, Receive: true}, func(d byte) {
		mu.Lock()
		got = append(got, d)
		mu.Unlock()
	})

	// Watch the wire with a plain socket, then replay to b.
	spy, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer spy.Close()
	a.Start(Silence, Params{PayloadType: PayloadPCMU, DTMFType: 101, Remote: spy.LocalAddr().(*net.UDPAddr), Send: true}, nil)
	if err := a.SendDTMF("5"); err != nil {
		t.Fatal(err)
	}
	var events []rtp.Packet
	buf := make([]byte, 1500)
	spy.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(events) < dtmfToneFrames+dtmfEndRepeats {
		n, err := spy.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		var p rtp.Packet
		if err := p.Unmarshal(append([]byte(nil), buf[:n]...)); err != nil {
			t.Fatal(err)
		}
		if p.PayloadType == 101 {
			events = append(events, p)
		}
	}
	for i, p := range events {
		ev, _ := parseTelephoneEvent(p.Payload)
		if ev.Event != 5 || p.Timestamp != events[0].Timestamp || p.Marker != (i == 0) {
			t.Errorf("packet %d: %+v marker=%v ts=%d", i, ev, p.Marker, p.Timestamp)
		}
		if end := i >= dtmfToneFrames; ev.End != end {
			t.Errorf("packet %d: end=%v", i, ev.End)
		}
		if i > 0 && p.SequenceNumber != events[i-1].SequenceNumber+1 {
			t.Errorf("packet %d: seq %d after %d", i, p.SequenceNumber, events[i-1].SequenceNumber)
		}
	}
	replay, _ := net.DialUDP("udp", nil, addr(b))
	defer replay.Close()
	for _, p := range events {
		raw, _ := p.Marshal()
		replay.Write(raw)
	}
	eventually(t, "digit", func() bool { return b.Stats().PacketsReceived == uint64(len(events)) })
	mu.Lock()
	defer mu.Unlock()
	if string(got) != "5" {
		t.Fatalf("digits %q, want \"5\"", got)
	}
}

func TestNoDTMFWithoutTelephoneEvent(t *testing.T) {
	a, _ := pair(t, Tone, Tone)
	a.Start(Tone, Params{PayloadType: PayloadPCMU}, nil)
	if err := a.SendDTMF("1"); err != ErrNoDTMF {
		t.Fatalf("err = %v", err)
	}
}

func TestCloseTwice(t *testing.T) {
	a, _ := pair(t, Tone, Tone)
	a.Start(Tone, Params{PayloadType: PayloadPCMU}, nil)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
}
