package display

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"phonesim/firmware"
	"phonesim/keypad"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var now = time.Date(2025, time.March, 14, 9, 26, 53, 0, time.UTC)

// idle is a registered phone at rest with a few function keys set up.
func idle() firmware.View {
	id := firmware.IdentityView{Index: 1, User: "100", Host: "pbx.example.com", Display: "Bob Desk", Registered: true}
	keys := make([]firmware.KeyView, keypad.BaseFunctionKeys)
	keys[0] = firmware.KeyView{Label: "Line 1", Kind: "line", LED: firmware.LED{State: firmware.LEDOn, Color: firmware.Green}}
	keys[1] = firmware.KeyView{Label: "Line 2", Kind: "line"}
	keys[2] = firmware.KeyView{Label: "Alice", Kind: "blf", LED: firmware.LED{State: firmware.LEDFastBlink, Color: firmware.Red}}
	keys[3] = firmware.KeyView{Label: "Carol", Kind: "blf", LED: firmware.LED{State: firmware.LEDOn, Color: firmware.Red}}
	keys[4] = firmware.KeyView{Label: "CRM lookup", Kind: "url"}
	keys[16] = firmware.KeyView{Label: "Voicemail", Kind: "speed", LED: firmware.LED{State: firmware.LEDSlowBlink, Color: firmware.Orange}}
	keys[31] = firmware.KeyView{Label: "Park", Kind: "dest"}
	return firmware.View{
		Now:        now,
		Identity:   id,
		Identities: []firmware.IdentityView{id},
		Softkeys:   [4]string{"Menu", "Missed", "DND", "Fwd"},
		Keys:       keys,
		Volume:     5,
	}
}

func alice() firmware.Party {
	return firmware.Party{URI: "sip:alice@127.0.0.1:5062", Display: "Alice"}
}

func withCall(v firmware.View, c firmware.CallView) firmware.View {
	c.ID = "c1"
	v.Calls = []firmware.CallView{c}
	v.Active = c.ID
	return v
}

