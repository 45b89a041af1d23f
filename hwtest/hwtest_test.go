package hwtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"phonesim/firmware"
	"phonesim/hw"
	"phonesim/hw/audio"
	"phonesim/hw/board"
	"phonesim/hw/evdev"
	"phonesim/hw/fake"
	"phonesim/hw/fb"
	"phonesim/keypad"
)

func count(fs []Finding) map[Status]int {
	c := map[Status]int{}
	for _, f := range fs {
		c[f.Status]++
	}
	return c
}

func dump(fs []Finding) string {
	r := &Report{}
	r.Add(fs...)
	var b bytes.Buffer
	r.WriteText(&b)
	return b.String()
}

// TestStandInBoard: the qemu profile on stand-ins passes every scripted
// check, nothing absent.
func TestStandInBoard(t *testing.T) {
	root := t.TempDir()
	if err := board.MakeStandIns(root, evdev.WordSize); err != nil {
		t.Fatal(err)
	}
	p, _ := board.Lookup("qemu")
	o := &board.Options{Board: "qemu", Root: root}
	p, err := o.Profile()
	if err != nil {
		t.Fatal(err)
	}
	b, err := board.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r := Run(b, nil, Options{})
	if !r.OK || r.Absent != 0 || r.Failed != 0 || r.Passed < 10 {
		t.Fatalf("report:\n%s", dump(r.Findings))
	}
	text := dump(r.Findings)
	for _, want := range []string{"display  pass    test picture read back", "partial redraw", "recorded stream: ", "P1(long)",
		"leds     pass    P1 (phone:green:p1, phone:red:p1)", "audio    pass    tone frequency: 1000 Hz"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
}

// TestNothingFitted: a board with nothing on it is all absent, and that
// is no failure.
func TestNothingFitted(t *testing.T) {
	dir := t.TempDir()
	b, err := board.Open(board.Profile{Name: "generic", FB: dir + "/fb0", Evdev: []string{dir + "/event*"}, LEDs: dir + "/leds"})
	if err != nil {
		t.Fatal(err)
	}
	r := Run(b, nil, Options{})
	if !r.OK || r.Absent != 4 || r.Passed != 0 {
		t.Fatalf("report:\n%s", dump(r.Findings))
	}
	var buf bytes.Buffer
	r.WriteJSON(&buf)
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.Findings[0].Status != Absent || !back.OK {
		t.Fatalf("JSON: %v\n%s", err, buf.String())
	}
}

// lossy is a framebuffer that drops every other write.
type lossy struct {
	b []byte
	n int
}

func (l *lossy) WriteAt(p []byte, off int64) (int, error) {
	l.n++
	if l.n%2 == 0 {
		return len(p), nil
	}
	return copy(l.b[off:], p), nil
}

func (l *lossy) ReadAt(p []byte, off int64) (int, error) { return copy(p, l.b[off:]), nil }

// brokenLEDs accepts every state and reads back dark.
type brokenLEDs struct{ fake.LEDs }

func (b *brokenLEDs) Indexes() []int { return []int{0} }
func (b *brokenLEDs) Check(i int, l firmware.LED) error {
	if l.State != firmware.LEDOff {
		return errors.New("reads back dark")
	}
	return nil
}

// deaf captures silence whatever is played.
type deaf struct{}

func (deaf) Capture(f []int16) error {
	clear(f)
	return nil
}

// TestBrokenPartsFail: parts that are there and misbehave fail; the
// suites tell them from absent ones.
func TestBrokenPartsFail(t *testing.T) {
	g, _ := fb.ParseGeometry("480x240x16")
	d, err := fb.New(&lossy{b: make([]byte, g.Size())}, g, fb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := count(Display(d, nil)); c[Fail] == 0 {
		t.Errorf("a framebuffer that loses writes passed")
	}
	if c := count(LEDs(&brokenLEDs{}, nil)); c[Fail] != 1 {
		t.Errorf("LEDs that stay dark: %v", c)
	}
	if c := count(Audio(deaf{}, audio.NewLoopback(2), nil, AudioOptions{})); c[Fail] != 2 {
		t.Errorf("a deaf microphone: %v", c)
	}
	cut := board.StandInSession(8)
	in := evdev.New(bytes.NewReader(cut[:len(cut)-3]), evdev.Config{WordSize: 8})
	fs := Keypad(&recorded{in}, nil, KeypadOptions{})
	if c := count(fs); c[Fail] != 1 {
		t.Errorf("a cut recording:\n%s", dump(fs))
	}
	if f, ok := Opened("display", errors.New("fb: permission denied")); ok || f.Status != Fail {
		t.Errorf("an open error: %+v", f)
	}
	if f, _ := Opened("display", hw.ErrAbsent); f.Status != Absent {
		t.Errorf("absent: %+v", f)
	}
}

// recorded is an evdev stream from memory that says it is no device.
type recorded struct{ *evdev.Device }

func (recorded) KeyCodes() ([]uint16, error) { return nil, evdev.ErrNotDevice }

// person answers yes and, asked to press a key, has it pressed.
type person struct {
	in     *pressFeed
	told   []string
	asked  []string
	answer bool
}

func (p *person) Ask(q string) (bool, error) { p.asked = append(p.asked, q); return p.answer, nil }
func (p *person) Tell(m string) {
	p.told = append(p.told, m)
	t := p.in.t
	switch {
	case strings.HasPrefix(m, "Press "):
		k := keypad.Key(strings.TrimPrefix(m, "Press "))
		p.in.feed(hw.Event{Kind: hw.KeyDown, Key: k, Time: t}, hw.Event{Kind: hw.KeyUp, Key: k, Time: t.Add(90 * time.Millisecond)})
	case strings.HasPrefix(m, "Hold "):
		k := keypad.Key(strings.Fields(m)[1])
		p.in.feed(hw.Event{Kind: hw.KeyDown, Key: k, Time: t}, hw.Event{Kind: hw.KeyUp, Key: k, Time: t.Add(1800 * time.Millisecond)})
	case strings.HasPrefix(m, "Lift"):
		p.in.feed(hw.Event{Kind: hw.HookOff, Time: t})
	case strings.HasPrefix(m, "Put"):
		p.in.feed(hw.Event{Kind: hw.HookOn, Time: t})
	}
	p.in.t = t.Add(5 * time.Second)
}

type pressFeed struct {
	ch chan hw.Event
	t  time.Time
}

func (f *pressFeed) feed(es ...hw.Event) {
	for _, e := range es {
		f.ch <- e
	}
}

func (f *pressFeed) ReadEvent() (hw.Event, error) {
	e, ok := <-f.ch
	if !ok {
		return hw.Event{}, io.EOF
	}
	return e, nil
}

// TestInteractive: with a person at the handset every key is asked for
// and pressed, a long press held, the hook lifted and put down, each LED
// and the test picture confirmed.
func TestInteractive(t *testing.T) {
	feed := &pressFeed{ch: make(chan hw.Event, 16), t: time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)}
	p := &person{in: feed, answer: true}
	fs := Keypad(feed, p, KeypadOptions{Wait: 5 * time.Second})
	if c := count(fs); c[Fail] != 0 || c[Pass] != 16 {
		t.Fatalf("keys:\n%s", dump(fs))
	}
	if p.told[0] != "Press 1" || !strings.HasPrefix(p.told[14], "Hold 1") {
		t.Errorf("prompts: %q", p.told)
	}
	leds := &fake.LEDs{}
	fs = LEDs(leds, p)
	if c := count(fs); c[Fail] != 0 || len(p.asked) != 8 {
		t.Fatalf("LEDs:\n%s\nasked %q", dump(fs), p.asked)
	}
	p.answer = false
	fs = Display(&fake.Display{Cols: 80, Rows: 24}, p)
	if c := count(fs); c[Fail] != 1 {
		t.Fatalf("a person who does not see the picture:\n%s", dump(fs))
	}
}

// TestKeypadTimeout: a key nobody presses fails after the wait, naming
// what was pressed instead.
func TestKeypadTimeout(t *testing.T) {
	in := &fake.Input{Events: []hw.Event{{Kind: hw.KeyDown, Key: "2"}, {Kind: hw.KeyUp, Key: "2"}}}
	defer in.Close()
	p := &person{in: &pressFeed{ch: make(chan hw.Event, 1)}}
	fs := Keypad(in, &quiet{p}, KeypadOptions{Keys: []keypad.Key{"1"}, Wait: 50 * time.Millisecond})
	if len(fs) == 0 || fs[0].Status != Fail || !strings.Contains(fs[0].Detail, "pressed instead: 2") {
		t.Fatalf("%s", dump(fs))
	}
}

// quiet is a person who hears the prompts and does nothing.
type quiet struct{ *person }

func (q *quiet) Tell(string) {}

func TestGoertzel(t *testing.T) {
	x := make([]int16, 8000)
	amp := 32767 * math.Pow(10, -12.0/20)
	for i := range x {
		x[i] = int16(amp * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	peak, dom := tonePeak(x, 8000)
	if peak != 1000 || dom < 40 {
		t.Errorf("peak %v Hz, %v dB", peak, dom)
	}
	if l := toneLevel(x, 1000, 8000); math.Abs(l+12) > 0.1 {
		t.Errorf("level %v dBFS", l)
	}
	clear(x)
	if l := toneLevel(x, 1000, 8000); !math.IsInf(l, -1) {
		t.Errorf("silence: %v dBFS", l)
	}
}
