// Package sysled drives function-key LEDs through the Linux LED class,
// /sys/class/leds/NAME/{brightness,max_brightness,trigger,delay_on,delay_off}:
// steady light by brightness, blinking by the kernel's "timer" trigger.
// A folder of plain files stands in for sysfs in tests.
package sysled

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"phonesim/firmware"
	"phonesim/hw"
	"phonesim/keypad"
)

// Blink timings in milliseconds (on, then off), as the terminal handset
// blinks: slow 1 Hz, fast 2 Hz.
const (
	SlowOn, SlowOff = 500, 500
	FastOn, FastOff = 250, 250
)

// Colours an LED can have. Any: a single-colour LED that lights for
// every colour.
const (
	Any    = "any"
	Green  = "green"
	Red    = "red"
	Orange = "orange"
)

// Map says which LED class devices light function key index i's LED, by
// colour (Green, Red, Orange or Any).
type Map map[int]map[string]string

// ParseMap reads an LED map setting: comma- or space-separated
// KEY[:COLOUR]=NAME pairs, KEY a function key (P1…), NAME a folder under
// the LED class. An orange LED that is not named lights green and red.
//
//	P1=phone:green:p1, P2:green=p2-green, P2:red=p2-red
func ParseMap(spec string) (Map, error) {
	m := Map{}
	for _, f := range strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == ' ' || r == ';' || r == '\n' }) {
		lhs, name, ok := strings.Cut(f, "=")
		if !ok || name == "" || strings.ContainsAny(name, "/\\") || name == "." || name == ".." {
			return nil, fmt.Errorf("sysled: LED map entry %q: want KEY[:COLOUR]=NAME", f)
		}
		k, colour, _ := strings.Cut(lhs, ":")
		if colour == "" {
			colour = Any
		}
		colour = strings.ToLower(colour)
		if colour != Any && colour != Green && colour != Red && colour != Orange {
			return nil, fmt.Errorf("sysled: LED map entry %q: colour must be green, red or orange", f)
		}
		i, ok := keypad.Key(strings.ToUpper(k)).FunctionIndex()
		if !ok {
			return nil, fmt.Errorf("sysled: LED map entry %q: %q is no function key (P1…)", f, k)
		}
		if m[i] == nil {
			m[i] = map[string]string{}
		}
		m[i][colour] = name
	}
	return m, nil
}

// Discover builds a map from the LED names under dir, by the kernel's
// naming (device:colour:function): an LED whose name has a part "pN" or
// "fkeyN" (N from 0) belongs to that function key, and a part green, red
// or orange gives its colour.
func Discover(dir string) (Map, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	m := Map{}
	for _, e := range ents {
		name := e.Name()
		idx, colour := -1, Any
		for _, part := range strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return r == ':' || r == '-' || r == '_' }) {
			switch {
			case part == Green || part == Red || part == Orange:
				colour = part
			case strings.HasPrefix(part, "fkey"):
				if n, err := strconv.Atoi(part[4:]); err == nil && n >= 0 && n < keypad.MaxFunctionKeys {
					idx = n
				}
			case len(part) > 1 && part[0] == 'p':
				if i, ok := keypad.Key(strings.ToUpper(part)).FunctionIndex(); ok {
					idx = i
				}
			}
		}
		if idx < 0 {
			continue
		}
		if m[idx] == nil {
			m[idx] = map[string]string{}
		}
		m[idx][colour] = name
	}
	return m, nil
}

// Bank is the function keys' LEDs.
type Bank struct {
	dir  string
	m    Map
	max  map[string]int // max_brightness by LED name
	last map[int]firmware.LED
	set  map[int]bool
}

// Open drives the LEDs of m under dir (/sys/class/leds); an empty map
// is discovered from the names there. No folder, or no LED for any
// function key, is hw.ErrAbsent.
func Open(dir string, m Map) (*Bank, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("sysled: %s: %w", dir, hw.ErrAbsent)
	}
	if len(m) == 0 {
		var err error
		if m, err = Discover(dir); err != nil {
			return nil, fmt.Errorf("sysled: %w", err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("sysled: no LED under %s is named for a function key (…:p1, fkey0): %w", dir, hw.ErrAbsent)
		}
	}
	b := &Bank{dir: dir, m: m, max: map[string]int{}, last: map[int]firmware.LED{}, set: map[int]bool{}}
	for _, byColour := range m {
		for _, name := range byColour {
			if _, err := os.Stat(filepath.Join(dir, name, "brightness")); err != nil {
				return nil, fmt.Errorf("sysled: LED %s: %w", name, err)
			}
			b.max[name] = 1
			if s, err := os.ReadFile(filepath.Join(dir, name, "max_brightness")); err == nil {
				if n, err := strconv.Atoi(strings.TrimSpace(string(s))); err == nil && n > 0 {
					b.max[name] = n
				}
			}
		}
	}
	return b, nil
}

// Indexes lists the function keys that have an LED, in order.
func (b *Bank) Indexes() []int {
	var ix []int
	for i := range b.m {
		ix = append(ix, i)
	}
	sort.Ints(ix)
	return ix
}

