// Package trace records a phone's SIP and RTP traffic for diagnosis: as
// text in the form "ngrep -qt -W byline" prints (--sip-trace), as a pcap
// file Wireshark, tshark and sngrep read (--pcap), and as the last calls'
// SIP message flow kept in memory for the web ladder page (/ladder.htm).
//
// A Recorder is one phone's: the SIP adapter hands it every SIP message
// (UDP datagram) or piece of stream (TCP) that goes over the phone's
// sockets, both ways, and media sessions hand every RTP packet to RTP,
// which passes it to the Recorder whose SDP named the local port. The
// Recorder copies what it is given; callers may reuse their buffers.
//
// This package imports nothing of the phone's, so any package may call
// it (sipua/media calls RTP).
package trace

import (
	"bytes"
	"errors"
	"hash/fnv"
	"io"
	"net/netip"
	"os"
	"sync"
	"time"
)

// Direction is which way a packet went, seen from the phone.
type Direction uint8

const (
	Received Direction = iota + 1 // from the other side to the phone
	Sent                          // from the phone to the other side
)

func (d Direction) String() string {
	switch d {
	case Received:
		return "received"
	case Sent:
		return "sent"
	}
	return "?"
}

// Packet is what crossed one of the phone's sockets: a UDP datagram, or
// what one read or write of a TCP connection carried.
type Packet struct {
	Time      time.Time
	Dir       Direction
	Transport string         // "UDP" or "TCP"
	Local     netip.AddrPort // the phone's end
	Remote    netip.AddrPort // the other end
	Data      []byte
}

// Src is where the packet came from.
func (p Packet) Src() netip.AddrPort {
	if p.Dir == Sent {
		return p.Local
	}
	return p.Remote
}

// Dst is where the packet went.
func (p Packet) Dst() netip.AddrPort {
	if p.Dir == Sent {
		return p.Remote
	}
	return p.Local
}

// Options configure a Recorder.
type Options struct {
	Text io.Writer // SIP messages as ngrep text (--sip-trace); nil: none
	Pcap io.Writer // SIP and RTP as a pcap file (--pcap); nil: none

	// Calls is how many calls (SIP Call-IDs that began with an INVITE)
	// the ladder keeps, 20 when 0; negative keeps none. Bytes caps the
	// message text it keeps, 1 MiB when 0.
	Calls, Bytes int

	// Logf hears of the first write error of each output (the output is
	// then dropped); may be nil.
	Logf func(format string, args ...any)
}

// Defaults of Options.
const (
	DefaultCalls = 20
	DefaultBytes = 1 << 20
)

// maxStreams bounds the TCP connections a Recorder follows; the least
// recently used is forgotten first (a later segment of it starts anew).
const maxStreams = 64

// Recorder is one phone's trace: its text and pcap outputs and its ladder.
// Its methods are safe from any goroutine.
type Recorder struct {
	mu      sync.Mutex
	logf    func(format string, args ...any)
	text    io.Writer
	pcap    *pcapWriter
	frame   uint64 // messages written as text, ngrep's "#N"
	streams map[streamKey]*stream
	tick    uint64 // stream use clock, for forgetting the oldest
	ladder  *ladder
	rtp     rtpPorts
	closed  bool
	last    time.Time // the last packet's time recorded
	order   orderer   // packets waiting for what they answer
}

// NewRecorder makes a Recorder. With a Pcap writer, the pcap file header
// is written at once (an error here is the writer's).
func NewRecorder(opt Options) (*Recorder, error) {
	r := &Recorder{logf: opt.Logf, text: opt.Text, streams: map[streamKey]*stream{}}
	if opt.Pcap != nil {
		r.pcap = &pcapWriter{w: opt.Pcap}
		if err := r.pcap.header(); err != nil {
			return nil, err
		}
	}
	calls, bytes := opt.Calls, opt.Bytes
	if calls == 0 {
		calls = DefaultCalls
	}
	if bytes <= 0 {
		bytes = DefaultBytes
	}
	if calls > 0 {
		r.ladder = newLadder(calls, bytes)
	}
	return r, nil
}

