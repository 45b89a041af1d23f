package term

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"phonesim/display"
	"phonesim/firmware"
	"phonesim/keypad"
)

// wait is how long a test waits for something that should happen at once.
const wait = 5 * time.Second

type harness struct {
	t      *testing.T
	s      tcell.SimulationScreen
	views  chan firmware.View
	keys   chan firmware.KeyPressed
	frames chan shot // the latest screen, taken after each draw
	last   shot
	done   chan error
}

// shot is the simulated screen as it was after one draw. It is taken on
// Run's goroutine: GetContents hands out the screen's own buffer.
type shot struct {
	text  string
	cells []tcell.SimCell
}

func take(s tcell.SimulationScreen) shot {
	cells, w, _ := s.GetContents()
	var b strings.Builder
	cp := make([]tcell.SimCell, len(cells))
	for i, c := range cells {
		if i > 0 && i%w == 0 {
			b.WriteByte('\n')
		}
		if len(c.Runes) == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteString(string(c.Runes))
		}
		cp[i] = tcell.SimCell{Bytes: append([]byte(nil), c.Bytes...), Runes: append([]rune(nil), c.Runes...)}
	}
	return shot{b.String(), cp}
}

func start(t *testing.T, w, h int, keys chan firmware.KeyPressed) *harness {
	t.Helper()
	s := tcell.NewSimulationScreen("UTF-8")
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	s.SetSize(w, h)
	hs := &harness{t: t, s: s, views: make(chan firmware.View), keys: keys,
		frames: make(chan shot, 1), done: make(chan error, 1)}
	term := New(s)
	term.afterDraw = func() { // keep only the newest shot
		select {
		case <-hs.frames:
		default:
		}
		hs.frames <- take(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logLines := func() []string { return []string{"[INFO] 14/3/2025 09:20:01: boot done", "[INFO] hello from the log"} }
	go func() { hs.done <- term.Run(ctx, hs.views, keys, logLines) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-hs.done:
		case <-time.After(wait):
			t.Error("Run did not return after cancel")
		}
		s.Fini()
	})
	return hs
}

func (h *harness) show(v firmware.View) {
	h.t.Helper()
	select {
	case h.views <- v:
	case <-time.After(wait):
		h.t.Fatal("Run does not take views")
	}
}

// until waits for a drawn screen that satisfies ok and returns it.
func (h *harness) until(what string, ok func(string) bool) shot {
	h.t.Helper()
	deadline := time.After(wait)
	for !ok(h.last.text) {
		select {
		case h.last = <-h.frames:
		case <-deadline:
			h.t.Fatalf("screen never showed %s:\n%s", what, h.last.text)
		}
	}
	return h.last
}

func (h *harness) contains(s string) shot {
	h.t.Helper()
	return h.until(s, func(text string) bool { return strings.Contains(text, s) })
}

func (h *harness) expect(want ...keypad.Key) {
	h.t.Helper()
	for _, k := range want {
		select {
		case got := <-h.keys:
			if got != (firmware.KeyPressed{Key: k}) {
				h.t.Fatalf("key %+v, want %q", got, k)
			}
		case <-time.After(wait):
			h.t.Fatalf("no key, want %q", k)
		}
	}
}

func idle() firmware.View {
	return firmware.View{
		Now:      time.Date(2025, 3, 14, 9, 26, 0, 0, time.UTC),
		Identity: firmware.IdentityView{Index: 1, User: "100", Host: "pbx", Registered: true},
		Softkeys: [4]string{"Menu", "Missed", "DND", "Fwd"},
	}
}

func ringing(display string) firmware.View {
	v := idle()
	v.Calls = []firmware.CallView{{ID: "c1", State: firmware.Ringing, Direction: firmware.Incoming,
		Remote: firmware.Party{URI: "sip:alice@127.0.0.1:5062", Display: display}}}
	v.Active = "c1"
	return v
}

