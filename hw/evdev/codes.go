package evdev

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"phonesim/keypad"
)

// Event types and the codes the phone knows by name (linux/input-event-codes.h).
const (
	EvSyn = 0x00
	EvKey = 0x01
	EvSW  = 0x05
)

// codeNames are the key and switch codes a keymap or a hook-switch
// setting may name; any other code can be given as a number. Built on
// first use: a phone with no board never needs it.
var codeNames = sync.OnceValue(func() map[string]uint16 {
	return map[string]uint16{
		"KEY_ESC": 1, "KEY_1": 2, "KEY_2": 3, "KEY_3": 4, "KEY_4": 5, "KEY_5": 6, "KEY_6": 7,
		"KEY_7": 8, "KEY_8": 9, "KEY_9": 10, "KEY_0": 11, "KEY_MINUS": 12, "KEY_EQUAL": 13,
		"KEY_BACKSPACE": 14, "KEY_TAB": 15, "KEY_Q": 16, "KEY_W": 17, "KEY_E": 18, "KEY_R": 19,
		"KEY_T": 20, "KEY_Y": 21, "KEY_U": 22, "KEY_I": 23, "KEY_O": 24, "KEY_P": 25,
		"KEY_ENTER": 28, "KEY_A": 30, "KEY_S": 31, "KEY_D": 32, "KEY_F": 33, "KEY_G": 34,
		"KEY_H": 35, "KEY_J": 36, "KEY_K": 37, "KEY_L": 38, "KEY_Z": 44, "KEY_X": 45, "KEY_C": 46,
		"KEY_V": 47, "KEY_B": 48, "KEY_N": 49, "KEY_M": 50, "KEY_KPASTERISK": 55, "KEY_SPACE": 57,
		"KEY_F1": 59, "KEY_F2": 60, "KEY_F3": 61, "KEY_F4": 62, "KEY_F5": 63, "KEY_F6": 64,
		"KEY_F7": 65, "KEY_F8": 66, "KEY_F9": 67, "KEY_F10": 68, "KEY_KP7": 71, "KEY_KP8": 72,
		"KEY_KP9": 73, "KEY_KPMINUS": 74, "KEY_KP4": 75, "KEY_KP5": 76, "KEY_KP6": 77,
		"KEY_KPPLUS": 78, "KEY_KP1": 79, "KEY_KP2": 80, "KEY_KP3": 81, "KEY_KP0": 82,
		"KEY_KPDOT": 83, "KEY_F11": 87, "KEY_F12": 88, "KEY_KPENTER": 96, "KEY_KPSLASH": 98,
		"KEY_HOME": 102, "KEY_UP": 103, "KEY_PAGEUP": 104, "KEY_LEFT": 105, "KEY_RIGHT": 106,
		"KEY_END": 107, "KEY_DOWN": 108, "KEY_PAGEDOWN": 109, "KEY_DELETE": 111, "KEY_MUTE": 113,
		"KEY_VOLUMEDOWN": 114, "KEY_VOLUMEUP": 115, "KEY_PAUSE": 119, "KEY_STOP": 128,
		"KEY_AGAIN": 129, "KEY_HELP": 138, "KEY_MENU": 139, "KEY_PROG1": 148, "KEY_PROG2": 149,
		"KEY_MAIL": 155, "KEY_PHONE": 169, "KEY_REDO": 182, "KEY_F13": 183, "KEY_F14": 184,
		"KEY_F15": 185, "KEY_F16": 186, "KEY_F17": 187, "KEY_F18": 188, "KEY_F19": 189,
		"KEY_F20": 190, "KEY_F21": 191, "KEY_F22": 192, "KEY_F23": 193, "KEY_F24": 194,
		"KEY_PROG3": 202, "KEY_PROG4": 203, "KEY_CANCEL": 223, "KEY_OK": 0x160, "KEY_SELECT": 0x161,
		"KEY_PICKUP_PHONE": 0x1bd, "KEY_HANGUP_PHONE": 0x1be,
		"KEY_NUMERIC_0": 0x200, "KEY_NUMERIC_1": 0x201, "KEY_NUMERIC_2": 0x202, "KEY_NUMERIC_3": 0x203,
		"KEY_NUMERIC_4": 0x204, "KEY_NUMERIC_5": 0x205, "KEY_NUMERIC_6": 0x206, "KEY_NUMERIC_7": 0x207,
		"KEY_NUMERIC_8": 0x208, "KEY_NUMERIC_9": 0x209, "KEY_NUMERIC_STAR": 0x20a, "KEY_NUMERIC_POUND": 0x20b,
		"KEY_MACRO1": 0x290, "KEY_MACRO2": 0x291, "KEY_MACRO3": 0x292, "KEY_MACRO4": 0x293,

		"SW_LID": 0x00, "SW_TABLET_MODE": 0x01, "SW_HEADPHONE_INSERT": 0x02, "SW_MICROPHONE_INSERT": 0x04,
		"SW_DOCK": 0x05, "SW_LINEOUT_INSERT": 0x06, "SW_JACK_PHYSICAL_INSERT": 0x07,
		"SW_KEYPAD_SLIDE": 0x0a, "SW_FRONT_PROXIMITY": 0x0b, "SW_MUTE_DEVICE": 0x0e,
		"SW_MACHINE_COVER": 0x10,
	}
})

