// Package phonelog is the phone log: a bounded ring of leveled lines in
// snom's shape, "[6] d/m/yyyy hh:mm:ss: message" (the level as a digit,
// see Digit; Words writes "[INFO] ..." instead), that the web interface
// shows and headless mode writes to stderr.
//
// Every message is made inert when it is added (see Inert): text from the
// network, such as a caller's display name, can never move a terminal's
// cursor, clear its screen or break a line in two.
package phonelog

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

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

// Format is how a line writes its level: as snom's digit or as a word.
type Format uint8

const (
	// Digits writes the level as snom does, a digit where lower is more
	// severe: "[6] 5/3/2026 09:04:07: message". The default.
	Digits Format = iota
	// Words writes the level's name: "[INFO] 5/3/2026 09:04:07: message".
	Words
)

func (f Format) String() string {
	if f == Words {
		return "words"
	}
	return "digits"
}

// ParseFormat reads "digits" or "words" (any case).
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "digits":
		return Digits, nil
	case "words":
		return Words, nil
	}
	return Digits, fmt.Errorf("log format %q: want digits or words", s)
}

// Digit returns the digit snom-style lines write for level. snom writes
// its level as one digit, lower meaning more important, 0 to 9 (9 the
// most verbose); it names no digit, so phonesim's levels take the syslog
// severity numbers (RFC 5424) of their names (see docs/web.md):
//
//	Error 3, Warning 4, Notice 5, Info 6, Debug 7
func Digit(level firmware.Level) byte {
	switch level {
	case firmware.Debug:
		return 7
	case firmware.Info:
		return 6
	case firmware.Notice:
		return 5
	case firmware.Warning:
		return 4
	default:
		return 3
	}
}

// ParseLevel reads a minimum level as a user gives it: a name (debug,
// info, notice, warning, error; any case) or a digit 0-9 on snom's scale,
// where a digit means "this digit and the more severe ones": 0-3 are
// error, 4 warning, 5 notice, 6 info, 7-9 (snom's verbose levels) debug.
func ParseLevel(s string) (firmware.Level, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch t {
	case "debug":
		return firmware.Debug, nil
	case "info":
		return firmware.Info, nil
	case "notice":
		return firmware.Notice, nil
	case "warning":
		return firmware.Warning, nil
	case "error":
		return firmware.Error, nil
	}
	if len(t) == 1 && t[0] >= '0' && t[0] <= '9' {
		switch d := t[0] - '0'; {
		case d <= 3:
			return firmware.Error, nil
		case d == 4:
			return firmware.Warning, nil
		case d == 5:
			return firmware.Notice, nil
		case d == 6:
			return firmware.Info, nil
		default:
			return firmware.Debug, nil
		}
	}
	return firmware.Info, fmt.Errorf("log level %q: want debug, info, notice, warning, error or a digit 0-9", s)
}

// String formats the entry as snom does, the level as a digit:
// "[6] 5/3/2026 09:04:07: message" (day and month without leading zeros,
// 24-hour time). The message is made inert again, so an Entry built by
// hand is as safe as one from Add.
func (e Entry) String() string {
	return e.Line(Digits)
}

// Line formats the entry with its level written as f says:
// "[6] 5/3/2026 09:04:07: message" or "[INFO] 5/3/2026 09:04:07: message".
func (e Entry) Line(f Format) string {
	return string(e.appendTo(make([]byte, 0, 32+len(e.Message)), f))
}

func (e Entry) appendTo(b []byte, f Format) []byte {
	t := e.Time
	b = append(b, '[')
	if f == Words {
		b = append(b, e.Level.String()...)
	} else {
		b = append(b, '0'+Digit(e.Level))
	}
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
	mu       sync.Mutex
	clock    func() time.Time
	ring     []Entry // grows as lines come (an idle phone keeps few); len(ring) == capacity once full
	capacity int
	next     int // where the next entry goes once the ring is full
	seq      uint64
	subs     map[*subscriber]struct{}
	dropped  uint64

	outMu sync.Mutex // held while writing to out; taken before mu is released, so lines keep their order
	out   io.Writer

	level  atomic.Uint32 // a firmware.Level: lines below it are kept but not shown by default
	format atomic.Uint32 // a Format
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
		clock:    clock,
		capacity: capacity,
		subs:     map[*subscriber]struct{}{},
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

// SetLevel sets the lowest level shown by default (phonesim's
// --log-level): written to the output, and shown on the web pages unless
// a request asks for another. The log itself keeps every level; Enabled
// lets a producer skip formatting lines below it. The zero value is
// firmware.Debug: everything.
func (l *Log) SetLevel(min firmware.Level) {
	l.level.Store(uint32(min))
}

// SetOutputLevel is SetLevel, under its older name.
func (l *Log) SetOutputLevel(min firmware.Level) { l.SetLevel(min) }

// Level returns the level SetLevel set (firmware.Debug if none).
func (l *Log) Level() firmware.Level {
	if l == nil {
		return firmware.Debug
	}
	return firmware.Level(l.level.Load())
}

// Enabled reports whether a line at level would be shown by default
// (level >= Level()). It is cheap: a producer of many low-level lines,
// such as the SIP stack's debug records, checks it before formatting
// them. A nil log enables nothing.
func (l *Log) Enabled(level firmware.Level) bool {
	return l != nil && level >= firmware.Level(l.level.Load())
}

// SetFormat sets how lines write their level in the output, Lines and
// the web pages (phonesim's --log-format). The default is Digits.
func (l *Log) SetFormat(f Format) {
	l.format.Store(uint32(f))
}

// LineFormat returns the format SetFormat set (Digits if none).
func (l *Log) LineFormat() Format {
	if l == nil {
		return Digits
	}
	return Format(l.format.Load())
}

// Add appends one entry and returns it: stamped, numbered and with its
// message made inert. Subscribers whose buffer is full miss it (counted in
// Dropped); Add never waits for them.
func (l *Log) Add(level firmware.Level, msg string) Entry {
	if l == nil {
		return Entry{}
	}
	msg = capMessage(msg)
	l.mu.Lock()
	l.seq++
	e := Entry{Time: l.clock(), Level: level, Message: Inert(msg), Seq: l.seq}
	if len(l.ring) < l.capacity {
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
	if l.out != nil && e.Level >= l.Level() {
		_, _ = l.out.Write(append(e.appendTo(make([]byte, 0, 40+len(e.Message)), l.LineFormat()), '\n'))
	}
	l.outMu.Unlock()
	return e
}

// MaxMessage caps one log message: a 60 KB SDP field quoted in an error
// must not make the log (and the memory it holds) grow without bound. A
// longer message is cut at a character boundary and says how long it
// was: "…(61440 bytes)".
const MaxMessage = 4096

func capMessage(msg string) string {
	if len(msg) <= MaxMessage {
		return msg
	}
	cut := MaxMessage
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "…(" + strconv.Itoa(len(msg)) + " bytes)"
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

// Lines returns the entries formatted in the log's format (SetFormat),
// oldest first, every level.
func (l *Log) Lines() []string {
	es := l.Entries()
	f := l.LineFormat()
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Line(f)
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
