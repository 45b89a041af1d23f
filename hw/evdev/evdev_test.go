package evdev

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"phonesim/firmware"
	"phonesim/hw"
	"phonesim/keypad"
)

var t0 = time.Date(2025, time.March, 14, 9, 26, 53, 0, time.UTC)

// step is one recorded input_event, at ms after t0.
type step struct {
	ms          int
	typ, code   uint16
	value       int32
	description string
}

func key(ms int, name string, value int32) step {
	return step{ms, EvKey, codeNames()[name], value, name}
}

func syn(ms int) step { return step{ms: ms, typ: EvSyn} }

// recording is a person at a handset: dials 1 2 on the phone keypad
// codes, lifts the handset (hook switch), holds P1 (F5) for 1.5 s with
// autorepeat, taps OK, presses an unmapped key, holds * for 1.2 s on a
// keypad without autorepeat, and hangs up.
var recording = []step{
	key(0, "KEY_NUMERIC_1", 1), syn(0), key(90, "KEY_NUMERIC_1", 0), syn(90),
	key(300, "KEY_NUMERIC_2", 1), syn(300), key(380, "KEY_NUMERIC_2", 0), syn(380),
	{1000, EvSW, 0x02, 1, "SW_HEADPHONE_INSERT set"}, syn(1000),
	key(2000, "KEY_F5", 1), syn(2000),
	key(2250, "KEY_F5", 2), key(2500, "KEY_F5", 2), key(2750, "KEY_F5", 2),
	key(3000, "KEY_F5", 2), // held 1 s: the long press goes out here
	key(3250, "KEY_F5", 2), key(3500, "KEY_F5", 0), syn(3500),
	key(4000, "KEY_OK", 1), key(4120, "KEY_OK", 0),
	key(4500, "KEY_Q", 1), key(4600, "KEY_Q", 0),
	{4700, 0x02, 0, 5, "EV_REL, ignored"},
	key(5000, "KEY_NUMERIC_STAR", 1), key(6200, "KEY_NUMERIC_STAR", 0),
	{7000, EvSW, 0x02, 0, "SW_HEADPHONE_INSERT clear"}, syn(7000),
}

func record(word int, steps []step) []byte {
	var b []byte
	for _, s := range steps {
		b = Append(b, word, Raw{Time: t0.Add(time.Duration(s.ms) * time.Millisecond), Type: s.typ, Code: s.code, Value: s.value})
	}
	return b
}