// Close stops the outputs (it does not close their writers) and gives
// up the RTP ports this Recorder claimed. The ladder stays readable.
func (r *Recorder) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flush() // what waits is recorded as it is
	r.closed = true
	r.text, r.pcap = nil, nil
	r.rtp.release(r)
}

// SIP records a SIP packet: one message over UDP, or a piece of a TCP
// stream (messages are cut out of the stream per connection and
// direction, by Content-Length).
//
// A packet received in answer to one sent may be handed over first: the
// tap sees a write only once the write has returned, and the answer can
// be read (on another goroutine) in between. Such a packet waits (see
// order.go) until what it answers is recorded, at most holdMax.
func (r *Recorder) SIP(p Packet) {
	if r == nil || len(p.Data) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	p.Data = append([]byte(nil), p.Data...)
	e := &event{p: p}
	if p.Transport != "TCP" {
		e.msgs = [][]byte{p.Data}
	} else {
		e.stream = r.stream(p)
		e.stream.cut[dirIndex(p.Dir)].feed(p.Data, func(msg []byte) {
			e.msgs = append(e.msgs, append([]byte(nil), msg...))
		})
	}
	r.enqueue(e)
}

// commit records a packet now: the pcap, then its messages.
func (r *Recorder) commit(e *event) {
	p := e.p
	if p.Time.Before(r.last) {
		p.Time = r.last // the files' times never go back (see SIP)
	}
	r.last = p.Time
	if e.stream == nil {
		r.pcapUDP(p)
	} else if r.pcap != nil {
		src, dst := p.Src(), p.Dst()
		dir := dirIndex(p.Dir)
		s := e.stream
		for data := p.Data; len(data) > 0; {
			n := min(len(data), maxSegment)
			r.pcapErr(r.pcap.tcp(p.Time, src, dst, s.seq[dir], s.seq[1-dir], data[:n]))
			s.seq[dir] += uint32(n)
			data = data[n:]
		}
	}
	for _, msg := range e.msgs {
		r.message(p, msg)
	}
}

func dirIndex(d Direction) int {
	if d == Received {
		return 1
	}
	return 0
}

// message records one whole SIP message: the text output, the ladder and
// the RTP ports its SDP names.
func (r *Recorder) message(p Packet, msg []byte) {
	if isKeepalive(msg) {
		return
	}
	r.frame++
	if r.text != nil {
		var b bytes.Buffer
		writeText(&b, p, msg, r.frame)
		if _, err := r.text.Write(b.Bytes()); err != nil {
			r.fail("--sip-trace", err)
			r.text = nil
		}
	}
	if r.ladder != nil {
		r.ladder.add(p, msg)
	}
	if r.pcap != nil && p.Dir == Sent {
		if ip, port, ok := sdpAudio(msg); ok {
			if !ip.IsValid() || ip.IsUnspecified() {
				ip = p.Local.Addr()
			}
			r.rtp.claim(r, netip.AddrPortFrom(ip, port))
		}
	}
}

// isKeepalive reports a CRLF keepalive (RFC 5626), which is no message.
func isKeepalive(b []byte) bool {
	return len(bytes.Trim(b, "\r\n")) == 0
}

func (r *Recorder) pcapUDP(p Packet) {
	if r.pcap != nil {
		r.pcapErr(r.pcap.udp(p.Time, p.Src(), p.Dst(), p.Data))
	}
}

func (r *Recorder) pcapErr(err error) {
	if err != nil && r.pcap != nil {
		r.fail("--pcap", err)
		r.pcap = nil
		r.rtp.release(r)
	}
}

// fail reports a write error once (the output is dropped after it). A
// file closed under a phone that is stopping is not worth a line.
func (r *Recorder) fail(what string, err error) {
	if r.logf != nil && !errors.Is(err, os.ErrClosed) {
		r.logf("trace: %s: %v; nothing more is written there", what, err)
	}
}

// Calls returns the ladder: the calls kept, oldest first, as copies.
func (r *Recorder) Calls() []Call {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ladder == nil {
		return nil
	}
	return r.ladder.calls()
}

// RTP records one RTP packet (received or sent; only a pcap holds RTP).
func (r *Recorder) RTP(p Packet) {
	if r == nil || len(p.Data) == 0 {
		return
	}
	p.Transport = "UDP"
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		if p.Time.Before(r.last) {
			p.Time = r.last
		}
		r.last = p.Time
		r.pcapUDP(p)
	}
}

