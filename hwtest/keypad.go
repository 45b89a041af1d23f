package hwtest

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"phonesim/firmware"
	"phonesim/hw"
	"phonesim/hw/evdev"
	"phonesim/keypad"
)

// KeypadOptions tune the keypad suite.
type KeypadOptions struct {
	// Keymap is the map in force (to tell which phone keys the device
	// can send); nil: evdev.DefaultKeymap.
	Keymap evdev.Keymap
	// Keys a person is asked to press; nil: the keypad's twelve keys,
	// OK and Cancel, where the device has them.
	Keys []keypad.Key
	// Wait is how long to wait for each key a person is asked to press
	// (default 15 s), and for a recorded stream to be read (2 s).
	Wait time.Duration
}

// keypadKeys are the keys every handset has.
var keypadKeys = []keypad.Key{"1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#", keypad.Enter, keypad.Cancel}

// Keypad checks a key input: which phone keys the device can send (an
// input device) or that a recorded stream decodes into presses (a
// stand-in file); with a person, each key pressed, a long press and the
// hook switch.
func Keypad(in hw.Input, p Person, opt KeypadOptions) []Finding {
	var out []Finding
	add := func(check string, st Status, format string, args ...any) {
		out = append(out, Finding{Part: "keys", Check: check, Status: st, Detail: fmt.Sprintf(format, args...)})
	}
	if opt.Keymap == nil {
		opt.Keymap = evdev.DefaultKeymap()
	}
	if opt.Wait <= 0 {
		opt.Wait = 15 * time.Second
	}
	if lp, ok := in.(interface{ Paths() []string }); ok {
		add("devices", Pass, "%s", strings.Join(lp.Paths(), ", "))
	}

	recording := false
	reachable := map[keypad.Key]bool{}
	if kc, ok := in.(interface{ KeyCodes() ([]uint16, error) }); ok {
		codes, err := kc.KeyCodes()
		switch {
		case errors.Is(err, evdev.ErrNotDevice):
			recording = true
		case err != nil:
			add("key codes", Fail, "EVIOCGBIT: %v", err)
		default:
			var unmapped []string
			for _, c := range codes {
				if k, ok := opt.Keymap[c]; ok {
					reachable[k] = true
				} else if len(unmapped) < 8 {
					unmapped = append(unmapped, evdev.CodeName(c))
				}
			}
			var missing []string
			for _, k := range keypadKeys {
				if !reachable[k] {
					missing = append(missing, string(k))
				}
			}
			switch {
			case len(reachable) == 0:
				add("key codes", Fail, "none of the device's %d key codes is in the keymap (e.g. %s): set --keymap", len(codes), strings.Join(unmapped, " "))
			case len(missing) > 0:
				add("key codes", Pass, "%d phone keys reachable; no code for %s", len(reachable), strings.Join(missing, " "))
			default:
				add("key codes", Pass, "%d phone keys reachable, the whole keypad among them", len(reachable))
			}
		}
	}

	events := make(chan hw.Event, 64)
	readErr := make(chan error, 1)
	go func() {
		for {
			e, err := in.ReadEvent()
			if err != nil {
				readErr <- err
				close(events)
				return
			}
			events <- e
		}
	}()

	if recording || p == nil {
		if !recording {
			add("presses", Skip, "scripted run: nobody to press keys")
			if h, ok := in.(hw.Hook); ok {
				if off, err := h.OffHook(); err == nil {
					add("hook switch", Pass, "reads %s", map[bool]string{true: "off hook", false: "on hook"}[off])
				} else if errors.Is(err, hw.ErrAbsent) {
					add("hook switch", Absent, "%v", err)
				} else if !errors.Is(err, evdev.ErrNotDevice) {
					add("hook switch", Fail, "EVIOCGSW: %v", err)
				}
			}
			return out
		}
		return append(out, stream(events, readErr, min(opt.Wait, 2*time.Second))...)
	}

	// A person presses each key.
	keys := opt.Keys
	if keys == nil {
		for _, k := range keypadKeys {
			if len(reachable) == 0 || reachable[k] {
				keys = append(keys, k)
			}
		}
	}
	var presses hw.Presses
	next := func(want func(firmware.KeyPressed) bool) (firmware.KeyPressed, []string, error) {
		var others []string
		deadline := time.After(opt.Wait)
		for {
			select {
			case e, ok := <-events:
				if !ok {
					return firmware.KeyPressed{}, others, <-readErr
				}
				if e.Key == "" && e.Kind == hw.KeyDown {
					others = append(others, evdev.CodeName(e.Code)+" (not in the keymap)")
				}
				k, ok := presses.Feed(e)
				if !ok {
					continue
				}
				if want(k) {
					return k, others, nil
				}
				others = append(others, string(k.Key))
			case <-deadline:
				return firmware.KeyPressed{}, others, fmt.Errorf("nothing within %v", opt.Wait)
			}
		}
	}
	for _, k := range keys {
		p.Tell("Press " + string(k))
		_, others, err := next(func(kp firmware.KeyPressed) bool { return kp.Key == k })
		if err != nil {
			detail := err.Error()
			if len(others) > 0 {
				detail += "; pressed instead: " + strings.Join(others, " ")
			}
			add("press "+string(k), Fail, "%s", detail)
			continue
		}
		add("press "+string(k), Pass, "")
	}
	long := keypad.Enter
	if len(keys) > 0 {
		long = keys[0]
	}
	p.Tell(fmt.Sprintf("Hold %s for two seconds", long))
	kp, _, err := next(func(kp firmware.KeyPressed) bool { return kp.Key == long && kp.Held >= firmware.LongPress })
	if err != nil {
		add("long press", Fail, "%s held %v: %v", long, firmware.LongPress, err)
	} else {
		add("long press", Pass, "%s held %v", long, kp.Held)
	}
	if h, ok := in.(hw.Hook); ok {
		if _, err := h.OffHook(); errors.Is(err, hw.ErrAbsent) {
			add("hook switch", Absent, "%v", err)
			return out
		}
	}
	p.Tell("Lift the handset (or press the hook switch)")
	if _, _, err := next(func(kp firmware.KeyPressed) bool { return kp.Key == keypad.OffHook }); err != nil {
		add("hook switch", Fail, "off hook: %v", err)
		return out
	}
	p.Tell("Put the handset down")
	if _, _, err := next(func(kp firmware.KeyPressed) bool { return kp.Key == keypad.OnHook }); err != nil {
		add("hook switch", Fail, "on hook: %v", err)
		return out
	}
	add("hook switch", Pass, "off hook and back")
	return out
}

