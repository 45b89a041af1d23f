package trace

import (
	"bytes"
	"net/netip"
	"strings"
	"time"
)

// Putting answers after what they answer.
//
// The SIP tap (sipgo's tracer) reports a write after the write returned,
// on the writing goroutine, and a read on the reading one: the other
// side's answer can be reported before the message it answers (on a busy
// machine, often: the write's wake-up of the reader preempts the writer).
// A Recorder therefore knows, per message, what it answers:
//
//   - a response received answers the request we sent with the same top
//     Via branch and CSeq method;
//   - an ACK received answers the final response to the INVITE we sent
//     with the same Call-ID and CSeq number;
//
// and records a packet holding such a message only once that is recorded,
// or after holdMax (a stray, or an answer to something sent long ago). The
// packets after a waiting one wait behind it, in order, except that a
// packet a waiting one answers goes right before it. Times never go back:
// a packet that waited takes at least the time of the one before it.

// holdMax is how long a packet waits for what it answers.
const holdMax = 250 * time.Millisecond

// maxKeys is how many "recorded" marks are remembered (the oldest go).
const maxKeys = 4096

// maxWaiting caps the packets waiting; past it the oldest is recorded.
const maxWaiting = 1024

// event is a packet on its way to the outputs.
type event struct {
	p      Packet
	msgs   [][]byte // the whole messages in it
	stream *stream  // TCP
	needs  []string // what it answers
	gives  []string // what it is, for those answering it
	since  time.Time
}

// orderer is the Recorder's queue. Guarded by the Recorder's mutex.
type orderer struct {
	waiting []*event
	done    map[string]bool // keys recorded
	doneSeq []string        // the same, oldest first
	timer   *time.Timer
}

func (r *Recorder) enqueue(e *event) {
	for _, m := range e.msgs {
		needs, gives := keysOf(e.p.Dir, m)
		e.needs = append(e.needs, needs...)
		e.gives = append(e.gives, gives...)
	}
	o := &r.order
	if len(o.waiting) == 0 && r.met(e) {
		r.commitEvent(e)
		return
	}
	e.since = time.Now()
	at := len(o.waiting)
	for i, w := range o.waiting {
		if answers(w, e) {
			at = i
			break
		}
	}
	o.waiting = append(o.waiting, nil)
	copy(o.waiting[at+1:], o.waiting[at:])
	o.waiting[at] = e
	r.drain(false)
}

// answers reports whether w answers e.
func answers(w, e *event) bool {
	for _, n := range w.needs {
		for _, g := range e.gives {
			if n == g {
				return true
			}
		}
	}
	return false
}

func (r *Recorder) met(e *event) bool {
	for _, n := range e.needs {
		if !r.order.done[n] {
			return false
		}
	}
	return true
}

// drain records the waiting packets that may go: from the head, each
// whose answered messages are recorded, or that waited holdMax (all with
// force). It arms the timer for the head that must still wait.
func (r *Recorder) drain(force bool) {
	o := &r.order
	now := time.Now()
	for len(o.waiting) > 0 {
		e := o.waiting[0]
		if !force && !r.met(e) && now.Sub(e.since) < holdMax && len(o.waiting) <= maxWaiting {
			break
		}
		o.waiting[0] = nil
		o.waiting = o.waiting[1:]
		r.commitEvent(e)
	}
	if len(o.waiting) == 0 {
		o.waiting = nil
		if o.timer != nil {
			o.timer.Stop()
		}
		return
	}
	d := holdMax - now.Sub(o.waiting[0].since)
	if o.timer == nil {
		o.timer = time.AfterFunc(d, func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.drain(false)
		})
	} else {
		o.timer.Reset(d)
	}
}

// flush records every waiting packet now.
func (r *Recorder) flush() {
	r.drain(true)
	if r.order.timer != nil {
		r.order.timer.Stop()
	}
}

func (r *Recorder) commitEvent(e *event) {
	o := &r.order
	if o.done == nil {
		o.done = map[string]bool{}
	}
	for _, g := range e.gives {
		if !o.done[g] {
			o.done[g] = true
			o.doneSeq = append(o.doneSeq, g)
		}
	}
	for len(o.doneSeq) > maxKeys {
		delete(o.done, o.doneSeq[0])
		o.doneSeq = o.doneSeq[1:]
	}
	if !r.closed {
		r.commit(e)
	}
}

// keysOf reads what a message answers and what answers it may name (see
// the top of this file).
func keysOf(dir Direction, msg []byte) (needs, gives []string) {
	end, _ := headerEnd(msg)
	if end < 0 {
		return nil, nil
	}
	hdr := msg[:end]
	first, _, _ := bytes.Cut(hdr, []byte("\n"))
	label, request, code := startLine(string(bytes.TrimRight(first, "\r")))
	if label == "" {
		return nil, nil
	}
	cseq, _ := headerValue(hdr, "cseq", "")
	num, method, ok := strings.Cut(strings.TrimSpace(cseq), " ")
	method = strings.TrimSpace(method)
	if !ok {
		return nil, nil
	}
	callID, _ := headerValue(hdr, "call-id", "i")
	via, _ := headerValue(hdr, "via", "v")
	branch := viaParam(via, "branch")
	switch {
	case dir == Sent && request:
		gives = append(gives, "req "+branch+" "+method)
	case dir == Sent && code >= 200 && method == "INVITE":
		gives = append(gives, "final "+callID+" "+num)
	case dir == Received && !request && branch != "":
		needs = append(needs, "req "+branch+" "+method)
	case dir == Received && request && label == "ACK":
		needs = append(needs, "final "+callID+" "+num)
	}
	return needs, gives
}

// viaParam returns a parameter of the first value of a Via header.
func viaParam(via, name string) string {
	via, _, _ = strings.Cut(via, ",")
	for _, p := range strings.Split(via, ";")[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// SentBy reads the sent-by address of a SIP message's top Via
// ("SIP/2.0/TCP 127.0.0.1:5060;branch=..."): an IP address and a port.
// The message may be cut short after its Via (the first read of a TCP
// connection).
func SentBy(msg []byte) (netip.AddrPort, bool) {
	end, _ := headerEnd(msg)
	if end < 0 {
		end = len(msg)
	}
	via, ok := headerValue(msg[:end], "via", "v")
	if !ok {
		return netip.AddrPort{}, false
	}
	via, _, _ = strings.Cut(via, ",")
	via, _, _ = strings.Cut(via, ";")
	f := strings.Fields(via)
	if len(f) != 2 {
		return netip.AddrPort{}, false
	}
	a, err := netip.ParseAddrPort(f[1])
	if err != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()), true
}