// TestRecordedStream reads the recording in both layouts of struct
// input_event (16 bytes on 32-bit ARM, 24 on 64-bit) and turns it into
// the phone's key presses, long presses included.
func TestRecordedStream(t *testing.T) {
	wantEvents := []hw.Event{
		{Kind: hw.KeyDown, Key: "1", Code: 0x201}, {Kind: hw.KeyUp, Key: "1", Code: 0x201},
		{Kind: hw.KeyDown, Key: "2", Code: 0x202}, {Kind: hw.KeyUp, Key: "2", Code: 0x202},
		{Kind: hw.HookOff, Code: 2},
		{Kind: hw.KeyDown, Key: "P1", Code: 63},
		{Kind: hw.KeyRepeat, Key: "P1", Code: 63}, {Kind: hw.KeyRepeat, Key: "P1", Code: 63},
		{Kind: hw.KeyRepeat, Key: "P1", Code: 63}, {Kind: hw.KeyRepeat, Key: "P1", Code: 63},
		{Kind: hw.KeyRepeat, Key: "P1", Code: 63}, {Kind: hw.KeyUp, Key: "P1", Code: 63},
		{Kind: hw.KeyDown, Key: keypad.Enter, Code: 0x160}, {Kind: hw.KeyUp, Key: keypad.Enter, Code: 0x160},
		{Kind: hw.KeyDown, Code: 16}, {Kind: hw.KeyUp, Code: 16},
		{Kind: hw.KeyDown, Key: "*", Code: 0x20a}, {Kind: hw.KeyUp, Key: "*", Code: 0x20a},
		{Kind: hw.HookOn, Code: 2},
	}
	wantPresses := []firmware.KeyPressed{
		{Key: "1", Held: 90 * time.Millisecond},
		{Key: "2", Held: 80 * time.Millisecond},
		{Key: keypad.OffHook},
		{Key: "P1", Held: firmware.LongPress}, // at the repeat 1 s in; its up is swallowed
		{Key: keypad.Enter, Held: 120 * time.Millisecond},
		{Key: "*", Held: 1200 * time.Millisecond}, // no autorepeat: long press from down→up
		{Key: keypad.OnHook},
	}
	for _, word := range []int{4, 8} {
		stream := record(word, recording)
		if len(stream) != len(recording)*EventSize(word) {
			t.Fatalf("word %d: %d bytes for %d records", word, len(stream), len(recording))
		}
		d := New(bytes.NewReader(stream), Config{WordSize: word})
		var events []hw.Event
		var presses []firmware.KeyPressed
		var p hw.Presses
		for {
			e, err := d.ReadEvent()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("word %d: %v", word, err)
			}
			if e.Time.Before(t0) || e.Time.After(t0.Add(8*time.Second)) {
				t.Errorf("word %d: kernel time %v lost", word, e.Time)
			}
			if kp, ok := p.Feed(e); ok {
				presses = append(presses, kp)
			}
			e.Time = time.Time{}
			events = append(events, e)
		}
		if !reflect.DeepEqual(events, wantEvents) {
			t.Errorf("word %d events:\n got %v\nwant %v", word, events, wantEvents)
		}
		if !reflect.DeepEqual(presses, wantPresses) {
			t.Errorf("word %d presses:\n got %v\nwant %v", word, presses, wantPresses)
		}
	}
}

// TestThisBuildsLayout: a stream in this build's layout needs no word size.
func TestThisBuildsLayout(t *testing.T) {
	stream := record(WordSize, recording[:4])
	d := New(bytes.NewReader(stream), Config{})
	e, err := d.ReadEvent()
	if err != nil || e.Key != "1" || e.Kind != hw.KeyDown || !e.Time.Equal(t0) {
		t.Fatalf("%+v %v", e, err)
	}
}

func TestTimestamps(t *testing.T) {
	at := time.Unix(1700000000, 123456000)
	for _, word := range []int{4, 8} {
		r := Decode(Append(nil, word, Raw{Time: at, Type: EvKey, Code: 30, Value: 1}), word)
		if !r.Time.Equal(at) || r.Type != EvKey || r.Code != 30 || r.Value != 1 {
			t.Errorf("word %d: %+v", word, r)
		}
	}
}

