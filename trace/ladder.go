package trace

import (
	"bytes"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"
)

// Call is the SIP message flow of one call (one Call-ID whose first
// message seen was an INVITE), for the ladder page.
type Call struct {
	CallID   string // as received: network text, escape it to show it
	Messages []Message
	Dropped  int // messages past maxCallMessages, not kept
}

// Message is one SIP message of a Call.
type Message struct {
	Time      time.Time
	Dir       Direction
	Transport string // "UDP" or "TCP"
	Src, Dst  netip.AddrPort
	// Label is the request's method ("INVITE") or the response's status
	// and reason ("180 Ringing"), and for a response the CSeq method in
	// parentheses ("200 OK (BYE)"): network text, at most 64 bytes.
	Label    string
	Request  bool
	Text     string // the message as on the wire (network text), at most maxMessageText bytes
	Cut      bool   // Text is cut short
	Response int    // the status code of a response
}

// Caps of the ladder beyond Options.Calls and Options.Bytes.
const (
	maxMessageText  = 16 << 10
	maxCallMessages = 500
	maxCallID       = 256
	maxLabel        = 64
)

// ladder keeps the last calls' messages. Guarded by the Recorder's mutex.
type ladder struct {
	max, maxBytes int
	bytes         int
	order         []*Call // oldest first
	byID          map[string]*Call
}

func newLadder(calls, bytes int) *ladder {
	return &ladder{max: calls, maxBytes: bytes, byID: map[string]*Call{}}
}

// add keeps a message if it belongs to a call: an INVITE whose Call-ID is
// new starts one; other messages join the call of their Call-ID, or are
// not kept (REGISTER, OPTIONS and their like are in the text trace and
// the pcap only).
func (l *ladder) add(p Packet, msg []byte) {
	end, _ := headerEnd(msg)
	if end < 0 {
		end = len(msg)
	}
	hdr := msg[:end]
	id, ok := headerValue(hdr, "call-id", "i")
	if !ok || id == "" {
		return
	}
	id = capString(id, maxCallID)
	first, _, _ := bytes.Cut(hdr, []byte("\n"))
	m := Message{Time: p.Time, Dir: p.Dir, Transport: p.Transport, Src: p.Src(), Dst: p.Dst()}
	m.Label, m.Request, m.Response = startLine(string(bytes.TrimRight(first, "\r")))
	if m.Label == "" {
		return
	}
	if !m.Request {
		if cseq, ok := headerValue(hdr, "cseq", ""); ok {
			if f := strings.Fields(cseq); len(f) == 2 {
				m.Label = capString(m.Label+" ("+f[1]+")", maxLabel)
			}
		}
	}
	c := l.byID[id]
	if c == nil {
		if !m.Request || m.Label != "INVITE" {
			return
		}
		c = &Call{CallID: id}
		l.byID[id] = c
		l.order = append(l.order, c)
	}
	if len(c.Messages) >= maxCallMessages {
		c.Dropped++
		return
	}
	m.Text = string(msg)
	if len(m.Text) > maxMessageText {
		m.Text, m.Cut = capString(m.Text, maxMessageText), true
	}
	c.Messages = append(c.Messages, m)
	l.bytes += len(m.Text)
	// Make room: the oldest calls other than this one go first, then, if
	// this call alone is over the cap, its older messages' text.
	for (len(l.order) > l.max || l.bytes > l.maxBytes) && len(l.order) > 1 {
		i := 0
		if l.order[0] == c {
			i = 1
		}
		old := l.order[i]
		l.order = append(l.order[:i:i], l.order[i+1:]...)
		delete(l.byID, old.CallID)
		for _, m := range old.Messages {
			l.bytes -= len(m.Text)
		}
	}
	for i := 0; l.bytes > l.maxBytes && i < len(c.Messages); i++ {
		l.bytes -= len(c.Messages[i].Text)
		c.Messages[i].Text, c.Messages[i].Cut = "", true
	}
}

// calls copies the calls kept, oldest first.
func (l *ladder) calls() []Call {
	out := make([]Call, len(l.order))
	for i, c := range l.order {
		out[i] = Call{CallID: c.CallID, Dropped: c.Dropped, Messages: append([]Message(nil), c.Messages...)}
	}
	return out
}

// startLine reads a SIP start line: a request's method, or a response's
// "code reason" and code. "" when it is neither.
func startLine(s string) (label string, request bool, code int) {
	if rest, ok := strings.CutPrefix(s, "SIP/2.0 "); ok {
		if len(rest) < 3 {
			return "", false, 0
		}
		for _, c := range []byte(rest[:3]) {
			if c < '0' || c > '9' {
				return "", false, 0
			}
			code = code*10 + int(c-'0')
		}
		return capString(strings.TrimSpace(rest), maxLabel), false, code
	}
	f := strings.Fields(s)
	if len(f) != 3 || f[2] != "SIP/2.0" {
		return "", false, 0
	}
	return capString(f[0], maxLabel), true, 0
}

// capString cuts s to at most n bytes, at a rune boundary.
func capString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
