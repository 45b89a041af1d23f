// Package keypad names the keys of a snom desk phone and parses the names
// used by the remote control (/command.htm?key=...).
package keypad

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Key is a key of the phone, by its snom name: "0"-"9", "*", "#", "P1"...,
// "F1"-"F4", "OFFHOOK", "DND", ...
type Key string

// Hard keys, by the names snom's remote control uses.
const (
	OffHook    Key = "OFFHOOK" // handset lifted
	OnHook     Key = "ONHOOK"  // handset put down
	Speaker    Key = "SPEAKER" // hands-free toggle
	Headset    Key = "HEADSET"
	Enter      Key = "ENTER" // OK
	Cancel     Key = "CANCEL"
	DND        Key = "DND"
	Redirect   Key = "REDIRECT"
	Redial     Key = "REDIAL"
	Hold       Key = "HOLD"
	Transfer   Key = "TRANSFER"
	Mute       Key = "MUTE"
	Conference Key = "CONFERENCE"
	VolumeUp   Key = "VOLUME_UP"
	VolumeDown Key = "VOLUME_DOWN"
	Up         Key = "UP"
	Down       Key = "DOWN"
	Left       Key = "LEFT"
	Right      Key = "RIGHT"
	Menu       Key = "MENU"
	// Reprovision is no key on the handset: snom's remote control (and
	// the settings menu) use it to fetch the setting server now.
	Reprovision Key = "REPROVISION"
	// Action runs the favourite client action on the call in focus or the
	// selected call-list entry; ACTION1…ACTION32 run action N.
	Action Key = "ACTION"
	// Record starts or stops recording the call in progress (snom's F_REC).
	Record Key = "REC"
	F1     Key = "F1"
	F2     Key = "F2"
	F3     Key = "F3"
	F4     Key = "F4"
)

// BaseFunctionKeys is the number of function keys on the base unit (P1-P32).
const BaseFunctionKeys = 32

// ModuleKeys is the number of keys on one expansion module.
const ModuleKeys = 18

// MaxModules is the most expansion modules a phone takes.
const MaxModules = 3

// MaxFunctionKeys is the number of function keys with every module attached.
const MaxFunctionKeys = BaseFunctionKeys + MaxModules*ModuleKeys

// isHardKey reports whether k is one of the named hard keys (a switch,
// not a package map: no table built at start-up).
func isHardKey(k Key) bool {
	switch k {
	case OffHook, OnHook, Speaker, Headset, Enter, Cancel,
		DND, Redirect, Redial, Hold, Transfer, Mute,
		Conference, VolumeUp, VolumeDown, Up, Down, Left,
		Right, Menu, Reprovision, Action, Record, F1, F2, F3, F4:
		return true
	}
	return false
}

// fkeyNames are P1…P54, made on first use.
var fkeyNames = sync.OnceValue(func() (n [MaxFunctionKeys]Key) {
	for i := range n {
		n[i] = Key("P" + strconv.Itoa(i+1))
	}
	return n
})

// FunctionKey returns the key of function key index i (0-based: fkey0 is P1).
func FunctionKey(i int) Key {
	if i < 0 || i >= MaxFunctionKeys {
		return ""
	}
	return fkeyNames()[i]
}

// Digit reports whether k is one of 0-9, * and #, and returns its character.
func (k Key) Digit() (byte, bool) {
	if len(k) != 1 {
		return 0, false
	}
	c := k[0]
	if c >= '0' && c <= '9' || c == '*' || c == '#' {
		return c, true
	}
	return 0, false
}

// FunctionIndex returns the 0-based function key index of a P key (P1 -> 0).
func (k Key) FunctionIndex() (int, bool) {
	if len(k) < 2 || k[0] != 'P' {
		return 0, false
	}
	n := 0
	for i := 1; i < len(k); i++ {
		c := k[i]
		if c < '0' || c > '9' || n > MaxFunctionKeys {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n < 1 || n > MaxFunctionKeys || k[1] == '0' {
		return 0, false
	}
	return n - 1, true
}

// MaxActions is the highest N of an ACTIONn key.
const MaxActions = 32

// ActionIndex returns N of an ACTIONn key (1-MaxActions).
func (k Key) ActionIndex() (int, bool) {
	rest, ok := strings.CutPrefix(string(k), string(Action))
	if !ok || rest == "" || rest[0] == '0' {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 1 || n > MaxActions {
		return 0, false
	}
	return n, true
}

// SoftkeyIndex returns 0-3 for F1-F4.
func (k Key) SoftkeyIndex() (int, bool) {
	switch k {
	case F1:
		return 0, true
	case F2:
		return 1, true
	case F3:
		return 2, true
	case F4:
		return 3, true
	}
	return 0, false
}

// Parse turns a remote-control key name into a Key. It accepts the snom
// names, case-insensitively, and EKn (expansion key n, 0-based) which it
// maps onto the P numbering after the base unit's keys.
func Parse(s string) (Key, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if u == "" {
		return "", fmt.Errorf("keypad: empty key name")
	}
	if k := Key(u); len(u) == 1 {
		if _, ok := k.Digit(); ok {
			return k, nil
		}
	}
	if isHardKey(Key(u)) {
		return Key(u), nil
	}
	if i, ok := Key(u).FunctionIndex(); ok {
		return FunctionKey(i), nil
	}
	if _, ok := Key(u).ActionIndex(); ok {
		return Key(u), nil
	}
	if strings.HasPrefix(u, "EK") {
		n, err := strconv.Atoi(u[2:])
		if err == nil && n >= 0 && n < MaxModules*ModuleKeys {
			return FunctionKey(BaseFunctionKeys + n), nil
		}
	}
	return "", fmt.Errorf("keypad: unknown key %q", s)
}

// ParseList parses a remote-control key list, "K1;K2;...".
func ParseList(s string) ([]Key, error) {
	var keys []Key
	for _, part := range strings.Split(s, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, err := Parse(part)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("keypad: no key in %q", s)
	}
	return keys, nil
}
