package media

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"phonesim/trace"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// Mode is what a session sends.
type Mode uint8

const (
	Tone    Mode = iota // a 400 Hz tone, every 20 ms (unless a Source is set)
	Silence             // silence frames, every 20 ms (unless a Source is set)
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
	PayloadType uint8        // the codec we send: PayloadPCMU or PayloadPCMA
	Accept      []uint8      // more audio payload types we take (the other codecs the SDP named)
	DTMFType    uint8        // telephone-event payload type; 0 when not negotiated
	Remote      *net.UDPAddr // where to send RTP; nil: learn from the first packet
	RemoteRTCP  *net.UDPAddr // where to send RTCP; nil: Remote's port + 1
	Send        bool         // the negotiated direction lets us send
	Receive     bool         // the negotiated direction lets us receive
}

// Drops counts received packets thrown away, by reason.
type Drops struct {
	Version     uint64 `json:"version"`      // not RTP version 2
	Malformed   uint64 `json:"malformed"`    // too short, or headers that do not add up
	PayloadType uint64 `json:"payload_type"` // a payload type not negotiated
	Source      uint64 `json:"source"`       // not from the latched (or SDP-named) address
}

func (d Drops) total() uint64 { return d.Version + d.Malformed + d.PayloadType + d.Source }

// Stats is a session's RTP and RTCP statistics (see docs/media.md).
type Stats struct {
	Codec           string  `json:"codec"`
	PacketsSent     uint64  `json:"packets_sent"`
	BytesSent       uint64  `json:"bytes_sent"` // RTP payload bytes (RTCP's octet count)
	PacketsReceived uint64  `json:"packets_received"`
	BytesReceived   uint64  `json:"bytes_received"`
	PacketsLost     int64   `json:"packets_lost"` // RFC 3550: expected − received (negative with duplicates)
	Late            uint64  `json:"late"`         // came after their playout time: dropped by the jitter buffer
	Duplicates      uint64  `json:"duplicates"`
	Concealed       uint64  `json:"concealed"`    // 20 ms slots played as silence for a missing packet
	LossPercent     float64 `json:"loss_percent"` // lost and late, of the expected
	JitterMs        float64 `json:"jitter_ms"`    // RFC 3550 interarrival jitter
	MOS             float64 `json:"mos"`          // E-model estimate for the received audio; 0 before any
	PacketsDropped  uint64  `json:"packets_dropped"`
	Dropped         Drops   `json:"dropped"`
	DigitsSent      uint64  `json:"digits_sent"`
	DigitsReceived  uint64  `json:"digits_received"`

	RTCPSent          uint64  `json:"rtcp_sent"`
	RTCPReceived      uint64  `json:"rtcp_received"`
	RTCPDropped       uint64  `json:"rtcp_dropped"`
	RemoteReport      bool    `json:"remote_report"` // the peer reported on our stream (the fields below)
	RemoteLossPercent float64 `json:"remote_loss_percent"`
	RemoteLost        int64   `json:"remote_lost"`
	RemoteJitterMs    float64 `json:"remote_jitter_ms"`
	RTTMs             float64 `json:"rtt_ms"` // 0: not known (the peer sent no SR or no LSR)

	Recording        string `json:"recording,omitempty"` // the file of the current or last recording
	RecordingActive  bool   `json:"recording_active"`
	RecordingDropped uint64 `json:"recording_dropped,omitempty"`
}

// FrameInterval is the packetization time.
const FrameInterval = 20 * time.Millisecond

var zeroFrame [FrameSamples]int16

// ErrNoDTMF reports that the remote end did not offer telephone-event.
var ErrNoDTMF = errors.New("media: telephone-event not negotiated")

