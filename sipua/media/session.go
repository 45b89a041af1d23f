package media

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// Mode is what a session sends.
type Mode uint8

const (
	Tone    Mode = iota // a 400 Hz tone, every 20 ms
	Silence             // silence frames, every 20 ms
	Echo                // each received audio payload, sent back to its sender
)

func (m Mode) String() string {
	switch m {
	case Silence:
		return "silence"
	case Echo:
		return "echo"
	}
	return "tone"
}

// Params are the negotiated media parameters of a call.
type Params struct {
	PayloadType uint8        // PayloadPCMU or PayloadPCMA
	DTMFType    uint8        // telephone-event payload type; 0 when not negotiated
	Remote      *net.UDPAddr // where to send; nil: learn from the first packet
	Send        bool         // the negotiated direction lets us send
	Receive     bool         // the negotiated direction lets us receive
}

// Stats counts a session's packets.
type Stats struct {
	PacketsSent     uint64
	PacketsReceived uint64 // valid RTP of a negotiated payload type
	PacketsDropped  uint64 // not RTP version 2, malformed, or unknown payload type
	DigitsSent      uint64
	DigitsReceived  uint64
}

// FrameInterval is the packetization time.
const FrameInterval = 20 * time.Millisecond

// ErrNoDTMF reports that the remote end did not offer telephone-event.
var ErrNoDTMF = errors.New("media: telephone-event not negotiated")

// Session is one call's RTP stream: a UDP socket, a sender and a receiver.
type Session struct {
	conn   *net.UDPConn
	mode   Mode
	onDTMF func(digit byte)

	sent, received, dropped, digitsSent, digitsReceived atomic.Uint64

	mu      sync.Mutex
	params  Params
	frames  Frames
	muted   bool
	held    bool
	ssrc    uint32
	seq     uint16
	ts      uint32
	dtmf    []dtmfStep
	eventTS uint32
	lastEnd struct {
		ts  uint32
		set bool
	}
	started bool

	stop chan struct{}
	wg   sync.WaitGroup
}

// Listen binds a session's socket on ip with a port the OS picks, so the
// port can go into SDP before the session starts.
func Listen(ip string) (*Session, error) {
	addr := &net.UDPAddr{IP: net.ParseIP(ip)}
	if ip != "" && addr.IP == nil {
		return nil, errors.New("media: bad IP " + ip)
	}
	conn, err := net.ListenUDP("udp", addr)
	if err != nil {
		return nil, err
	}
	var b [10]byte
	_, _ = rand.Read(b[:])
	return &Session{
		conn: conn,
		ssrc: binary.BigEndian.Uint32(b[0:4]),
		seq:  binary.BigEndian.Uint16(b[4:6]),
		ts:   binary.BigEndian.Uint32(b[6:10]),
		stop: make(chan struct{}),
	}, nil
}

// Port is the local RTP port.
func (s *Session) Port() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }

// Start begins sending and receiving. onDTMF (may be nil) is called from
// the receiver for every digit received, once per event.
func (s *Session) Start(mode Mode, p Params, onDTMF func(digit byte)) {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return
	}
	s.started = true
	s.mode = mode
	s.onDTMF = onDTMF
	s.setParamsLocked(p)
	s.mu.Unlock()

	s.wg.Add(1)
	go s.receive()
	if mode != Echo {
		s.wg.Add(1)
		go s.send()
	}
}

// Update applies renegotiated parameters (a re-INVITE).
func (s *Session) Update(p Params) {
	s.mu.Lock()
	s.setParamsLocked(p)
	s.mu.Unlock()
}

func (s *Session) setParamsLocked(p Params) {
	if p.Remote == nil {
		p.Remote = s.params.Remote // keep what was learned
	}
	if p.PayloadType != s.params.PayloadType || s.frames.Tone == nil {
		s.frames = FramesFor(p.PayloadType)
	}
	s.params = p
}

// SetMuted makes the sender send silence instead of its audio.
func (s *Session) SetMuted(muted bool) {
	s.mu.Lock()
	s.muted = muted
	s.mu.Unlock()
}

// SetHeld stops (or restarts) sending altogether.
func (s *Session) SetHeld(held bool) {
	s.mu.Lock()
	s.held = held
	s.mu.Unlock()
}

// SendDTMF queues digits as RFC 4733 events. Unknown characters are
// skipped.
func (s *Session) SendDTMF(digits string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.params.DTMFType == 0 {
		return ErrNoDTMF
	}
	for i := range len(digits) {
		if code, ok := eventCode(digits[i]); ok {
			s.dtmf = append(s.dtmf, dtmfSteps(code)...)
		}
	}
	return nil
}