func TestKeyboard(t *testing.T) {
	h := start(t, 80, 24, make(chan firmware.KeyPressed, 64))
	h.show(idle())
	h.contains("Pick up")
	tests := []struct {
		key  tcell.Key
		r    rune
		mod  tcell.ModMask
		want keypad.Key
	}{
		{tcell.KeyRune, '5', 0, "5"},
		{tcell.KeyRune, '*', 0, "*"},
		{tcell.KeyRune, '#', 0, "#"},
		{tcell.KeyEnter, 0, 0, keypad.Enter},
		{tcell.KeyEscape, 0, 0, keypad.Cancel},
		{tcell.KeyF1, 0, 0, keypad.F1},
		{tcell.KeyF4, 0, 0, keypad.F4},
		{tcell.KeyF5, 0, 0, "P1"},
		{tcell.KeyF12, 0, 0, "P8"},
		{tcell.KeyUp, 0, 0, keypad.Up},
		{tcell.KeyDown, 0, 0, keypad.Down},
		{tcell.KeyLeft, 0, 0, keypad.Left},
		{tcell.KeyRight, 0, 0, keypad.Right},
		{tcell.KeyBackspace2, 0, 0, keypad.Left},
		{tcell.KeyRune, 's', 0, keypad.Speaker},
		{tcell.KeyRune, 'e', 0, keypad.Headset},
		{tcell.KeyRune, 'd', 0, keypad.DND},
		{tcell.KeyRune, 'f', 0, keypad.Redirect},
		{tcell.KeyRune, 'r', 0, keypad.Redial},
		{tcell.KeyRune, 'o', 0, keypad.Hold},
		{tcell.KeyRune, 't', 0, keypad.Transfer},
		{tcell.KeyRune, 'm', 0, keypad.Mute},
		{tcell.KeyRune, '+', 0, keypad.VolumeUp},
		{tcell.KeyRune, '-', 0, keypad.VolumeDown},
		// The hook switch: lift, put down (tracked locally until a View says otherwise).
		{tcell.KeyRune, ' ', 0, keypad.OffHook},
		{tcell.KeyRune, ' ', 0, keypad.OnHook},
	}
	for _, tc := range tests {
		h.s.InjectKey(tc.key, tc.r, tc.mod)
		h.expect(tc.want)
	}

	// A View that says the handset is off the hook: space hangs up.
	v := idle()
	v.Hook = firmware.Handset
	h.show(v)
	h.contains("Hang up")
	h.s.InjectKey(tcell.KeyRune, ' ', 0)
	h.expect(keypad.OnHook)

	// Keys that mean nothing send nothing: the next key is the next one out.
	h.s.InjectKey(tcell.KeyRune, 'z', 0)
	h.s.InjectKey(tcell.KeyRune, 'x', tcell.ModAlt)
	h.s.InjectKey(tcell.KeyRune, '1', 0)
	h.expect("1")
}

func TestMouse(t *testing.T) {
	h := start(t, 80, 24, make(chan firmware.KeyPressed, 64))
	v := idle()
	h.show(v)
	h.contains("Pick up")
	f := display.Draw(v, 80, 24, display.Options{})
	for _, want := range []keypad.Key{"7", "P1", "P17", keypad.F3, keypad.OffHook, keypad.DND, keypad.Enter} {
		var hs *display.Hotspot
		for i := range f.Hotspots {
			if f.Hotspots[i].Key == want {
				hs = &f.Hotspots[i]
			}
		}
		if hs == nil {
			t.Fatalf("no hotspot for %q", want)
		}
		h.s.InjectMouse(hs.X+hs.W/2, hs.Y, tcell.Button1, 0)
		h.s.InjectMouse(hs.X+hs.W/2, hs.Y, tcell.ButtonNone, 0)
		h.expect(want)
	}
	// A click on nothing sends nothing.
	h.s.InjectMouse(40, 10, tcell.Button1, 0)
	h.s.InjectMouse(40, 10, tcell.ButtonNone, 0)
	h.s.InjectKey(tcell.KeyRune, '9', 0)
	h.expect("9")
}

func TestRingingCaller(t *testing.T) {
	h := start(t, 80, 24, make(chan firmware.KeyPressed, 64))
	h.show(idle())
	h.show(ringing("Alice"))
	s := h.contains("Incoming call").text
	if !strings.Contains(s, "Alice") || !strings.Contains(s, "sip:alice@127.0.0.1:5062") {
		t.Errorf("caller missing:\n%s", s)
	}
}

func TestHostileDisplayName(t *testing.T) {
	h := start(t, 80, 24, make(chan firmware.KeyPressed, 64))
	v := ringing("\x1b[2J<script>&x=1\x1b]0;owned\x07\x9b1m")
	v.Identity.Display = "\x1b[31mBob\r\n"
	h.show(v)
	for i, c := range h.contains("<script>&x=1").cells {
		for _, b := range c.Bytes {
			if b == 0x1b || b < ' ' || b == 0x7f {
				t.Fatalf("cell %d holds control byte %#x", i, b)
			}
		}
		for _, r := range c.Runes {
			if r < ' ' || r >= 0x7f && r <= 0x9f {
				t.Fatalf("cell %d holds control rune %U", i, r)
			}
		}
	}
}