// stream reads a recorded stream to its end and reports what it held.
func stream(events <-chan hw.Event, readErr <-chan error, wait time.Duration) []Finding {
	var (
		presses          hw.Presses
		keys             []string
		n, long, unknown int
	)
	deadline := time.After(wait)
	for {
		select {
		case e, ok := <-events:
			if !ok {
				err := <-readErr
				if !errors.Is(err, io.EOF) {
					return []Finding{{Part: "keys", Check: "recorded stream", Status: Fail, Detail: fmt.Sprintf("after %d events: %v", n, err)}}
				}
				if len(keys) == 0 {
					return []Finding{{Part: "keys", Check: "recorded stream", Status: Fail, Detail: fmt.Sprintf("%d events and no key press", n)}}
				}
				detail := fmt.Sprintf("%d events, %d presses (%s), %d long", n, len(keys), strings.Join(keys, " "), long)
				if unknown > 0 {
					detail += fmt.Sprintf(", %d codes not in the keymap", unknown)
				}
				return []Finding{{Part: "keys", Check: "recorded stream", Status: Pass, Detail: detail}}
			}
			n++
			if e.Key == "" && (e.Kind == hw.KeyDown) {
				unknown++
			}
			if k, ok := presses.Feed(e); ok {
				name := string(k.Key)
				if k.Held >= firmware.LongPress {
					long++
					name += "(long)"
				}
				keys = append(keys, name)
			}
		case <-deadline:
			return []Finding{{Part: "keys", Check: "recorded stream", Status: Fail, Detail: fmt.Sprintf("no end after %v (%d events): a live device in a scripted run?", wait, n)}}
		}
	}
}
