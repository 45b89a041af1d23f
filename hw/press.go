package hw

import (
	"time"

	"phonesim/firmware"
	"phonesim/keypad"
)

// Presses turns a board's raw input into the phone's key presses:
//
//   - a key is pressed when it comes up, held for the time between its
//     down and its up (kernel timestamps), so a hold of firmware.LongPress
//     or longer is a long press;
//   - a key whose autorepeat shows it held that long is reported at that
//     repeat, held firmware.LongPress, and its up is then swallowed: the
//     long press fires while the finger is still on the key;
//   - the hook switch becomes OFFHOOK and ONHOOK;
//   - unmapped codes, and ups without a down, are ignored.
//
// The zero value is ready to use. It keeps no clock: time comes in with
// the events only.
type Presses struct {
	down map[keypad.Key]downState
}

type downState struct {
	at    time.Time
	fired bool // the long press went out at a repeat
}

// Feed takes one input event and returns the key press it completes.
func (p *Presses) Feed(e Event) (firmware.KeyPressed, bool) {
	switch e.Kind {
	case HookOff:
		return firmware.KeyPressed{Key: keypad.OffHook}, true
	case HookOn:
		return firmware.KeyPressed{Key: keypad.OnHook}, true
	}
	if e.Key == "" {
		return firmware.KeyPressed{}, false
	}
	if p.down == nil {
		p.down = make(map[keypad.Key]downState)
	}
	d, isDown := p.down[e.Key]
	switch e.Kind {
	case KeyDown:
		p.down[e.Key] = downState{at: e.Time}
	case KeyRepeat:
		if !isDown {
			p.down[e.Key] = downState{at: e.Time} // the down was lost: count from here
			break
		}
		if !d.fired && e.Time.Sub(d.at) >= firmware.LongPress {
			d.fired = true
			p.down[e.Key] = d
			return firmware.KeyPressed{Key: e.Key, Held: firmware.LongPress}, true
		}
	case KeyUp:
		if !isDown {
			return firmware.KeyPressed{}, false
		}
		delete(p.down, e.Key)
		if d.fired {
			return firmware.KeyPressed{}, false
		}
		return firmware.KeyPressed{Key: e.Key, Held: max(e.Time.Sub(d.at), 0)}, true
	}
	return firmware.KeyPressed{}, false
}