var goldens = []struct {
	name string
	w, h int
	view func() firmware.View
	opt  Options
}{
	{"idle", 80, 24, idle, Options{}},
	{"idle_dnd_fwd_missed", 80, 24, func() firmware.View {
		v := idle()
		v.DND, v.Redirect, v.RedirectTo, v.Missed = true, "all", "200", 2
		return v
	}, Options{}},
	{"dialing", 80, 24, func() firmware.View {
		v := idle()
		v.Hook, v.Digits = firmware.Handset, "12345"
		v.Softkeys = [4]string{"Dial", "", "<<", "Cancel"}
		return v
	}, Options{}},
	{"incoming", 80, 24, func() firmware.View {
		v := withCall(idle(), firmware.CallView{State: firmware.Ringing, Direction: firmware.Incoming, Remote: alice()})
		v.Softkeys = [4]string{"Answer", "Reject", "Fwd", "Silence"}
		v.Keys[0].LED = firmware.LED{State: firmware.LEDFastBlink, Color: firmware.Green}
		return v
	}, Options{}},
	{"connected_muted", 80, 24, func() firmware.View {
		v := withCall(idle(), firmware.CallView{State: firmware.Connected, Direction: firmware.Incoming, Remote: alice(), Seconds: 65, Muted: true})
		v.Hook = firmware.HandsFree
		v.Softkeys = [4]string{"Hold", "Xfer", "Conf", "End"}
		return v
	}, Options{}},
	{"on_hold", 80, 24, func() firmware.View {
		v := withCall(idle(), firmware.CallView{State: firmware.OnHold, Direction: firmware.Outgoing, Remote: alice(), Seconds: 312})
		v.Hook = firmware.Headset
		v.Softkeys = [4]string{"Resume", "Xfer", "", "End"}
		v.Keys[0].LED = firmware.LED{State: firmware.LEDSlowBlink, Color: firmware.Orange}
		return v
	}, Options{}},
	{"transfer", 80, 24, func() firmware.View {
		v := withCall(idle(), firmware.CallView{State: firmware.Connected, Direction: firmware.Incoming, Remote: alice(), Seconds: 20})
		v.Transfer, v.Digits = "c1", "200"
		v.Softkeys = [4]string{"Xfer", "Del", "", "Cancel"}
		return v
	}, Options{}},
	{"call_waiting", 80, 24, func() firmware.View {
		v := withCall(idle(), firmware.CallView{State: firmware.Connected, Direction: firmware.Outgoing, Remote: alice(), Seconds: 3725})
		v.Calls = append(v.Calls,
			firmware.CallView{ID: "c2", State: firmware.Ringing, Direction: firmware.Incoming, Remote: firmware.Party{URI: "sip:carol@pbx.example.com", Display: "Carol"}},
			firmware.CallView{ID: "c3", State: firmware.OnHold, Direction: firmware.Incoming, Remote: firmware.Party{URI: "sip:300@pbx.example.com"}, Seconds: 42})
		v.Hook = firmware.Handset
		v.Softkeys = [4]string{"Hold", "Xfer", "Answer", "End"}
		return v
	}, Options{}},
	{"missed_list", 80, 24, func() firmware.View {
		v := idle()
		v.Screen, v.Missed = firmware.ScreenMissed, 3
		v.List = []firmware.ListEntry{
			{Remote: alice(), When: now.Add(-2 * time.Hour)},
			{Remote: firmware.Party{URI: "sip:0301234567@pbx.example.com"}, When: now.Add(-26 * time.Hour)},
			{Remote: firmware.Party{URI: "sip:carol@pbx.example.com", Display: "Carol from Accounting, Building 7, Floor 3"}, When: now.Add(-50 * time.Hour)},
		}
		v.ListCursor = 1
		v.Softkeys = [4]string{"Dial", "Delete", "Action", "Back"}
		return v
	}, Options{}},
	{"module_140x40", 140, 40, func() firmware.View {
		v := idle()
		v.Modules = 1
		v.Keys = append(v.Keys, make([]firmware.KeyView, keypad.ModuleKeys)...)
		v.Keys[32] = firmware.KeyView{Label: "Sales", Kind: "blf", LED: firmware.LED{State: firmware.LEDOn, Color: firmware.Red}}
		v.Keys[49] = firmware.KeyView{Label: "Support", Kind: "blf", LED: firmware.LED{State: firmware.LEDOn, Color: firmware.Green}}
		return v
	}, Options{Title: "phonesim snomD785"}},
	{"help", 80, 24, idle, Options{Help: true}},
	{"log", 80, 24, idle, Options{Log: logLines()}},
	{"log_right_140x40", 140, 40, idle, Options{Log: logLines()}},
	{"too_small", 60, 20, idle, Options{}},
}