// streamKey names a TCP connection by its two ends.
type streamKey struct{ local, remote netip.AddrPort }

// stream is what a Recorder knows of one TCP connection: the next
// sequence number each way (index 0: sent, 1: received) and the partial
// message each way.
type stream struct {
	seq  [2]uint32
	cut  [2]cutter
	used uint64
}

func (r *Recorder) stream(p Packet) *stream {
	k := streamKey{p.Local, p.Remote}
	r.tick++
	s := r.streams[k]
	if s == nil {
		if len(r.streams) >= maxStreams {
			var oldest streamKey
			first := true
			for k, s := range r.streams {
				if first || s.used < r.streams[oldest].used {
					oldest, first = k, false
				}
			}
			delete(r.streams, oldest)
		}
		s = &stream{}
		// Initial sequence numbers as an OS picks them: not 0, different
		// per connection, here stable for the same ends.
		h := fnv.New32a()
		h.Write([]byte(p.Local.String() + " " + p.Remote.String()))
		s.seq[0] = h.Sum32()
		s.seq[1] = s.seq[0]*2654435761 + 1
		r.streams[k] = s
	}
	s.used = r.tick
	return s
}

// cutter cuts whole SIP messages out of one direction of a TCP stream
// (RFC 3261 §18.3: the header ends at an empty line, Content-Length
// counts the body). CRLF keepalives between messages are skipped.
type cutter struct {
	buf []byte
}

// Caps of the cutter: a header this long without its end, or a body
// longer, is not SIP we can follow; the stream's text is dropped (the
// pcap keeps it) until the cutter finds its feet again at a later read.
const (
	maxHeader = 64 << 10
	maxBody   = 1 << 20
)

func (c *cutter) feed(b []byte, emit func(msg []byte)) {
	c.buf = append(c.buf, b...)
	for {
		i := 0
		for i < len(c.buf) && (c.buf[i] == '\r' || c.buf[i] == '\n') {
			i++
		}
		c.buf = c.buf[i:]
		if len(c.buf) == 0 {
			break
		}
		end, sep := headerEnd(c.buf)
		if end < 0 {
			if len(c.buf) > maxHeader {
				c.buf = nil
			}
			break
		}
		n, ok := contentLength(c.buf[:end])
		if !ok || n > maxBody {
			c.buf = nil
			break
		}
		total := end + sep + n
		if len(c.buf) < total {
			break
		}
		emit(c.buf[:total])
		c.buf = c.buf[total:]
	}
	if len(c.buf) == 0 {
		c.buf = nil // let a big buffer go
	} else if cap(c.buf) > 4*len(c.buf)+4096 {
		c.buf = append([]byte(nil), c.buf...)
	}
}

// headerEnd finds the empty line ending a SIP header: the index where it
// starts and its length (CRLFCRLF, or bare LFs).
func headerEnd(b []byte) (int, int) {
	crlf := bytes.Index(b, []byte("\r\n\r\n"))
	lf := bytes.Index(b, []byte("\n\n"))
	switch {
	case crlf >= 0 && (lf < 0 || crlf < lf):
		return crlf, 4
	case lf >= 0:
		return lf, 2
	}
	return -1, 0
}

// contentLength reads Content-Length (or its compact form l) of a
// header; 0 when absent, false when it is not a number.
func contentLength(hdr []byte) (int, bool) {
	v, found := headerValue(hdr, "content-length", "l")
	if !found {
		return 0, true
	}
	n := 0
	if v == "" {
		return 0, false
	}
	for _, c := range []byte(v) {
		if c < '0' || c > '9' || n > maxBody {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// headerValue returns the value of the first header line named name or
// short (case-insensitive), trimmed.
func headerValue(hdr []byte, name, short string) (string, bool) {
	_, rest, _ := bytes.Cut(hdr, []byte("\n")) // after the start line
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		line = bytes.TrimRight(line, "\r")
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		n := string(bytes.TrimSpace(line[:colon]))
		if equalFold(n, name) || (short != "" && equalFold(n, short)) {
			return string(bytes.TrimSpace(line[colon+1:])), true
		}
	}
	return "", false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
