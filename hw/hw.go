// Package hw is the phone's hardware layer: the few small interfaces
// through which the device loop and the self-test reach a board's keys,
// hook switch, display, function-key LEDs and audio. The drivers live
// below it (hw/fb, hw/evdev, hw/sysled, hw/audio), stand-ins for tests in
// hw/fake, and hw/board puts a board together from a profile.
//
// Nothing here knows a device path or an ioctl; nothing in a driver knows
// SIP or the phone's state.
package hw

import (
	"errors"
	"time"

	"phonesim/display"
	"phonesim/firmware"
	"phonesim/keypad"
)

// ErrAbsent says a part is not fitted on this board (no such device),
// which is not a failure. Drivers wrap it; errors.Is finds it.
var ErrAbsent = errors.New("not fitted")

// Kind is what an input event reports.
type Kind uint8

const (
	KeyDown   Kind = iota + 1 // a key went down
	KeyRepeat                 // a key is still down (the driver's autorepeat)
	KeyUp                     // a key came up
	HookOff                   // the handset was lifted off the hook switch
	HookOn                    // the handset was put back
)

var kindNames = [...]string{"?", "down", "repeat", "up", "hook-off", "hook-on"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "?"
}

// Event is one thing a board's input reported, stamped with the time the
// driver (the kernel) gave it.
type Event struct {
	Kind Kind
	Key  keypad.Key // the phone key for key events; "" for a code the keymap does not map
	Code uint16     // the driver's own key or switch code (evdev KEY_*, SW_*)
	Time time.Time
}

// Input is a source of key and hook-switch events. ReadEvent blocks until
// one arrives; an error (io.EOF at the end of a recording, os.ErrClosed
// after Close) ends the stream.
type Input interface {
	ReadEvent() (Event, error)
}

// Hook reports where the handset is now, for the phone to start in the
// right hook state. Inputs that have a hook switch implement it.
type Hook interface {
	OffHook() (bool, error)
}

// Display shows a display.Frame: the caller draws the frame Size cells
// wide and high (display.Draw), the display puts it on its panel.
type Display interface {
	Size() (cols, rows int)
	Show(f *display.Frame) error
}

// LEDs drives the function keys' LEDs: index is the 0-based function key
// (0 is P1), as in firmware.SetLED.
type LEDs interface {
	SetLED(index int, led firmware.LED) error
}

// Audio is 8 kHz mono signed 16-bit PCM, one frame (FrameSamples, 20 ms)
// at a time.
const (
	SampleRate   = 8000
	FrameSamples = 160
)

// AudioOut plays one frame; it may block until the device has room.
type AudioOut interface {
	Play(frame []int16) error
}

// AudioIn fills frame with the next captured samples; it may block until
// they are there.
type AudioIn interface {
	Capture(frame []int16) error
}