func TestHelpAndLog(t *testing.T) {
	h := start(t, 80, 24, make(chan firmware.KeyPressed, 64))
	h.show(idle())
	h.s.InjectKey(tcell.KeyRune, '?', 0)
	h.contains("Keys (? closes)")
	// Esc closes the help and is not a CANCEL.
	h.s.InjectKey(tcell.KeyEscape, 0, 0)
	h.until("help closed", func(s string) bool { return !strings.Contains(s, "Keys (? closes)") })
	h.s.InjectKey(tcell.KeyRune, '2', 0)
	h.expect("2")

	h.s.InjectKey(tcell.KeyRune, 'l', 0)
	h.contains("hello from the log")
	h.s.InjectKey(tcell.KeyRune, 'l', 0)
	h.until("log closed", func(s string) bool { return !strings.Contains(s, "hello from the log") })
}

func TestResize(t *testing.T) {
	h := start(t, 80, 24, make(chan firmware.KeyPressed, 64))
	h.show(idle())
	h.contains("P32")
	h.s.SetSize(60, 20)
	h.s.PostEvent(tcell.NewEventResize(60, 20))
	h.contains("terminal too small (need 80x24)")
	h.s.SetSize(120, 40)
	h.s.PostEvent(tcell.NewEventResize(120, 40))
	h.contains("P32")
}

func TestQuit(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  tcell.Key
		r    rune
		mod  tcell.ModMask
	}{
		{"q", tcell.KeyRune, 'q', 0},
		{"ctrl-c", tcell.KeyCtrlC, 0, tcell.ModCtrl},
		{"ctrl-c raw", tcell.KeyRune, 3, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, 80, 24, make(chan firmware.KeyPressed, 64))
			h.show(idle())
			h.s.InjectKey(tc.key, tc.r, tc.mod)
			select {
			case err := <-h.done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
				h.done <- nil // for the cleanup
			case <-time.After(wait):
				t.Fatal("Run did not return")
			}
		})
	}
}

// A phone that does not take its keys does not freeze the screen.
func TestSlowPhone(t *testing.T) {
	h := start(t, 80, 24, make(chan firmware.KeyPressed)) // nobody reads it yet
	h.show(idle())
	for range 100 { // more than are kept
		h.s.InjectKey(tcell.KeyRune, '1', 0)
	}
	h.s.InjectKey(tcell.KeyRune, '?', 0)
	h.contains("Keys (? closes)")
	h.show(ringing("Alice"))
	h.contains("Incoming call")
	got := 0
	for got < maxPending {
		select {
		case <-h.keys:
			got++
		case <-time.After(wait):
			t.Fatalf("%d keys arrived, want %d", got, maxPending)
		}
	}
}

// Run initialises a screen it is given uninitialised and finalises it.
func TestRunOwnsScreen(t *testing.T) {
	s := tcell.NewSimulationScreen("UTF-8")
	term := New(s)
	drawn := make(chan struct{}, 1) // no GetContents here: nothing to race with
	term.afterDraw = func() {
		select {
		case drawn <- struct{}{}:
		default:
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- term.Run(ctx, nil, nil, nil) }()
	select {
	case <-drawn:
	case <-time.After(wait):
		t.Fatal("no frame drawn")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not return")
	}
}

// BenchmarkFrame is a whole terminal frame: Draw, every cell to the
// screen, Show.
func BenchmarkFrame(b *testing.B) {
	for _, sz := range [][2]int{{80, 24}, {160, 50}} {
		b.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(b *testing.B) {
			s := tcell.NewSimulationScreen("UTF-8")
			if err := s.Init(); err != nil {
				b.Fatal(err)
			}
			defer s.Fini()
			s.SetSize(sz[0], sz[1])
			term := New(s)
			v := ringing("Alice")
			v.Calls[0].State = firmware.Connected
			v.Calls[0].Seconds = 65
			u := &ui{view: v}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				u.view.Calls[0].Seconds = i // the timer changes each frame
				term.draw(u, nil)
			}
		})
	}
}

// Terminals report no key release: Alt on a function key, or the right
// button on a drawn key, is a long press.
func TestLongPress(t *testing.T) {
	h := start(t, 80, 24, make(chan firmware.KeyPressed, 64))
	h.show(idle())
	h.contains("P1")
	h.s.InjectKey(tcell.KeyF7, 0, tcell.ModAlt)
	select {
	case got := <-h.keys:
		if got != (firmware.KeyPressed{Key: "P3", Held: firmware.LongPress}) {
			t.Fatalf("Alt+F7 = %+v, want a long press of P3", got)
		}
	case <-time.After(wait):
		t.Fatal("no key for Alt+F7")
	}
	h.s.InjectKey(tcell.KeyF7, 0, tcell.ModNone)
	h.expect("P3")
}
