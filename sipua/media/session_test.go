package media

import (
	"net"
	"path/filepath"
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

func rtpBytes(t *testing.T, pt uint8, seq uint16, payload []byte) []byte {
	t.Helper()
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 42}, Payload: payload}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func dialFrom(t *testing.T, to *Session) *net.UDPConn {
	t.Helper()
	c, err := net.DialUDP("udp", nil, addr(to))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Hostile RTP is dropped and counted by reason: a wrong version, a
// malformed header, a payload type not negotiated, and — once the first
// valid packet latched its source — anything from another address.
func TestHostileRTPDroppedByReason(t *testing.T) {
	a, _ := pair(t, Silence, Silence)
	a.Start(Silence, Params{PayloadType: PayloadPCMA, Receive: true}, nil)
	good, evil := dialFrom(t, a), dialFrom(t, a)
	frame := make([]byte, 160)

	v1 := rtpBytes(t, PayloadPCMA, 1, frame)
	v1[0] = v1[0]&0x3f | 1<<6
	evil.Write(v1)                         // version 1
	evil.Write([]byte{0x80, 8, 0, 1})      // too short
	cc := rtpBytes(t, PayloadPCMA, 2, nil) // CSRC count 15, no CSRCs: malformed
	cc[0] |= 0x0f
	evil.Write(cc)
	evil.Write(rtpBytes(t, PayloadPCMU, 3, frame)) // PCMU: not negotiated
	evil.Write(rtpBytes(t, 18, 4, frame))          // G.729: unknown
	eventually(t, "five drops", func() bool { return a.Stats().PacketsDropped == 5 })

	good.Write(rtpBytes(t, PayloadPCMA, 10, frame)) // latches good's address
	eventually(t, "latched", func() bool { return a.Stats().PacketsReceived == 1 })
	evil.Write(rtpBytes(t, PayloadPCMA, 11, frame)) // valid, wrong source
	good.Write(rtpBytes(t, PayloadPCMA, 12, frame))
	eventually(t, "all counted", func() bool { s := a.Stats(); return s.PacketsReceived == 2 && s.PacketsDropped == 6 })

	s := a.Stats()
	want := Drops{Version: 1, Malformed: 2, PayloadType: 2, Source: 1}
	if s.Dropped != want {
		t.Fatalf("drops %+v, want %+v", s.Dropped, want)
	}
}

// Before latching, the SDP's address is what counts: packets from another
// IP are dropped even first.
func TestSourceMustMatchSDPBeforeLatching(t *testing.T) {
	a, _ := pair(t, Silence, Silence)
	sdpSaid := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 4000}
	a.Start(Silence, Params{PayloadType: PayloadPCMU, Remote: sdpSaid, Receive: true}, nil)
	c := dialFrom(t, a) // from 127.0.0.1
	c.Write(rtpBytes(t, PayloadPCMU, 1, make([]byte, 160)))
	eventually(t, "dropped", func() bool { return a.Stats().Dropped.Source == 1 })
	if a.Stats().PacketsReceived != 0 {
		t.Fatal("packet from a foreign IP taken")
	}
	// new SDP naming 127.0.0.1: taken
	a.Update(Params{PayloadType: PayloadPCMU, Remote: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000}, Receive: true})
	c.Write(rtpBytes(t, PayloadPCMU, 2, make([]byte, 160)))
	eventually(t, "taken", func() bool { return a.Stats().PacketsReceived == 1 })
}