func logLines() []string {
	return []string{
		"[INFO] 14/3/2025 09:20:01: boot done",
		"[INFO] 14/3/2025 09:20:02: registered 100@pbx.example.com",
		"[INFO] 14/3/2025 09:25:40: action_incoming_url http://crm.local/in?remote=alice -> 200 (12 ms)",
		"[WARN] 14/3/2025 09:26:10: missed call from \x1b[31mAlice\x1b[0m",
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range goldens {
		t.Run(tc.name, func(t *testing.T) {
			got := Draw(tc.view(), tc.w, tc.h, tc.opt).Text()
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("frame differs from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
			}
		})
	}
}

// Every frame stays inside its grid and is exactly h lines of text.
func TestDrawSizes(t *testing.T) {
	views := []firmware.View{idle(), {}}
	for _, v := range views {
		for _, sz := range [][2]int{{0, 0}, {1, 1}, {79, 24}, {80, 23}, {80, 24}, {81, 25}, {100, 30}, {160, 50}, {300, 100}} {
			for _, opt := range []Options{{}, {Help: true}, {Log: logLines()}} {
				v.Modules = 3
				f := Draw(v, sz[0], sz[1], opt)
				if len(f.Cells) != sz[0]*sz[1] {
					t.Fatalf("%v: %d cells", sz, len(f.Cells))
				}
				if n := strings.Count(f.Text(), "\n"); n != sz[1] {
					t.Fatalf("%v: %d lines", sz, n)
				}
				for _, h := range f.Hotspots {
					if h.X < 0 || h.Y < 0 || h.X+h.W > f.W || h.Y+h.H > f.H {
						t.Errorf("%v: hotspot %v outside the frame", sz, h)
					}
				}
			}
		}
	}
}

func TestHostileText(t *testing.T) {
	hostile := "\x1b[2J<script>&x=1\r\n\x07\u202e\u200bevil\x9b31m\x7f"
	v := withCall(idle(), firmware.CallView{State: firmware.Ringing, Direction: firmware.Incoming,
		Remote: firmware.Party{URI: "sip:\x1b]0;pwned\x07@h", Display: hostile}})
	v.Identity.Display = hostile
	v.Softkeys[0] = hostile
	v.Keys[0].Label = hostile
	v.Message = hostile
	for _, opt := range []Options{{}, {Log: []string{hostile}, Title: hostile}} {
		for _, sz := range [][2]int{{80, 24}, {200, 60}} {
			text := Draw(v, sz[0], sz[1], opt).Text()
			for _, r := range text {
				if r < ' ' && r != '\n' || r >= 0x7f && r <= 0x9f || r == '\u202e' || r == '\u200b' {
					t.Fatalf("%v: control rune %U reached the frame:\n%s", sz, r, text)
				}
			}
			if !strings.Contains(text, "<script>&x=1") {
				t.Errorf("the printable part of the name is missing:\n%s", text)
			}
		}
	}
}

func TestClean(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"Alice", 10, "Alice"},
		{"Alice", 5, "Alice"},
		{"Alice", 4, "Ali…"},
		{"\x1b[2J<b>", -1, "[2J<b>"},
		{"a\tb\nc\rd", -1, "abcd"},
		{"a\u00a0b", -1, "a b"},
		{"e\u0301t\u00e9", -1, "eté"},
		{"日本語", 6, "日本語"},
		{"日本語", 5, "日本…"},
		{"日本語", 4, "日…"},
		{"x", 0, ""},
		{"bad\xffutf8", -1, "bad\ufffdutf8"},
	}
	for _, tc := range tests {
		if got := Clean(tc.in, tc.width); got != tc.want {
			t.Errorf("Clean(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
	}
}

// Wide runes take two cells and the frame stays aligned.
func TestWideRunes(t *testing.T) {
	v := withCall(idle(), firmware.CallView{State: firmware.Connected, Remote: firmware.Party{URI: "sip:x@y", Display: "山田太郎 🙂"}})
	f := Draw(v, 80, 24, Options{})
	text := f.Text()
	if !strings.Contains(text, "山田太郎 🙂") {
		t.Fatalf("wide name missing:\n%s", text)
	}
	for y := range f.H {
		w := 0
		for x := range f.W {
			if c := f.At(x, y); c.Rune != 0 {
				w++
				if cellWidth(c.Rune) == 2 {
					w++
				}
			}
		}
		if w != f.W {
			t.Fatalf("row %d is %d cells wide", y, w)
		}
	}
}

func find(t *testing.T, f *Frame, s string) (int, int) {
	t.Helper()
	for y, line := range strings.Split(f.Text(), "\n") {
		if i := strings.Index(line, s); i >= 0 {
			return len([]rune(line[:i])), y
		}
	}
	t.Fatalf("%q not in frame:\n%s", s, f.Text())
	return 0, 0
}

func TestKeyAt(t *testing.T) {
	v := idle()
	f := Draw(v, 80, 24, Options{})
	offhook := idle()
	offhook.Hook = firmware.Handset
	g := Draw(offhook, 80, 24, Options{})
	tests := []struct {
		name string
		f    *Frame
		at   string // text drawn on the key
		dx   int    // click this far into it
		want keypad.Key
	}{
		{"digit 5", f, "[ 5 ]", 2, "5"},
		{"digit star", f, "[ * ]", 0, "*"},
		{"hash", f, "[ # ]", 4, "#"},
		{"softkey F2", f, "Missed", 1, keypad.F2},
		{"softkey F4", f, "Fwd  ]", 5, keypad.F4},
		{"P1 LED", f, "● P1", 0, "P1"},
		{"P1 label", f, "Line 1", 3, "P1"},
		{"P17", f, "Voicemail", 0, "P17"},
		{"hook on-hook", f, "[Pick up]", 3, keypad.OffHook},
		{"hook off-hook", g, "[Hang up]", 3, keypad.OnHook},
		{"DND", f, "DND]", 0, keypad.DND},
		{"OK", f, "[ OK ]", 2, keypad.Enter},
		{"Cancel", f, "[Cancel]", 7, keypad.Cancel},
		{"up", f, "[ ▲ ]", 2, keypad.Up},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x, y := find(t, tc.f, tc.at)
			got, ok := tc.f.KeyAt(x+tc.dx, y)
			if !ok || got != tc.want {
				t.Errorf("KeyAt(%d,%d) = %q, %v; want %q", x+tc.dx, y, got, ok, tc.want)
			}
		})
	}
	for _, p := range [][2]int{{0, 0}, {40, 5}, {-1, 3}, {80, 3}, {3, 24}} {
		if k, ok := f.KeyAt(p[0], p[1]); ok {
			t.Errorf("KeyAt%v = %q, want nothing", p, k)
		}
	}
	// Under the help overlay nothing is clickable.
	h := Draw(v, 80, 24, Options{Help: true})
	if k, ok := h.KeyAt(40, 12); ok {
		t.Errorf("KeyAt under the help overlay = %q", k)
	}
}