// Names lists the LED class devices of function key i.
func (b *Bank) Names(i int) []string {
	var names []string
	for _, n := range b.m[i] {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// lit returns, for each LED of key i, whether it lights for colour c.
func (b *Bank) lit(i int, c firmware.LEDColor) map[string]bool {
	leds := b.m[i]
	want := map[firmware.LEDColor]string{firmware.Green: Green, firmware.Red: Red, firmware.Orange: Orange}[c]
	on := map[string]bool{}
	for _, n := range leds {
		on[n] = false
	}
	switch {
	case leds[want] != "":
		on[leds[want]] = true
	case want == Orange && (leds[Green] != "" || leds[Red] != ""):
		on[leds[Green]], on[leds[Red]] = true, true // a bicolour LED mixes orange
		delete(on, "")
	case leds[Any] != "":
		on[leds[Any]] = true
	default: // only other colours: show that something is on
		for _, col := range []string{Green, Red, Orange} {
			if leds[col] != "" {
				on[leds[col]] = true
				break
			}
		}
	}
	return on
}

// SetLED sets function key i's LED. A key without an LED is ignored; an
// unchanged state writes nothing.
func (b *Bank) SetLED(i int, l firmware.LED) error {
	if _, ok := b.m[i]; !ok {
		return nil
	}
	if b.set[i] && b.last[i] == l {
		return nil
	}
	b.set[i] = false // in doubt until every write went through
	var errs []error
	for name, on := range b.lit(i, l.Color) {
		st := l.State
		if !on {
			st = firmware.LEDOff
		}
		errs = append(errs, b.write(name, st))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	b.last[i], b.set[i] = l, true
	return nil
}

func (b *Bank) write(name string, st firmware.LEDState) error {
	dir := filepath.Join(b.dir, name)
	put := func(file, v string) error {
		f, err := os.OpenFile(filepath.Join(dir, file), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return fmt.Errorf("sysled: %w", err)
		}
		_, err = f.WriteString(v)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("sysled: %s/%s: %w", name, file, err)
		}
		return nil
	}
	switch st {
	case firmware.LEDSlowBlink, firmware.LEDFastBlink:
		on, off := SlowOn, SlowOff
		if st == firmware.LEDFastBlink {
			on, off = FastOn, FastOff
		}
		// brightness first: the timer blinks at the brightness set
		return errors.Join(put("brightness", strconv.Itoa(b.max[name])), put("trigger", "timer"),
			put("delay_on", strconv.Itoa(on)), put("delay_off", strconv.Itoa(off)))
	case firmware.LEDOn:
		return errors.Join(put("trigger", "none"), put("brightness", strconv.Itoa(b.max[name])))
	}
	return errors.Join(put("trigger", "none"), put("brightness", "0"))
}

// Check reads key i's LEDs back and reports whether they show l: the
// self-test's proof that the writes took.
func (b *Bank) Check(i int, l firmware.LED) error {
	if _, ok := b.m[i]; !ok {
		return fmt.Errorf("sysled: P%d has no LED", i+1)
	}
	for name, on := range b.lit(i, l.Color) {
		st := l.State
		if !on {
			st = firmware.LEDOff
		}
		read := func(file string) string {
			s, _ := os.ReadFile(filepath.Join(b.dir, name, file))
			return strings.TrimSpace(string(s))
		}
		trigger := activeTrigger(read("trigger"))
		bright, _ := strconv.Atoi(read("brightness"))
		switch st {
		case firmware.LEDSlowBlink, firmware.LEDFastBlink:
			on := strconv.Itoa(SlowOn)
			if st == firmware.LEDFastBlink {
				on = strconv.Itoa(FastOn)
			}
			if trigger != "timer" || read("delay_on") != on {
				return fmt.Errorf("sysled: %s should blink (timer, delay_on %s): trigger %q, delay_on %q", name, on, trigger, read("delay_on"))
			}
		case firmware.LEDOn:
			if trigger != "none" || bright == 0 {
				return fmt.Errorf("sysled: %s should be lit: trigger %q, brightness %d", name, trigger, bright)
			}
		default:
			if trigger != "none" || bright != 0 {
				return fmt.Errorf("sysled: %s should be dark: trigger %q, brightness %d", name, trigger, bright)
			}
		}
	}
	return nil
}

// activeTrigger picks the trigger in force: sysfs lists them all with the
// active one in brackets ("none [timer] heartbeat"); a stand-in file
// holds just the name.
func activeTrigger(s string) string {
	if i := strings.IndexByte(s, '['); i >= 0 {
		if j := strings.IndexByte(s[i:], ']'); j > 0 {
			return s[i+1 : i+j]
		}
	}
	return s
}

// MakeStandIns creates a stand-in LED class folder under dir: for each
// name, brightness 0, max_brightness 255 and trigger "none".
func MakeStandIns(dir string, names ...string) error {
	for _, n := range names {
		d := filepath.Join(dir, n)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		for file, v := range map[string]string{"brightness": "0\n", "max_brightness": "255\n", "trigger": "[none] timer heartbeat\n"} {
			if err := os.WriteFile(filepath.Join(d, file), []byte(v), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}