// Stats returns the packet counters.
func (s *Session) Stats() Stats {
	return Stats{
		PacketsSent:     s.sent.Load(),
		PacketsReceived: s.received.Load(),
		PacketsDropped:  s.dropped.Load(),
		DigitsSent:      s.digitsSent.Load(),
		DigitsReceived:  s.digitsReceived.Load(),
	}
}

// Close stops the session and releases its socket. It is safe to call
// more than once.
func (s *Session) Close() error {
	s.mu.Lock()
	select {
	case <-s.stop:
		s.mu.Unlock()
		return nil
	default:
	}
	close(s.stop)
	s.mu.Unlock()
	err := s.conn.Close()
	s.wg.Wait()
	return err
}

func (s *Session) send() {
	defer s.wg.Done()
	t := time.NewTicker(FrameInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sendFrame()
		}
	}
}

// sendFrame sends what one 20 ms slot holds: a DTMF packet or audio.
func (s *Session) sendFrame() {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.ts
	s.ts += FrameSamples
	if !s.params.Send || s.held || s.params.Remote == nil {
		return
	}
	if len(s.dtmf) > 0 {
		step := s.dtmf[0]
		s.dtmf = s.dtmf[1:]
		if !step.pause {
			if step.first {
				s.eventTS = ts
				s.digitsSent.Add(1)
			}
			s.writeLocked(s.params.DTMFType, step.marker, s.eventTS, step.payload, s.params.Remote)
			return
		}
	}
	payload := s.frames.Tone
	if s.mode == Silence || s.muted {
		payload = s.frames.Silence
	}
	s.writeLocked(s.params.PayloadType, false, ts, payload, s.params.Remote)
}

func (s *Session) writeLocked(pt uint8, marker bool, ts uint32, payload []byte, to *net.UDPAddr) {
	p := rtp.Packet{
		Header: rtp.Header{
			Version:        2,
			Marker:         marker,
			PayloadType:    pt,
			SequenceNumber: s.seq,
			Timestamp:      ts,
			SSRC:           s.ssrc,
		},
		Payload: payload,
	}
	s.seq++
	b, err := p.Marshal()
	if err != nil {
		return
	}
	if _, err := s.conn.WriteToUDP(b, to); err == nil {
		s.sent.Add(1)
	}
}

func (s *Session) receive() {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-s.stop:
				return
			default:
				continue // ICMP errors and the like: keep reading
			}
		}
		s.handlePacket(buf[:n], from)
	}
}

// handlePacket checks one datagram and acts on it. pion/rtp does not
// check the version, so we do.
func (s *Session) handlePacket(b []byte, from *net.UDPAddr) {
	if len(b) < 12 || b[0]>>6 != 2 {
		s.dropped.Add(1)
		return
	}
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		s.dropped.Add(1)
		return
	}
	s.mu.Lock()
	params := s.params
	if params.Remote == nil {
		s.params.Remote = from // symmetric RTP: answer where it came from
	}
	s.mu.Unlock()

	switch {
	case p.PayloadType == params.PayloadType:
		s.received.Add(1)
		if s.mode == Echo {
			s.echo(p.Payload, from)
		}
	case params.DTMFType != 0 && p.PayloadType == params.DTMFType:
		s.received.Add(1)
		s.receiveEvent(p)
	default:
		s.dropped.Add(1)
	}
}

func (s *Session) echo(payload []byte, to *net.UDPAddr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.ts
	s.ts += uint32(len(payload)) // G.711: one byte per sample
	if !s.params.Send || s.held {
		return
	}
	if s.muted {
		silence := s.frames.Silence[:0:0]
		for range payload {
			silence = append(silence, s.frames.Silence[0])
		}
		payload = silence
	}
	s.writeLocked(s.params.PayloadType, false, ts, payload, to)
}

// receiveEvent reports a digit once, on its first end packet (receivers
// key on the End bit; the end packet comes three times).
func (s *Session) receiveEvent(p rtp.Packet) {
	ev, ok := parseTelephoneEvent(p.Payload)
	if !ok || !ev.End {
		return
	}
	s.mu.Lock()
	dup := s.lastEnd.set && s.lastEnd.ts == p.Timestamp
	s.lastEnd.ts, s.lastEnd.set = p.Timestamp, true
	onDTMF := s.onDTMF
	s.mu.Unlock()
	if dup {
		return
	}
	digit, ok := eventDigit(ev.Event)
	if !ok {
		return
	}
	s.digitsReceived.Add(1)
	if onDTMF != nil {
		onDTMF(digit)
	}
}
