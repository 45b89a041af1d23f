package board

import (
	"os"
	"path/filepath"
	"time"

	"phonesim/hw/evdev"
	"phonesim/hw/sysled"
)

// StandInLEDs are the LEDs MakeStandIns creates: P1–P4, each a green and
// red pair named as the kernel names LEDs (device:colour:function).
var StandInLEDs = []string{
	"phone:green:p1", "phone:red:p1", "phone:green:p2", "phone:red:p2",
	"phone:green:p3", "phone:red:p3", "phone:green:p4", "phone:red:p4",
}

// StandInSession is the key session recorded in a stand-in event0: the
// keypad's twelve keys, OK and Cancel tapped, the handset lifted, P1 held
// 1.5 s with autorepeat (a long press), the handset put down.
func StandInSession(word int) []byte {
	t := time.Date(2025, time.March, 14, 9, 0, 0, 0, time.UTC)
	var b []byte
	ev := func(typ, code uint16, value int32) {
		b = evdev.Append(b, word, evdev.Raw{Time: t, Type: typ, Code: code, Value: value})
	}
	tap := func(code uint16) {
		ev(evdev.EvKey, code, 1)
		ev(evdev.EvSyn, 0, 0)
		t = t.Add(80 * time.Millisecond)
		ev(evdev.EvKey, code, 0)
		ev(evdev.EvSyn, 0, 0)
		t = t.Add(200 * time.Millisecond)
	}
	for _, c := range []uint16{0x200, 0x201, 0x202, 0x203, 0x204, 0x205, 0x206, 0x207, 0x208, 0x209, 0x20a, 0x20b} {
		tap(c) // KEY_NUMERIC_0 … KEY_NUMERIC_POUND
	}
	tap(0x160)              // KEY_OK
	tap(1)                  // KEY_ESC
	ev(evdev.EvSW, 0x02, 1) // SW_HEADPHONE_INSERT: lifted
	ev(evdev.EvSyn, 0, 0)
	t = t.Add(time.Second)
	ev(evdev.EvKey, 63, 1) // KEY_F5 = P1, held
	for range 6 {
		t = t.Add(250 * time.Millisecond)
		ev(evdev.EvKey, 63, 2)
	}
	ev(evdev.EvKey, 63, 0)
	ev(evdev.EvSyn, 0, 0)
	t = t.Add(time.Second)
	ev(evdev.EvSW, 0x02, 0) // put down
	ev(evdev.EvSyn, 0, 0)
	return b
}

// MakeStandIns creates the qemu profile's stand-in devices under root:
// an empty fb0 (its size comes from the profile's geometry), event0
// holding StandInSession in the layout of a word-byte build (4 for arm,
// 8 for arm64 and amd64), and leds/ with StandInLEDs.
func MakeStandIns(root string, word int) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, "fb0"), nil, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, "event0"), StandInSession(word), 0o644); err != nil {
		return err
	}
	return sysled.MakeStandIns(filepath.Join(root, "leds"), StandInLEDs...)
}
