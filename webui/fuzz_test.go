package webui

import (
	"testing"

	"phonesim/firmware"
	"phonesim/keypad"
)

// FuzzParseCommand checks that any query either fails or yields only
// events the phone understands: known keys, and numbers without controls.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"key=OFFHOOK;1;%23", "number=+49301234", "key_dtmf=12%2A", "key=%zz", "key=a;;b&number=", "key=EK0&key=P86"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		evs, err := parseCommand(raw)
		if err != nil {
			if evs != nil {
				t.Fatalf("events with an error")
			}
			return
		}
		if len(evs) == 0 || len(evs) > maxCommandEvents {
			t.Fatalf("%d events", len(evs))
		}
		for _, ev := range evs {
			switch ev := ev.(type) {
			case firmware.KeyPressed:
				if k, err := keypad.Parse(string(ev.Key)); err != nil || k != ev.Key {
					t.Fatalf("key %q from %q", ev.Key, raw)
				}
			case firmware.NumberDialed:
				if ev.Number == "" || len(ev.Number) > maxNumberLen {
					t.Fatalf("number %q from %q", ev.Number, raw)
				}
				for _, c := range ev.Number {
					if c < 0x20 || c == 0x7f {
						t.Fatalf("control in number %q", ev.Number)
					}
				}
			default:
				t.Fatalf("unexpected event %T", ev)
			}
		}
	})
}
