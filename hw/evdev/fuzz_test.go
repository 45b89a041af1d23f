package evdev

import (
	"bytes"
	"testing"

	"phonesim/hw"
)

// FuzzStream: any bytes read as an event stream, in either layout, end in
// an error and never panic; what is decoded feeds Presses safely.
func FuzzStream(f *testing.F) {
	f.Add(record(8, recording), uint8(8))
	f.Add(record(4, recording), uint8(4))
	f.Add([]byte{1, 2, 3}, uint8(4))
	f.Fuzz(func(t *testing.T, b []byte, word uint8) {
		w := 4
		if word%2 == 0 {
			w = 8
		}
		d := New(bytes.NewReader(b), Config{WordSize: w})
		var p hw.Presses
		for n := 0; ; n++ {
			e, err := d.ReadEvent()
			if err != nil {
				if n > len(b)/EventSize(w) {
					t.Fatalf("%d events from %d bytes", n, len(b))
				}
				return
			}
			p.Feed(e)
		}
	})
}

// FuzzKeymap: a keymap setting parses or fails; what parses writes back
// as a setting that parses to the same map.
func FuzzKeymap(f *testing.F) {
	for _, s := range []string{"KEY_F5=DND, 0x2c=mute KEY_BACKSPACE=", "only,KEY_A=1", "KEY_F5", "=", "only", "KEY_NUMERIC_POUND=%23"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseKeymap(s, nil)
		if err != nil {
			return
		}
		back, err := ParseKeymap("only,"+m.String(), nil)
		if err != nil || len(back) != len(m) {
			t.Fatalf("%q → %q: %v", s, m.String(), err)
		}
	})
}