// Two sessions talk; both send RTCP on port+1 and read the other's
// reports: loss, jitter and a round-trip time come back.
func TestRTCPBothWays(t *testing.T) {
	a, b := pair(t, Tone, Tone)
	a.rtcpEvery, b.rtcpEvery = 100*time.Millisecond, 100*time.Millisecond
	a.Start(Tone, Params{PayloadType: PayloadPCMU, Remote: addr(b), Send: true, Receive: true}, nil)
	b.Start(Tone, Params{PayloadType: PayloadPCMU, Remote: addr(a), Send: true, Receive: true}, nil)
	eventually(t, "reports both ways with RTT", func() bool {
		sa, sb := a.Stats(), b.Stats()
		return sa.RemoteReport && sb.RemoteReport && sa.RTTMs > 0 && sb.RTTMs > 0
	})
	sa := a.Stats()
	if sa.RTCPSent < 2 || sa.RTCPReceived < 2 || sa.RTCPDropped != 0 {
		t.Errorf("RTCP counters %+v", sa)
	}
	if sa.RTTMs > 50 || sa.RemoteLost != 0 || sa.LossPercent != 0 {
		t.Errorf("loopback: RTT %.2f ms, remote lost %d, loss %.1f %%", sa.RTTMs, sa.RemoteLost, sa.LossPercent)
	}
	if sa.MOS < 4.3 {
		t.Errorf("MOS %.2f on loopback", sa.MOS)
	}
	// RTCP from a stranger is dropped
	c, _ := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: a.Port() + 1})
	defer c.Close()
	c.Write([]byte{0x80, 201, 0, 1, 0, 0, 0, 9})
	// (the stranger shares 127.0.0.1 with b, so it passes the IP check; a
	// broken packet is counted as dropped)
	c.Write([]byte{0x80, 202, 0, 1, 0, 0, 0, 9})
	eventually(t, "garbage RTCP dropped", func() bool { return a.Stats().RTCPDropped >= 1 })
}

// Recording: left is what was sent, right what was played; both on the
// same 20 ms grid.
func TestRecordingBothDirections(t *testing.T) {
	a, b := pair(t, Tone, Silence)
	path := filepath.Join(t.TempDir(), "rec", "call.wav")
	if err := a.StartRecording(path); err != nil {
		t.Fatal(err)
	}
	if err := a.StartRecording(path + "2"); err == nil {
		t.Fatal("second recording started")
	}
	a.Start(Tone, Params{PayloadType: PayloadPCMA, Remote: addr(b), Send: true, Receive: true}, nil)
	b.SetSource(NewToneSource(Cadence{{F1: 1000}}))
	b.Start(Silence, Params{PayloadType: PayloadPCMA, Remote: addr(a), Send: true, Receive: true}, nil)
	eventually(t, "audio both ways", func() bool { return a.Stats().PacketsReceived > 25 })
	got, err := a.StopRecording()
	if err != nil || got != path {
		t.Fatalf("StopRecording = %q, %v", got, err)
	}
	left, right, rate, err := ReadStereoWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	if rate != 8000 || len(left) < 20*FrameSamples || len(left)%FrameSamples != 0 {
		t.Fatalf("rate %d, %d samples", rate, len(left))
	}
	tail := func(s []int16) []int16 { return s[len(s)-8*FrameSamples:] }
	if p := goertzel(tail(left), 400); p < 0.01 {
		t.Errorf("left: 400 Hz power %.4f", p)
	}
	if p := goertzel(tail(right), 1000); p < 0.01 {
		t.Errorf("right: 1000 Hz power %.4f", p)
	}
	if p := goertzel(tail(right), 400); p > 0.001 {
		t.Errorf("right hears our own tone: %.4f", p)
	}
	if s := a.Stats(); s.Recording != path || s.RecordingActive {
		t.Errorf("stats recording %q active %v", s.Recording, s.RecordingActive)
	}
}

// The local tone goes to the playout, never onto the wire.
func TestLocalToneIsNotSent(t *testing.T) {
	a, b := pair(t, Silence, Silence)
	var mu sync.Mutex
	var heard []int16
	a.SetPlayout(func(pcm []int16) {
		mu.Lock()
		heard = append(heard, pcm...)
		mu.Unlock()
	})
	cw, _ := SchemeTone("USA", ToneCallWaiting)
	a.SetLocalTone(NewToneSource(cw))
	var sent []int16
	b.SetPlayout(func(pcm []int16) {
		mu.Lock()
		sent = append(sent, pcm...)
		mu.Unlock()
	})
	a.Start(Silence, Params{PayloadType: PayloadPCMU, Remote: addr(b), Send: true, Receive: true}, nil)
	b.Start(Silence, Params{PayloadType: PayloadPCMU, Remote: addr(a), Receive: true}, nil)
	eventually(t, "300 ms heard", func() bool { mu.Lock(); defer mu.Unlock(); return len(heard) >= 2400 && len(sent) >= 2400 })
	mu.Lock()
	defer mu.Unlock()
	if p := goertzel(heard[:2400], 440); p < 0.01 {
		t.Errorf("call-waiting tone not heard: %.4f", p)
	}
	if p := goertzel(sent[len(sent)-2400:], 440); p > 0.0001 {
		t.Errorf("call-waiting tone was sent: %.4f", p)
	}
}
