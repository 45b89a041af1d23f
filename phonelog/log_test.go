package phonelog

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"phonesim/firmware"
)

func TestEntryString(t *testing.T) {
	at := func(y int, mo time.Month, d, h, mi, s int) time.Time {
		return time.Date(y, mo, d, h, mi, s, 999_000_000, time.UTC)
	}
	tests := []struct {
		name string
		e    Entry
		want string
	}{
		{"single-digit day and month, padded time",
			Entry{Time: at(2026, 3, 5, 9, 4, 7), Level: firmware.Info, Message: "message"},
			"[6] 5/3/2026 09:04:07: message"},
		{"two-digit day and month, 24-hour clock",
			Entry{Time: at(2025, 12, 31, 23, 59, 59), Level: firmware.Error, Message: "x"},
			"[3] 31/12/2025 23:59:59: x"},
		{"midnight",
			Entry{Time: at(2026, 1, 1, 0, 0, 0), Level: firmware.Debug, Message: ""},
			"[7] 1/1/2026 00:00:00: "},
		{"notice", Entry{Time: at(2026, 10, 2, 12, 0, 0), Level: firmware.Notice, Message: "a: b"},
			"[5] 2/10/2026 12:00:00: a: b"},
		{"warning", Entry{Time: at(2026, 7, 20, 1, 2, 3), Level: firmware.Warning, Message: "w"},
			"[4] 20/7/2026 01:02:03: w"},
		{"hand-built entry is made inert",
			Entry{Time: at(2026, 3, 5, 9, 4, 7), Level: firmware.Info, Message: "a\nb"},
			`[6] 5/3/2026 09:04:07: a\nb`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eq(t, tt.want, tt.e.String())
		})
	}
}