// Session is one call's RTP stream: an RTP socket and the RTCP one on the
// next port, a receiver goroutine for each, and a place on the pacer's
// 20 ms grid for sending, playout, recording and RTCP.
type Session struct {
	conn, rtcpConn *net.UDPConn
	onDTMF         func(digit byte)
	onClose        func(Stats)

	sent, sentBytes, received, receivedBytes atomic.Uint64
	digitsSent, digitsReceived               atomic.Uint64
	rtcpSent, rtcpReceived, rtcpDropped      atomic.Uint64

	mu      sync.Mutex
	mode    Mode
	params  Params
	remote  netip.AddrPort // params.Remote, or the latched source when SDP named none
	expect  netip.Addr     // the IP the SDP named; invalid: any
	latched netip.AddrPort // the first valid packet's source; invalid: not yet
	codec   Codec
	source  Source
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
	started, closed bool
	pace            *paceEntry
	epoch           time.Time // arrival times in RTP units count from here

	drops  Drops
	rx     rxStats
	jb     jitterBuffer
	pcmq   []int16 // decoded samples not yet played
	echoed []int16 // echo mode: decoded samples sent since the last tick (for the recording)

	playout   func(pcm []int16)
	localTone Source
	rec       *recorder
	recPath   string
	recDrops  uint64

	cname       string
	rtcpEvery   time.Duration
	nextRTCP    time.Time
	sentAtSR    uint64
	lastSRMid   uint32
	lastSRAt    time.Time
	remoteBlock reportBlock
	haveRemote  bool
	rtt         time.Duration

	buf     *buffers // from bufferPool, back to it when Close is done
	rtcpBuf []byte

	stop chan struct{}
	wg   sync.WaitGroup
}

// buffers is a session's fixed scratch space. It is pooled: a fleet opens
// and closes sessions by the hundred a second, and each would otherwise
// allocate these 5 kB anew.
type buffers struct {
	sendPCM, playPCM [FrameSamples]int16
	payload          [2 * FrameSamples]byte
	pkt              [1500]byte
	rtpIn, rtcpIn    [1500]byte // the readers'
}

var bufferPool = sync.Pool{New: func() any { return new(buffers) }}

// Listen binds a session's sockets on ip: RTP on an even port the OS
// picks and RTCP on the next, so the port can go into SDP before the
// session starts.
func Listen(ip string) (*Session, error) {
	addr := net.ParseIP(ip)
	if ip != "" && addr == nil {
		return nil, errors.New("media: bad IP " + ip)
	}
	conn, rtcpConn, err := listenPair(addr)
	if err != nil {
		return nil, err
	}
	var b [14]byte
	_, _ = rand.Read(b[:])
	return &Session{
		conn:      conn,
		rtcpConn:  rtcpConn,
		ssrc:      binary.BigEndian.Uint32(b[0:4]),
		seq:       binary.BigEndian.Uint16(b[4:6]),
		ts:        binary.BigEndian.Uint32(b[6:10]),
		cname:     "phonesim-" + hex.EncodeToString(b[10:14]),
		rtcpEvery: RTCPInterval,
		stop:      make(chan struct{}),
		buf:       bufferPool.Get().(*buffers),
	}, nil
}

// listenPair binds RTP on an even port and RTCP on the one above it
// (RFC 3550 §11), trying ports the OS hands out.
func listenPair(ip net.IP) (rtpConn, rtcpConn *net.UDPConn, err error) {
	for range 64 {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
		if err != nil {
			return nil, nil, err
		}
		p := c.LocalAddr().(*net.UDPAddr).Port
		if p%2 == 1 { // odd: it can be the RTCP port of p−1
			if c2, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: p - 1}); err == nil {
				return c2, c, nil
			}
		} else if c2, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: p + 1}); err == nil {
			return c, c2, nil
		}
		c.Close()
	}
	return nil, nil, errors.New("media: no free RTP/RTCP port pair")
}

// Port is the local RTP port; RTCP is on Port()+1.
func (s *Session) Port() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }

// SetSource sets the microphone (nil: the mode's tone or silence).
func (s *Session) SetSource(src Source) {
	s.mu.Lock()
	s.source = src
	s.mu.Unlock()
}

// SetPlayout sets where the 20 ms frames the user would hear go: the
// received audio after the jitter buffer with the local tone mixed in.
// fn runs on the pacer's goroutine and must return at once; nil: nowhere
// (phonesim has no loudspeaker; a board's audio output hooks in here).
func (s *Session) SetPlayout(fn func(pcm []int16)) {
	s.mu.Lock()
	s.playout = fn
	s.mu.Unlock()
}

// SetLocalTone mixes a tone into the playout (call waiting); nil stops
// it. The tone is heard locally only: it is never sent.
func (s *Session) SetLocalTone(src Source) {
	s.mu.Lock()
	s.localTone = src
	s.mu.Unlock()
}