// parseCode reads a code by name (KEY_F5, SW_LID) or number (63, 0x3f).
func parseCode(s string, prefix string) (uint16, error) {
	s = strings.TrimSpace(s)
	if c, ok := codeNames()[strings.ToUpper(s)]; ok && strings.HasPrefix(strings.ToUpper(s), prefix) {
		return c, nil
	}
	n, err := strconv.ParseUint(s, 0, 16)
	if err != nil || n > 0x2ff {
		return 0, fmt.Errorf("evdev: unknown code %q (a %s* name or a number)", s, prefix)
	}
	return uint16(n), nil
}

// CodeName returns the KEY_ name of a key code, or its number.
func CodeName(code uint16) string {
	best := ""
	for name, c := range codeNames() {
		if c == code && strings.HasPrefix(name, "KEY_") && (best == "" || name < best) {
			best = name
		}
	}
	if best == "" {
		return "0x" + strconv.FormatUint(uint64(code), 16)
	}
	return best
}

// Keymap maps evdev key codes to the phone's keys.
type Keymap map[uint16]keypad.Key

// DefaultKeymap is what a board gets unless its profile or the keymap
// setting says otherwise: digits from the main row, the numeric keypad
// and the phone keypad codes (KEY_NUMERIC_*); Enter/OK and Esc/Cancel;
// F1–F4 the softkeys, F5–F12 P1–P8 and F13–F24 P9–P20 (as the terminal
// handset has them); arrows, volume, mute, menu; the phone's pick-up and
// hang-up keys as the hook.
func DefaultKeymap() Keymap {
	m := Keymap{}
	for i := range 10 {
		d := keypad.Key(strconv.Itoa(i))
		m[codeNames()["KEY_"+strconv.Itoa(i)]] = d
		m[codeNames()["KEY_KP"+strconv.Itoa(i)]] = d
		m[codeNames()["KEY_NUMERIC_"+strconv.Itoa(i)]] = d
	}
	for name, k := range map[string]keypad.Key{
		"KEY_KPASTERISK": "*", "KEY_NUMERIC_STAR": "*", "KEY_NUMERIC_POUND": "#",
		"KEY_ENTER": keypad.Enter, "KEY_KPENTER": keypad.Enter, "KEY_OK": keypad.Enter, "KEY_SELECT": keypad.Enter,
		"KEY_ESC": keypad.Cancel, "KEY_CANCEL": keypad.Cancel, "KEY_BACKSPACE": keypad.Left,
		"KEY_UP": keypad.Up, "KEY_DOWN": keypad.Down, "KEY_LEFT": keypad.Left, "KEY_RIGHT": keypad.Right,
		"KEY_F1": keypad.F1, "KEY_F2": keypad.F2, "KEY_F3": keypad.F3, "KEY_F4": keypad.F4,
		"KEY_VOLUMEUP": keypad.VolumeUp, "KEY_VOLUMEDOWN": keypad.VolumeDown, "KEY_MUTE": keypad.Mute,
		"KEY_MENU": keypad.Menu, "KEY_PICKUP_PHONE": keypad.OffHook, "KEY_HANGUP_PHONE": keypad.OnHook,
		"KEY_PHONE": keypad.Speaker, "KEY_REDO": keypad.Redial, "KEY_PAUSE": keypad.Hold,
		"KEY_HELP": keypad.Menu,
	} {
		m[codeNames()[name]] = k
	}
	fkeys := []string{"KEY_F5", "KEY_F6", "KEY_F7", "KEY_F8", "KEY_F9", "KEY_F10", "KEY_F11", "KEY_F12",
		"KEY_F13", "KEY_F14", "KEY_F15", "KEY_F16", "KEY_F17", "KEY_F18", "KEY_F19", "KEY_F20",
		"KEY_F21", "KEY_F22", "KEY_F23", "KEY_F24"}
	for i, name := range fkeys {
		m[codeNames()[name]] = keypad.FunctionKey(i)
	}
	return m
}

