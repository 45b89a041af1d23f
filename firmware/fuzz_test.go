package firmware

import (
	"testing"
	"time"

	"phonesim/keypad"
	"phonesim/provisioning"
)

// allKeys are the keys FuzzStep presses.
var allKeys = []keypad.Key{
	"0", "1", "5", "9", "*", "#", keypad.OffHook, keypad.OnHook, keypad.Speaker, keypad.Headset,
	keypad.Enter, keypad.Cancel, keypad.DND, keypad.Redirect, keypad.Redial, keypad.Hold,
	keypad.Transfer, keypad.Mute, keypad.VolumeUp, keypad.Up, keypad.Down, keypad.Left,
	keypad.F1, keypad.F2, keypad.F3, keypad.F4, "P1", "P2", "P3", "P5", "P6", "P7", "P33", "P86",
}

// FuzzStep feeds random event sequences, one event per input byte pair,
// and checks the invariants after each: no panic, hook consistent with the
// calls, never more calls than appearances, at most one connected call.
func FuzzStep(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{20, 0, 4, 10, 21, 1, 22, 1, 24, 1, 4, 11})
	f.Add([]byte{20, 0, 20, 1, 20, 2, 20, 3, 20, 4, 4, 10, 4, 13, 4, 10})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := provisioning.New()
		_ = s.Set("user_name1", "100")
		_ = s.Set("max_calls", "3")
		_ = s.Set("auto_dial", "1")
		_ = s.Set("redirect_number", "200")
		_ = s.Set("redirect_time_number", "300")
		_ = s.Set("redirect_time", "1")
		_ = s.Set("fkey4", "dest sip:echo@127.0.0.1:5070")
		_ = s.Set("fkey5", "keyevent F_DND")
		_ = s.Set("fkey6", "url http://x/$remote")
		_ = s.Set("expansion_modules", "1")
		_ = s.Set("action_incoming_url", "http://crm/$remote&$display_remote")
		p := New(s)
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		p.Step(PoweredOn{})
		p.Step(NetworkUp{IP: "127.0.0.1", Port: 5060})
		ids := []CallID{"c0", "c1", "c2", "c3", "c4", "out-1", "out-2", "out-3", "out-4", "out-5"}
		for i := 0; i+1 < len(data); i += 2 {
			op, arg := data[i], int(data[i+1])
			id := ids[arg%len(ids)]
			var ev Event
			switch op % 12 {
			case 0, 1, 2, 3:
				ev = KeyPressed{Key: allKeys[arg%len(allKeys)]}
			case 4:
				ev = CallOffered{Call: id, From: Party{URI: "sip:x@y", Display: string(data[i:])}, To: "100"}
			case 5:
				ev = CallProgressed{Call: id, Status: []int{180, 183, 100}[arg%3]}
			case 6:
				ev = CallAnswered{Call: id}
			case 7:
				ev = CallFailed{Call: id, Status: 400 + arg}
			case 8:
				ev = CallCanceled{Call: id}
			case 9:
				ev = CallEnded{Call: id}
			case 10:
				now = now.Add(time.Duration(arg) * TickInterval)
				for j := 0; j <= arg%20; j++ {
					ev = Tick{Now: now}
					p.Step(ev)
				}
			case 11:
				ev = SettingChanged{Name: []string{"dnd_mode", "redirect_event", "call_waiting", "fkey0"}[arg%4],
					Value: []string{"on", "off", "all", "busy", "time", "2", "line"}[arg%7]}
			}
			p.Step(ev)
			if err := checkInvariants(p); err != nil {
				t.Fatalf("event %d (%T %+v): %v", i/2, ev, ev, err)
			}
			_ = p.View()
		}
	})
}

// BenchmarkStepKey measures one key press in the dialing state: the bar is
// 5 µs and no allocation beyond the returned effects.
func BenchmarkStepKey(b *testing.B) {
	s := provisioning.New()
	_ = s.Set("user_name1", "100")
	p := New(s)
	p.Step(PoweredOn{})
	p.Step(NetworkUp{IP: "127.0.0.1", Port: 5060})
	p.Step(KeyPressed{Key: keypad.OffHook})
	ev := KeyPressed{Key: "5"}
	del := KeyPressed{Key: keypad.Left}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			p.Step(ev)
		} else {
			p.Step(del)
		}
	}
}

// TestStepKeyAllocs pins the allocation bar: a digit key press allocates
// only the slice of effects it returns.
func TestStepKeyAllocs(t *testing.T) {
	s := provisioning.New()
	_ = s.Set("user_name1", "100")
	p := New(s)
	p.Step(PoweredOn{})
	p.Step(KeyPressed{Key: keypad.OffHook})
	allocs := testing.AllocsPerRun(1000, func() {
		p.Step(KeyPressed{Key: "5"})
		p.Step(KeyPressed{Key: keypad.Left})
	})
	if allocs > 2 {
		t.Fatalf("two key presses allocated %.1f times, want at most 2 (the returned effect slices)", allocs)
	}
}