// OnClose sets a function Close calls with the final statistics of a
// session that was started.
func (s *Session) OnClose(fn func(Stats)) {
	s.mu.Lock()
	s.onClose = fn
	s.mu.Unlock()
}

// Start begins sending and receiving. onDTMF (may be nil) is called from
// the receiver for every digit received, once per event.
func (s *Session) Start(mode Mode, p Params, onDTMF func(digit byte)) {
	s.mu.Lock()
	if s.started || s.closed {
		s.mu.Unlock()
		return
	}
	s.started = true
	s.mode = mode
	s.onDTMF = onDTMF
	if s.source == nil {
		if mode == Silence {
			s.source = SilenceSource{}
		} else {
			s.source = &TestTone{}
		}
	}
	s.setParamsLocked(p)
	s.epoch = time.Now()
	s.nextRTCP = s.epoch.Add(s.rtcpEvery)
	// Added under the lock: a Close that finds the session started waits
	// for the readers, and only then gives their buffers back.
	s.wg.Add(2)
	s.mu.Unlock()

	go s.receive()
	go s.receiveRTCP()
	e := thePacer.add(s)
	s.mu.Lock()
	s.pace = e
	closed := s.closed
	s.mu.Unlock()
	if closed {
		thePacer.remove(e)
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
		p.Remote = s.params.Remote // keep what the SDP said before
	}
	if c, ok := CodecByType(p.PayloadType); ok {
		s.codec = c
	} else {
		s.codec = PCMU
	}
	old := s.params.Remote
	s.params = p
	if p.Remote == nil {
		s.expect = netip.Addr{}
		s.remote = s.latched
		return
	}
	ap := p.Remote.AddrPort()
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if old == nil || !old.IP.Equal(p.Remote.IP) || old.Port != p.Remote.Port {
		s.latched = netip.AddrPort{} // a new address: latch again
	}
	s.expect, s.remote = ap.Addr(), ap
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

// StartRecording records both directions to path (a stereo WAV file,
// left sent, right received) until StopRecording or Close.
func (s *Session) StartRecording(path string) error {
	s.mu.Lock()
	busy, closed := s.rec != nil, s.closed
	s.mu.Unlock()
	if closed {
		return errors.New("media: session closed")
	}
	if busy {
		return errors.New("media: already recording")
	}
	r, err := startRecorder(path)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.rec != nil || s.closed {
		s.mu.Unlock()
		r.stop()
		return errors.New("media: already recording")
	}
	s.rec, s.recPath = r, path
	s.mu.Unlock()
	return nil
}

// StopRecording ends the recording and returns its file. A recording
// that got no audio is removed and reported as an error.
func (s *Session) StopRecording() (string, error) {
	s.mu.Lock()
	r := s.rec
	s.rec = nil
	s.mu.Unlock()
	if r == nil {
		return "", errors.New("media: not recording")
	}
	err := r.stop()
	s.mu.Lock()
	s.recDrops += r.dropped.Load()
	s.mu.Unlock()
	return r.path, err
}

// Stats returns the statistics so far.
func (s *Session) Stats() Stats {
	st := Stats{
		PacketsSent:     s.sent.Load(),
		BytesSent:       s.sentBytes.Load(),
		PacketsReceived: s.received.Load(),
		BytesReceived:   s.receivedBytes.Load(),
		DigitsSent:      s.digitsSent.Load(),
		DigitsReceived:  s.digitsReceived.Load(),
		RTCPSent:        s.rtcpSent.Load(),
		RTCPReceived:    s.rtcpReceived.Load(),
		RTCPDropped:     s.rtcpDropped.Load(),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st.Codec = s.codec.Name
	st.Dropped = s.drops
	st.PacketsDropped = s.drops.total()
	st.Late, st.Duplicates, st.Concealed = s.jb.late, s.jb.duplicate, s.jb.concealed
	st.PacketsLost = s.rx.lost()
	st.JitterMs = s.rx.jitter / SampleRate * 1000
	if exp := s.rx.expected(); exp > 0 {
		lost := max(st.PacketsLost, 0) + int64(st.Late)
		st.LossPercent = min(100, 100*float64(lost)/float64(exp))
		st.MOS = MOS(st.LossPercent, s.rtt/2+JitterDepth+FrameInterval)
	}
	if s.haveRemote {
		st.RemoteReport = true
		st.RemoteLossPercent = float64(s.remoteBlock.fractionLost) * 100 / 256
		st.RemoteLost = int64(s.remoteBlock.cumLost)
		st.RemoteJitterMs = float64(s.remoteBlock.jitter) / SampleRate * 1000
	}
	st.RTTMs = float64(s.rtt) / float64(time.Millisecond)
	st.Recording, st.RecordingActive = s.recPath, s.rec != nil
	st.RecordingDropped = s.recDrops
	if s.rec != nil {
		st.RecordingDropped += s.rec.dropped.Load()
	}
	return st
}

// Close stops the session and releases its sockets; a recording is
// finished, an RTCP BYE sent. It is safe to call more than once.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	pace, rec, started, onClose := s.pace, s.rec, s.started, s.onClose
	s.rec = nil
	if started {
		s.sendRTCPLocked(time.Now(), true)
	}
	s.mu.Unlock()
	if pace != nil {
		thePacer.remove(pace)
	}
	err := s.conn.Close()
	s.rtcpConn.Close()
	s.wg.Wait()
	if rec != nil {
		rec.stop()
		s.mu.Lock()
		s.recDrops += rec.dropped.Load()
		s.mu.Unlock()
	}
	if started && onClose != nil {
		onClose(s.Stats())
	}
	// Nothing touches the buffers now: the readers are gone, and tick and
	// the senders check closed under the lock.
	s.mu.Lock()
	buf := s.buf
	s.buf = nil
	s.mu.Unlock()
	bufferPool.Put(buf)
	return err
}

// tick is one 20 ms slot at deadline: send a frame (audio or DTMF), play
// one out of the jitter buffer, record both, report by RTCP when due.
// skipped counts slots the pacer could not serve (the timestamp moves on
// over them). It tells when the frame went out, if one did.
func (s *Session) tick(deadline time.Time, skipped int) (sentAt time.Time, sent bool) {
	s.mu.Lock()
	if s.closed || !s.started {
		s.mu.Unlock()
		return time.Time{}, false
	}
	sendPCM := s.buf.sendPCM[:]
	clear(sendPCM)
	if s.mode == Echo {
		n := copy(sendPCM, s.echoed)
		s.echoed = s.echoed[:copy(s.echoed, s.echoed[n:])]
	} else {
		s.ts += uint32(skipped) * FrameSamples
		ts := s.ts
		s.ts += FrameSamples
		if s.params.Send && !s.held && s.remote.IsValid() {
			sentAt, sent = s.sendFrameLocked(ts, sendPCM)
		}
	}

	play := s.playLocked(deadline)
	if s.rec != nil {
		s.rec.write(sendPCM, play)
	}
	if !deadline.Before(s.nextRTCP) {
		s.sendRTCPLocked(deadline, false)
		s.nextRTCP = s.nextRTCP.Add(s.rtcpEvery)
	}
	playout := s.playout
	s.mu.Unlock()
	if playout != nil {
		playout(play)
	}
	return sentAt, sent
}

// sendFrameLocked sends what one slot holds: a DTMF packet, or 20 ms of
// the source (pcm gets the samples sent).
func (s *Session) sendFrameLocked(ts uint32, pcm []int16) (time.Time, bool) {
	if len(s.dtmf) > 0 {
		step := s.dtmf[0]
		s.dtmf = s.dtmf[1:]
		if !step.pause {
			if step.first {
				s.eventTS = ts
				s.digitsSent.Add(1)
			}
			return s.writeLocked(s.params.DTMFType, step.marker, s.eventTS, step.payload, s.remote)
		}
	}
	if !s.muted {
		s.source.Read(pcm)
	}
	payload := s.codec.Encode(s.buf.payload[:0], pcm)
	return s.writeLocked(s.codec.PayloadType, false, ts, payload, s.remote)
}

func (s *Session) writeLocked(pt uint8, marker bool, ts uint32, payload []byte, to netip.AddrPort) (time.Time, bool) {
	h := rtp.Header{
		Version:        2,
		Marker:         marker,
		PayloadType:    pt,
		SequenceNumber: s.seq,
		Timestamp:      ts,
		SSRC:           s.ssrc,
	}
	s.seq++
	n, err := h.MarshalTo(s.buf.pkt[:])
	if err != nil || n+len(payload) > len(s.buf.pkt) {
		return time.Time{}, false
	}
	n += copy(s.buf.pkt[n:], payload)
	if _, err := s.conn.WriteToUDPAddrPort(s.buf.pkt[:n], to); err != nil {
		return time.Time{}, false
	}
	trace.RTP(trace.Sent, s.Port(), to, s.buf.pkt[:n]) // --pcap: free when nothing records
	s.sent.Add(1)
	s.sentBytes.Add(uint64(len(payload)))
	return time.Now(), true
}

// playLocked takes the next 20 ms out of the jitter buffer, decoded,
// with the local tone mixed in.
func (s *Session) playLocked(now time.Time) []int16 {
	out := s.buf.playPCM[:]
	for tries := 0; len(s.pcmq) < FrameSamples && tries < 4; tries++ {
		e, r := s.jb.pop(now)
		if r == popBuffering || r == popUnderrun {
			break
		}
		if r == popLost || !e.audio {
			s.pcmq = append(s.pcmq, zeroFrame[:]...)
			continue
		}
		c, _ := CodecByType(e.pt)
		s.pcmq = c.Decode(s.pcmq, e.payload)
	}
	n := copy(out, s.pcmq)
	clear(out[n:])
	s.pcmq = s.pcmq[:copy(s.pcmq, s.pcmq[n:])]
	if s.localTone != nil {
		var tone [FrameSamples]int16
		s.localTone.Read(tone[:])
		for i := range out {
			out[i] = clip16(float64(out[i]) + float64(tone[i]))
		}
	}
	return out
}

// readLoop reads datagrams from conn (the RTP or the RTCP socket, whose
// port is port) and hands each to handle, until the session stops.
func (s *Session) readLoop(conn *net.UDPConn, port int, buf []byte, handle func(b []byte, from netip.AddrPort)) {
	defer s.wg.Done()
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
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
		trace.RTP(trace.Received, port, from, buf[:n])
		handle(buf[:n], from)
	}
}

