package display

import (
	"strings"
	"testing"

	"phonesim/firmware"
)

// FuzzDraw draws network text (a caller's name and URI, a key label, a log
// line) at any size: the frame keeps its size, no control rune reaches a
// cell, and every hotspot lies inside the frame.
func FuzzDraw(f *testing.F) {
	f.Add("Alice", "sip:alice@127.0.0.1:5062", "Line 1", uint8(80), uint8(24))
	f.Add("\x1b[2J<script>&x=1", "sip:\x1b]0;x\x07@h", "\u202eevil", uint8(80), uint8(24))
	f.Add("山田太郎 🙂", "sip:日本@例え.jp", "e\u0301\u200d", uint8(140), uint8(40))
	f.Fuzz(func(t *testing.T, name, uri, label string, w, h uint8) {
		v := withCall(idle(), firmware.CallView{State: firmware.Ringing, Direction: firmware.Incoming,
			Remote: firmware.Party{URI: uri, Display: name}})
		v.Keys[0].Label = label
		v.Softkeys[0] = label
		v.Modules = 1
		fr := Draw(v, int(w), int(h), Options{Log: []string{name, uri}})
		text := fr.Text()
		if n := strings.Count(text, "\n"); n != int(h) {
			t.Fatalf("%d lines, want %d", n, h)
		}
		for _, r := range text {
			if r != '\n' && cellWidth(r) == 0 {
				t.Fatalf("rune %U reached the frame", r)
			}
		}
		for _, hs := range fr.Hotspots {
			if hs.X < 0 || hs.Y < 0 || hs.X+hs.W > fr.W || hs.Y+hs.H > fr.H {
				t.Fatalf("hotspot %v outside %dx%d", hs, fr.W, fr.H)
			}
		}
	})
}
