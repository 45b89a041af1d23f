package hw

import (
	"testing"
	"time"

	"phonesim/firmware"
)

func TestPresses(t *testing.T) {
	t0 := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	for _, tc := range []struct {
		name   string
		events []Event
		want   []firmware.KeyPressed
	}{
		{"tap", []Event{{Kind: KeyDown, Key: "1", Time: at(0)}, {Kind: KeyUp, Key: "1", Time: at(70)}},
			[]firmware.KeyPressed{{Key: "1", Held: 70 * time.Millisecond}}},
		{"held without repeat", []Event{{Kind: KeyDown, Key: "P1", Time: at(0)}, {Kind: KeyUp, Key: "P1", Time: at(2500)}},
			[]firmware.KeyPressed{{Key: "P1", Held: 2500 * time.Millisecond}}},
		{"held with repeat fires at 1 s", []Event{{Kind: KeyDown, Key: "P1", Time: at(0)}, {Kind: KeyRepeat, Key: "P1", Time: at(500)},
			{Kind: KeyRepeat, Key: "P1", Time: at(1000)}, {Kind: KeyRepeat, Key: "P1", Time: at(1500)}, {Kind: KeyUp, Key: "P1", Time: at(1600)}},
			[]firmware.KeyPressed{{Key: "P1", Held: firmware.LongPress}}},
		{"up without down", []Event{{Kind: KeyUp, Key: "1", Time: at(0)}}, nil},
		{"repeat after a lost down counts from the repeat", []Event{{Kind: KeyRepeat, Key: "2", Time: at(0)}, {Kind: KeyUp, Key: "2", Time: at(300)}},
			[]firmware.KeyPressed{{Key: "2", Held: 300 * time.Millisecond}}},
		{"unmapped code", []Event{{Kind: KeyDown, Code: 30, Time: at(0)}, {Kind: KeyUp, Code: 30, Time: at(50)}}, nil},
		{"clock stepped back", []Event{{Kind: KeyDown, Key: "3", Time: at(500)}, {Kind: KeyUp, Key: "3", Time: at(100)}},
			[]firmware.KeyPressed{{Key: "3"}}},
		{"hook", []Event{{Kind: HookOff}, {Kind: HookOn}}, []firmware.KeyPressed{{Key: "OFFHOOK"}, {Key: "ONHOOK"}}},
		{"two keys interleaved", []Event{{Kind: KeyDown, Key: "1", Time: at(0)}, {Kind: KeyDown, Key: "2", Time: at(10)},
			{Kind: KeyUp, Key: "1", Time: at(100)}, {Kind: KeyUp, Key: "2", Time: at(1200)}},
			[]firmware.KeyPressed{{Key: "1", Held: 100 * time.Millisecond}, {Key: "2", Held: 1190 * time.Millisecond}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p Presses
			var got []firmware.KeyPressed
			for _, e := range tc.events {
				if k, ok := p.Feed(e); ok {
					got = append(got, k)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("press %d: %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}