// ParseKeymap applies a keymap setting to base (nil: DefaultKeymap):
// comma- or space-separated CODE=KEY pairs, CODE a KEY_ name or a number,
// KEY a snom key name (0-9 * # P1… F1-F4 ENTER CANCEL DND …); CODE=
// (nothing) removes a code; a leading "only," starts from an empty map.
//
//	KEY_F5=P1, KEY_A=DND, 0x2c=MUTE, KEY_BACKSPACE=
func ParseKeymap(spec string, base Keymap) (Keymap, error) {
	if base == nil {
		base = DefaultKeymap()
	}
	m := make(Keymap, len(base))
	for c, k := range base {
		m[c] = k
	}
	fields := strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == ';' })
	for i, f := range fields {
		if i == 0 && f == "only" {
			m = Keymap{}
			continue
		}
		code, key, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("evdev: keymap entry %q: want CODE=KEY", f)
		}
		c, err := parseCode(code, "KEY_")
		if err != nil {
			return nil, err
		}
		if key == "" {
			delete(m, c)
			continue
		}
		k, err := keypad.Parse(key)
		if err != nil {
			return nil, fmt.Errorf("evdev: keymap entry %q: %w", f, err)
		}
		m[c] = k
	}
	return m, nil
}

// String writes the keymap in the setting's form, sorted by code.
func (m Keymap) String() string {
	codes := make([]int, 0, len(m))
	for c := range m {
		codes = append(codes, int(c))
	}
	sort.Ints(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = CodeName(uint16(c)) + "=" + string(m[uint16(c)])
	}
	return strings.Join(parts, ",")
}

// Switch is the hook switch: an EV_SW code, and whether "set" (1) means
// the handset is down rather than lifted. No = true: the board has none.
type Switch struct {
	Code   uint16
	Invert bool
	No     bool
}

// DefaultSwitch: SW_HEADPHONE_INSERT, set while the handset is lifted
// (the handset's jack is "inserted" in the audio path).
var DefaultSwitch = Switch{Code: 0x02}

// ParseSwitch reads a hook-switch setting: a SW_ name or number, "!"
// before it when set means on-hook, "none" for no switch; "" is the
// default.
func ParseSwitch(s string) (Switch, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "":
		return DefaultSwitch, nil
	case "none", "off":
		return Switch{No: true}, nil
	}
	sw := Switch{}
	if rest, ok := strings.CutPrefix(s, "!"); ok {
		sw.Invert, s = true, rest
	}
	c, err := parseCode(s, "SW_")
	if err != nil || c > 0x10 {
		return Switch{}, fmt.Errorf("evdev: hook switch %q: want a SW_ name or 0-16, or none", s)
	}
	sw.Code = c
	return sw, nil
}