func (s *Session) receive() {
	s.readLoop(s.conn, s.Port(), s.buf.rtpIn[:], func(b []byte, from netip.AddrPort) { s.handlePacket(b, from, time.Now()) })
}

// handlePacket checks one datagram and acts on it. pion/rtp does not
// check the version, so we do. The latching rule: before the first valid
// packet, a packet must come from the IP the SDP named (any port; any
// address when it named none); the first valid one (RTP version 2, a
// negotiated payload type) latches its source address and port, and from
// then on only that address and port are taken. New SDP with another
// address latches again.
func (s *Session) handlePacket(b []byte, from netip.AddrPort, now time.Time) {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	s.mu.Lock()
	if len(b) < 12 {
		s.drops.Malformed++
		s.mu.Unlock()
		return
	}
	if b[0]>>6 != 2 {
		s.drops.Version++
		s.mu.Unlock()
		return
	}
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		s.drops.Malformed++
		s.mu.Unlock()
		return
	}
	switch {
	case s.latched.IsValid() && from != s.latched,
		!s.latched.IsValid() && s.expect.IsValid() && from.Addr() != s.expect:
		s.drops.Source++
		s.mu.Unlock()
		return
	}
	audio := s.acceptsLocked(p.PayloadType)
	dtmf := s.params.DTMFType != 0 && p.PayloadType == s.params.DTMFType
	if !audio && !dtmf {
		s.drops.PayloadType++
		s.mu.Unlock()
		return
	}
	if !s.latched.IsValid() {
		s.latched = from
		if !s.remote.IsValid() {
			s.remote = from // symmetric RTP: answer where it came from
		}
	}
	s.received.Add(1)
	s.receivedBytes.Add(uint64(len(p.Payload)))
	if s.rx.updateSeq(p.SSRC, p.SequenceNumber) && audio {
		arrival := int64(now.Sub(s.epoch) * SampleRate / time.Second)
		s.rx.updateJitter(arrival, p.Timestamp)
	}
	if s.mode == Echo {
		if audio {
			s.echoLocked(p, from)
		}
	} else {
		s.jb.push(p.SequenceNumber, p.PayloadType, audio, p.Payload, now)
	}
	s.mu.Unlock()
	if dtmf {
		s.receiveEvent(p)
	}
}