func TestModuleKeys(t *testing.T) {
	v := idle()
	v.Modules = 3
	v.Keys = append(v.Keys, make([]firmware.KeyView, 3*keypad.ModuleKeys)...)
	for _, tc := range []struct {
		w, mods int
	}{{80, 0}, {102, 0}, {103, 1}, {126, 2}, {149, 3}, {300, 3}} {
		f := Draw(v, tc.w, 40, Options{})
		got := 0
		for _, h := range f.Hotspots {
			if i, ok := h.Key.FunctionIndex(); ok && i >= keypad.BaseFunctionKeys {
				got++
			}
		}
		if got != tc.mods*keypad.ModuleKeys {
			t.Errorf("width %d: %d module keys drawn, want %d", tc.w, got, tc.mods*keypad.ModuleKeys)
		}
		if _, ok := f.KeyAt(find(t, f, "Park P32")); !ok {
			t.Errorf("width %d: P32 not clickable", tc.w)
		}
	}
}

func benchView() firmware.View {
	v := withCall(idle(), firmware.CallView{State: firmware.Connected, Direction: firmware.Incoming, Remote: alice(), Seconds: 65})
	v.Softkeys = [4]string{"Hold", "Xfer", "Conf", "End"}
	return v
}

func BenchmarkDraw(b *testing.B) {
	for _, sz := range [][2]int{{80, 24}, {160, 50}} {
		b.Run(strconv.Itoa(sz[0])+"x"+strconv.Itoa(sz[1]), func(b *testing.B) {
			v := benchView()
			b.ReportAllocs()
			for b.Loop() {
				Draw(v, sz[0], sz[1], Options{})
			}
		})
	}
}

// TestPageShown: a multicast page playing shows on the idle screen and
// over a call.
func TestPageShown(t *testing.T) {
	const page = "Page from 192.0.2.7:4000 (239.1.1.1:5000)"
	v := firmware.View{Page: page}
	if lines, _ := screenLines(v); !slices.Contains(lines, page) {
		t.Errorf("idle screen %q: no page line", lines)
	}
	v.Calls = []firmware.CallView{{ID: "c1", State: firmware.Connected}}
	v.Active = "c1"
	if lines, _ := screenLines(v); !slices.Contains(lines, page) {
		t.Errorf("call screen %q: no page line", lines)
	}
}
