// Package phonelog is the phone log: a bounded ring of leveled lines in
// snom's shape, "[LEVEL] d/m/yyyy hh:mm:ss: message", that the web
// interface shows and headless mode writes to stderr.
//
// Every message is made inert when it is added (see Inert): text from the
// network, such as a caller's display name, can never move a terminal's
// cursor, clear its screen or break a line in two.
package phonelog

import (
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"phonesim/firmware"
)

// DefaultCapacity is the ring size New uses when asked for none.
const DefaultCapacity = 1000

// Entry is one line of the log. Seq counts entries from 1 in the order they
// were added; a subscriber that sees a gap in Seq knows it missed entries.
type Entry struct {
	Time    time.Time
	Level   firmware.Level
	Message string
	Seq     uint64
}

// String formats the entry as snom does: "[INFO] 5/3/2026 09:04:07: message"
// (day and month without leading zeros, 24-hour time). The message is made
// inert again, so an Entry built by hand is as safe as one from Add.
func (e Entry) String() string {
	return string(e.appendTo(make([]byte, 0, 32+len(e.Message))))
}

func (e Entry) appendTo(b []byte) []byte {
	t := e.Time
	b = append(b, '[')
	b = append(b, e.Level.String()...)
	b = append(b, "] "...)
	b = strconv.AppendInt(b, int64(t.Day()), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(t.Month()), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(t.Year()), 10)
	b = append(b, ' ')
	b = append2(b, t.Hour())
	b = append(b, ':')
	b = append2(b, t.Minute())
	b = append(b, ':')
	b = append2(b, t.Second())
	b = append(b, ": "...)
	return appendInert(b, e.Message)
}

func append2(b []byte, n int) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

// Log is the phone log, safe for concurrent use. The zero value is not
// usable; call New. A nil *Log discards everything added to it.
type Log struct {
	mu      sync.Mutex
	clock   func() time.Time
	ring    []Entry // len(ring) == capacity once full
	next    int     // where the next entry goes once the ring is full
	seq     uint64
	subs    map[*subscriber]struct{}
	dropped uint64

	outMu sync.Mutex // held while writing to out; taken before mu is released, so lines keep their order
	out   io.Writer
	min   firmware.Level // lines below it are kept but not written to out
}

type subscriber struct {
	ch chan Entry
}

// New returns a log that keeps the last capacity entries (DefaultCapacity
// when capacity < 1) and stamps them with clock (time.Now when nil).
func New(capacity int, clock func() time.Time) *Log {
	if capacity < 1 {
		capacity = DefaultCapacity
	}
	if clock == nil {
		clock = time.Now
	}
	return &Log{
		clock: clock,
		ring:  make([]Entry, 0, capacity),
		subs:  map[*subscriber]struct{}{},
	}
}

// SetOutput makes the log write each line, with a trailing newline, to w as
// it is added (nil stops it). Headless mode passes os.Stderr. A write error
// is ignored: the log itself must never fail. Add waits for the write, so w
// should not block for long.
func (l *Log) SetOutput(w io.Writer) {
	l.outMu.Lock()
	l.out = w
	l.outMu.Unlock()
}

// SetOutputLevel sets the lowest level written to the output (the log
// itself keeps every level). Headless mode hides Debug by default.
func (l *Log) SetOutputLevel(min firmware.Level) {
	l.outMu.Lock()
	l.min = min
	l.outMu.Unlock()
}

// Add appends one entry and returns it: stamped, numbered and with its
// message made inert. Subscribers whose buffer is full miss it (counted in
// Dropped); Add never waits for them.
func (l *Log) Add(level firmware.Level, msg string) Entry {
	if l == nil {
		return Entry{}
	}
	l.mu.Lock()
	l.seq++
	e := Entry{Time: l.clock(), Level: level, Message: Inert(msg), Seq: l.seq}
	if len(l.ring) < cap(l.ring) {
		l.ring = append(l.ring, e)
	} else {
		l.ring[l.next] = e
		l.next = (l.next + 1) % len(l.ring)
	}
	for s := range l.subs {
		select {
		case s.ch <- e:
		default:
			l.dropped++
		}
	}
	l.outMu.Lock()
	l.mu.Unlock()
	if l.out != nil && e.Level >= l.min {
		_, _ = l.out.Write(append(e.appendTo(make([]byte, 0, 40+len(e.Message))), '\n'))
	}
	l.outMu.Unlock()
	return e
}

// Addf is Add with fmt.Sprintf formatting.
func (l *Log) Addf(level firmware.Level, format string, args ...any) Entry {
	if l == nil {
		return Entry{}
	}
	return l.Add(level, fmt.Sprintf(format, args...))
}

// Entries returns the entries the log holds, oldest first.
func (l *Log) Entries() []Entry {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Entry, 0, len(l.ring))
	out = append(out, l.ring[l.next:]...)
	return append(out, l.ring[:l.next]...)
}

// Lines returns the entries formatted, oldest first.
func (l *Log) Lines() []string {
	es := l.Entries()
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.String()
	}
	return lines
}

// Subscribe returns a channel that receives every entry added from now on,
// buffered for buf entries (at least 1), and a function that ends the
// subscription and closes the channel; calling it again does nothing.
// When the buffer is full new entries are dropped for this subscriber
// only; the gap shows in Entry.Seq.
func (l *Log) Subscribe(buf int) (<-chan Entry, func()) {
	if buf < 1 {
		buf = 1
	}
	s := &subscriber{ch: make(chan Entry, buf)}
	if l == nil {
		close(s.ch)
		return s.ch, func() {}
	}
	l.mu.Lock()
	l.subs[s] = struct{}{}
	l.mu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			l.mu.Lock()
			delete(l.subs, s)
			close(s.ch)
			l.mu.Unlock()
		})
	}
}

// Dropped returns how many entries were dropped for slow subscribers, over
// all subscribers, since the log was made.
func (l *Log) Dropped() uint64 {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}