func (s *Session) acceptsLocked(pt uint8) bool {
	if _, ok := CodecByType(pt); !ok {
		return false
	}
	if pt == s.params.PayloadType {
		return true
	}
	for _, a := range s.params.Accept {
		if a == pt {
			return true
		}
	}
	return false
}

// echoLocked sends a received payload back at once, as it came.
func (s *Session) echoLocked(p rtp.Packet, to netip.AddrPort) {
	ts := s.ts
	s.ts += uint32(len(p.Payload)) // G.711: one byte per sample
	if !s.params.Send || s.held {
		return
	}
	payload := p.Payload
	c, _ := CodecByType(p.PayloadType)
	if s.muted {
		payload = c.Encode(s.buf.payload[:0], zeroFrame[:min(len(payload), FrameSamples)])
	}
	if len(s.echoed) < 3*FrameSamples {
		s.echoed = c.Decode(s.echoed, payload)
	}
	s.writeLocked(p.PayloadType, false, ts, payload, to)
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

// rtcpDestLocked is where our RTCP goes: the SDP's a=rtcp, else the RTP
// address's port + 1.
func (s *Session) rtcpDestLocked() (netip.AddrPort, bool) {
	if r := s.params.RemoteRTCP; r != nil {
		ap := r.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
	}
	if !s.remote.IsValid() {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(s.remote.Addr(), s.remote.Port()+1), true
}

// sendRTCPLocked sends an SR (when we sent RTP since the last report) or
// an RR, with a report block on what we receive, and our CNAME.
func (s *Session) sendRTCPLocked(now time.Time, bye bool) {
	to, ok := s.rtcpDestLocked()
	if !ok {
		return
	}
	var si *senderInfo
	if sent := s.sent.Load(); sent > s.sentAtSR {
		s.sentAtSR = sent
		si = &senderInfo{ntp: ntpTime(now), rtpTS: s.ts, packets: uint32(sent), octets: uint32(s.sentBytes.Load())}
	}
	var rb *reportBlock
	if s.rx.init {
		b := reportBlock{
			ssrc:         s.rx.ssrc,
			fractionLost: s.rx.fractionLost(),
			cumLost:      int32(s.rx.lost()),
			extMaxSeq:    s.rx.extendedMax(),
			jitter:       uint32(s.rx.jitter),
			lsr:          s.lastSRMid,
		}
		if !s.lastSRAt.IsZero() {
			b.dlsr = uint32(now.Sub(s.lastSRAt) * 65536 / time.Second)
		}
		rb = &b
	}
	s.rtcpBuf = appendReport(s.rtcpBuf[:0], s.ssrc, si, rb, s.cname, bye)
	if _, err := s.rtcpConn.WriteToUDPAddrPort(s.rtcpBuf, to); err == nil {
		trace.RTP(trace.Sent, s.Port()+1, to, s.rtcpBuf)
		s.rtcpSent.Add(1)
	}
}

func (s *Session) receiveRTCP() {
	s.readLoop(s.rtcpConn, s.Port()+1, s.buf.rtcpIn[:], func(b []byte, from netip.AddrPort) { s.handleRTCP(b, from.Addr().Unmap(), time.Now()) })
}

// handleRTCP takes a compound packet from the peer: only from the IP
// its RTP is latched to (or the SDP named).
func (s *Session) handleRTCP(b []byte, from netip.Addr, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := s.expect
	if s.latched.IsValid() {
		want = s.latched.Addr()
	}
	if !want.IsValid() || from != want {
		s.rtcpDropped.Add(1)
		return
	}
	info, ok := parseRTCP(b, s.ssrc)
	if !ok {
		s.rtcpDropped.Add(1)
		return
	}
	s.rtcpReceived.Add(1)
	if info.isSR {
		s.lastSRMid = uint32(info.srNTP >> 16)
		s.lastSRAt = now
	}
	if blk := info.block; blk != nil {
		s.remoteBlock, s.haveRemote = *blk, true
		if blk.lsr != 0 {
			if rtt := ntpMiddle(now) - blk.lsr - blk.dlsr; int32(rtt) >= 0 {
				s.rtt = time.Duration(rtt) * time.Second / 65536
			}
		}
	}
}
