package hwtest

import (
	"phonesim/hw/board"
)

// Options tune a whole self-test.
type Options struct {
	Keypad KeypadOptions
	Audio  AudioOptions
	// Parts limits the run to these parts (display, keys, leds, audio);
	// nil runs them all.
	Parts []string
}

// Run checks every part of an opened board: absent parts are reported
// absent, parts that would not open failed, the rest go through their
// suite. p nil: scripted checks only.
func Run(b *board.Board, p Person, opt Options) *Report {
	r := &Report{Board: b.Profile.Name, Mode: "auto"}
	if p != nil {
		r.Mode = "interactive"
	}
	want := func(part string) bool {
		if opt.Parts == nil {
			return true
		}
		for _, x := range opt.Parts {
			if x == part {
				return true
			}
		}
		return false
	}
	if want("display") {
		if f, ok := Opened("display", b.DisplayErr); !ok {
			r.Add(f)
		} else {
			r.Add(Display(b.Display, p)...)
		}
	}
	if want("keys") {
		if b.Input == nil {
			f, _ := Opened("keys", b.InputErr)
			r.Add(f)
		} else {
			if b.InputErr != nil { // some of several devices
				r.Add(Finding{Part: "keys", Check: "open", Status: Fail, Detail: b.InputErr.Error()})
			}
			ko := opt.Keypad
			if ko.Keymap == nil {
				ko.Keymap = b.Keymap
			}
			r.Add(Keypad(b.Input, p, ko)...)
		}
	}
	if want("leds") {
		if f, ok := Opened("leds", b.LEDErr); !ok {
			r.Add(f)
		} else {
			r.Add(LEDs(b.LEDs, p)...)
		}
	}
	if want("audio") {
		if f, ok := Opened("audio", b.AudioErr); !ok {
			r.Add(f)
		} else {
			r.Add(Audio(b.AudioIn, b.AudioOut, p, opt.Audio)...)
		}
	}
	return r
}