func TestInert(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Alice <sip:alice@pbx>", "Alice <sip:alice@pbx>"},
		{"utf-8 kept", "Jürgen Müller ☎", "Jürgen Müller ☎"},
		{"escape sequence", "\x1b[2J\x1b]0;pwned\x07", `\x1b[2J\x1b]0;pwned\x07`},
		{"line breaks", "a\r\nb\nc", `a\r\nb\nc`},
		{"tab and nul", "a\tb\x00", `a\tb\x00`},
		{"del", "a\x7fb", `a\x7fb`},
		{"c1 csi rune", "a\u009b2Jb", `a\u009b2Jb`},
		{"c1 nel", "a\u0085b", `a\u0085b`},
		{"lone 8-bit csi byte", "a\x9b2J", `a\x9b2J`},
		{"invalid utf-8", "a\xff\xfeb", `a\xff\xfeb`},
		{"line separator", "a\u2028b\u2029", `a\u2028b\u2029`},
		{"bidi override", "abc\u202edcb", `abc\u202edcb`},
		{"backslash kept", `C:\x1b`, `C:\x1b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Inert(tt.in)
			eq(t, tt.want, got)
			eq(t, got, Inert(got), "idempotent")
			for _, r := range got {
				check(t, !(r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f), fmt.Sprintf("control %U left in %q", r, got))
			}
		})
	}
}

func TestAddInert(t *testing.T) {
	var out bytes.Buffer
	l := New(10, fixedClock())
	l.SetOutput(&out)
	e := l.Add(firmware.Info, "Call from \"\x1b[2J<evil>\"\r\n[ERROR] forged line")
	eq(t, `Call from "\x1b[2J<evil>"\r\n[ERROR] forged line`, e.Message)
	eq(t, 1, strings.Count(out.String(), "\n"), "one entry, one line")
	check(t, strings.HasSuffix(out.String(), "\n"), "no trailing newline")
	check(t, !strings.Contains(out.String(), "\x1b"), "raw ESC in output")
	eq(t, []string{strings.TrimSuffix(out.String(), "\n")}, l.Lines())
}

func TestRingOverflow(t *testing.T) {
	l := New(3, fixedClock())
	for i := 1; i <= 7; i++ {
		l.Addf(firmware.Info, "m%d", i)
	}
	es := l.Entries()
	if len(es) != 3 {
		t.Fatalf("got %d entries, want 3", len(es))
	}
	for i, e := range es {
		eq(t, fmt.Sprintf("m%d", i+5), e.Message)
		eq(t, uint64(i+5), e.Seq)
	}
	lines := l.Lines()
	eq(t, "[6] 5/3/2026 09:04:07: m5", lines[0])
	eq(t, "[6] 5/3/2026 09:04:07: m7", lines[2])
}

func TestRingPartial(t *testing.T) {
	l := New(5, fixedClock())
	eq(t, 0, len(l.Entries()))
	l.Add(firmware.Info, "a")
	l.Add(firmware.Info, "b")
	es := l.Entries()
	if len(es) != 2 {
		t.Fatalf("got %d entries, want 2", len(es))
	}
	eq(t, "a", es[0].Message)
	eq(t, "b", es[1].Message)
}

func TestSubscriberDrop(t *testing.T) {
	l := New(100, fixedClock())
	slow, cancelSlow := l.Subscribe(2)
	fast, cancelFast := l.Subscribe(100)
	defer cancelFast()

	done := make(chan struct{})
	go func() { // nobody reads slow: Add must still return
		for i := 0; i < 10; i++ {
			l.Addf(firmware.Info, "m%d", i)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Add blocked on a slow subscriber")
	}
	eq(t, uint64(8), l.Dropped())

	e := <-slow
	eq(t, uint64(1), e.Seq)
	e = <-slow
	eq(t, uint64(2), e.Seq)
	cancelSlow()
	cancelSlow() // twice is fine
	_, ok := <-slow
	check(t, !ok, "cancel closes the channel")

	for i := 1; i <= 10; i++ {
		e := <-fast
		eq(t, uint64(i), e.Seq)
	}
	l.Add(firmware.Info, "after cancel") // must not panic on the closed channel
	eq(t, uint64(8), l.Dropped())
}

func TestConcurrent(t *testing.T) {
	l := New(50, nil)
	var out bytes.Buffer
	l.SetOutput(&out)
	ch, cancel := l.Subscribe(1)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				l.Addf(firmware.Debug, "g%d i%d", g, i)
				_ = l.Entries()
			}
		}()
	}
	// a subscriber reading as it can; it may miss entries (buffer 1), so
	// it reads until the subscription ends rather than a fixed count
	read := make(chan struct{})
	go func() {
		defer close(read)
		for range ch {
		}
	}()
	wg.Wait()
	cancel()
	<-read
	eq(t, 50, len(l.Entries()))
	eq(t, 800, strings.Count(out.String(), "\n"))
	// lines reach the writer in Seq order
	es := l.Entries()
	eq(t, uint64(800), es[len(es)-1].Seq)
}

func TestNilLog(t *testing.T) {
	var l *Log
	l.Add(firmware.Info, "x")
	l.Addf(firmware.Info, "%d", 1)
	check(t, l.Entries() == nil, "entries of nil log")
	eq(t, 0, len(l.Lines()))
	ch, cancel := l.Subscribe(1)
	cancel()
	_, ok := <-ch
	check(t, !ok, "channel open")
}

func fixedClock() func() time.Time {
	return func() time.Time { return time.Date(2026, 3, 5, 9, 4, 7, 0, time.Local) }
}

func ExampleLog() {
	l := New(100, func() time.Time { return time.Date(2026, 3, 5, 9, 4, 7, 0, time.UTC) })
	l.Add(firmware.Info, "Call from \"\x1b[2JAlice\" <sip:alice@pbx>")
	for _, line := range l.Lines() {
		fmt.Println(line)
	}
	// Output:
	// [6] 5/3/2026 09:04:07: Call from "\x1b[2JAlice" <sip:alice@pbx>
}

func eq(t *testing.T, want, got any, msg ...any) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		t.Errorf("%s\n got: %#v\nwant: %#v", fmt.Sprint(msg...), got, want)
	}
}

func check(t *testing.T, ok bool, msg ...any) {
	t.Helper()
	if !ok {
		t.Error(msg...)
	}
}

func TestSetOutputLevel(t *testing.T) {
	var b strings.Builder
	l := New(10, func() time.Time { return time.Date(2026, 3, 5, 9, 4, 7, 0, time.UTC) })
	l.SetOutput(&b)
	l.SetOutputLevel(firmware.Info)
	l.Add(firmware.Debug, "hidden")
	l.Add(firmware.Warning, "shown")
	if got := b.String(); got != "[4] 5/3/2026 09:04:07: shown\n" {
		t.Errorf("output = %q", got)
	}
	if n := len(l.Entries()); n != 2 {
		t.Errorf("the log kept %d entries, want both", n)
	}
}

// A huge message is cut, visibly, and says how long it was.
func TestMessageCapped(t *testing.T) {
	l := New(4, time.Now)
	e := l.Add(firmware.Warning, "bad SDP: "+strings.Repeat("é", 30000))
	if len(e.Message) > MaxMessage+32 {
		t.Fatalf("message kept %d bytes", len(e.Message))
	}
	if !strings.HasSuffix(e.Message, "…(60009 bytes)") {
		t.Errorf("no length marker: ...%q", e.Message[len(e.Message)-30:])
	}
	if short := l.Add(firmware.Info, "short"); short.Message != "short" {
		t.Errorf("a short message changed: %q", short.Message)
	}
}