func TestCutRecord(t *testing.T) {
	stream := record(8, recording[:2])
	d := New(bytes.NewReader(stream[:len(stream)-5]), Config{WordSize: 8})
	if _, err := d.ReadEvent(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadEvent(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("a cut record: %v", err)
	}
}

func TestInvertedAndNoSwitch(t *testing.T) {
	stream := record(8, []step{{0, EvSW, 0x00, 1, "lid shut"}, {10, EvSW, 0x00, 0, "lid open"}})
	sw, _ := ParseSwitch("!SW_LID")
	d := New(bytes.NewReader(stream), Config{WordSize: 8, Switch: &sw})
	e1, _ := d.ReadEvent()
	e2, _ := d.ReadEvent()
	if e1.Kind != hw.HookOn || e2.Kind != hw.HookOff {
		t.Errorf("inverted SW_LID: %v %v", e1.Kind, e2.Kind)
	}
	none, _ := ParseSwitch("none")
	d = New(bytes.NewReader(stream), Config{WordSize: 8, Switch: &none})
	if e, err := d.ReadEvent(); err != io.EOF {
		t.Errorf("no switch: %+v %v", e, err)
	}
}

func TestParseKeymap(t *testing.T) {
	m, err := ParseKeymap("KEY_F5=DND, 0x2c=mute KEY_BACKSPACE=", nil)
	if err != nil {
		t.Fatal(err)
	}
	if m[63] != keypad.DND || m[0x2c] != keypad.Mute || m[2] != "1" {
		t.Errorf("keymap: F5=%q 0x2c=%q KEY_1=%q", m[63], m[0x2c], m[2])
	}
	if _, ok := m[14]; ok {
		t.Error("KEY_BACKSPACE= did not remove the code")
	}
	m, err = ParseKeymap("only,KEY_A=1", nil)
	if err != nil || len(m) != 1 || m[30] != "1" {
		t.Errorf("only: %v %v", m, err)
	}
	for _, bad := range []string{"KEY_F5", "KEY_NOPE=1", "KEY_F5=NOKEY", "99999=1", "SW_LID=1"} {
		if _, err := ParseKeymap(bad, nil); err == nil {
			t.Errorf("ParseKeymap(%q) accepted", bad)
		}
	}
	// The setting's form reads back as the same map.
	d := DefaultKeymap()
	back, err := ParseKeymap("only,"+d.String(), nil)
	if err != nil || !reflect.DeepEqual(back, d) {
		t.Errorf("round trip: %v", err)
	}
}

func TestDefaultKeymapCoversTheKeypad(t *testing.T) {
	have := map[keypad.Key]bool{}
	for _, k := range DefaultKeymap() {
		have[k] = true
	}
	for _, k := range []keypad.Key{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#",
		keypad.Enter, keypad.Cancel, keypad.F1, keypad.F4, "P1", "P8", "P20", keypad.Up, keypad.Down,
		keypad.OffHook, keypad.OnHook, keypad.VolumeUp, keypad.Mute} {
		if !have[k] {
			t.Errorf("default keymap has no code for %s", k)
		}
	}
}

func TestParseSwitch(t *testing.T) {
	for in, want := range map[string]Switch{
		"": DefaultSwitch, "SW_LID": {Code: 0}, "!sw_dock": {Code: 5, Invert: true}, "4": {Code: 4}, "none": {No: true},
	} {
		got, err := ParseSwitch(in)
		if err != nil || got != want {
			t.Errorf("ParseSwitch(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"KEY_A", "SW_NOPE", "17"} {
		if _, err := ParseSwitch(bad); err == nil {
			t.Errorf("ParseSwitch(%q) accepted", bad)
		}
	}
}

// TestStandInFile: a recorded stream in a file opens like a device; the
// device-only ioctls say it is none, a missing path is absent.
func TestStandInFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "event0")
	os.WriteFile(path, record(WordSize, recording[:4]), 0o644)
	d, err := Open(path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Name(); !errors.Is(err, ErrNotDevice) {
		t.Errorf("Name on a file: %v", err)
	}
	if _, err := d.KeyCodes(); !errors.Is(err, ErrNotDevice) {
		t.Errorf("KeyCodes on a file: %v", err)
	}
	if e, err := d.ReadEvent(); err != nil || e.Key != "1" {
		t.Errorf("%+v %v", e, err)
	}
	if _, err := Open(filepath.Join(dir, "event9"), Config{}); !errors.Is(err, hw.ErrAbsent) {
		t.Errorf("missing device: %v", err)
	}
}

func TestEviocNumbers(t *testing.T) {
	// EVIOCGNAME(256) and EVIOCGBIT(EV_KEY, 96) as the C macros give them.
	if got := eviocRead(0x06, 256); got != 0x81004506 {
		t.Errorf("EVIOCGNAME(256) = %#x", got)
	}
	if got := eviocRead(0x21, 96); got != 0x80604521 {
		t.Errorf("EVIOCGBIT(EV_KEY,96) = %#x", got)
	}
}
