package board

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"phonesim/display"
	"phonesim/firmware"
	"phonesim/hw"
	"phonesim/hw/evdev"
	"phonesim/hw/fake"
	"phonesim/keypad"
)

var now = time.Date(2025, time.March, 14, 9, 26, 0, 0, time.UTC)

func view() firmware.View {
	id := firmware.IdentityView{Index: 1, User: "100", Host: "pbx", Display: "Bob", Registered: true}
	keys := make([]firmware.KeyView, keypad.BaseFunctionKeys)
	keys[0].LED = firmware.LED{State: firmware.LEDOn, Color: firmware.Green}
	keys[2].LED = firmware.LED{State: firmware.LEDFastBlink, Color: firmware.Red}
	return firmware.View{Now: now, Identity: id, Identities: []firmware.IdentityView{id}, Keys: keys,
		Softkeys: [4]string{"Menu", "Missed", "DND", "Fwd"}}
}

// TestRun drives a board of stand-ins the way the phone will: a view in,
// a frame on the display and LEDs set; key events in, presses out, the
// long press with its Held time.
func TestRun(t *testing.T) {
	at := func(ms int) time.Time { return now.Add(time.Duration(ms) * time.Millisecond) }
	in := &fake.Input{Events: []hw.Event{
		{Kind: hw.KeyDown, Key: "5", Time: at(0)}, {Kind: hw.KeyUp, Key: "5", Time: at(100)},
		{Kind: hw.HookOff, Time: at(500)},
		{Kind: hw.KeyDown, Key: "P2", Time: at(1000)}, {Kind: hw.KeyUp, Key: "P2", Time: at(2300)},
		{Kind: hw.KeyDown, Code: 99, Time: at(3000)}, {Kind: hw.KeyUp, Code: 99, Time: at(3100)},
	}}
	disp := &fake.Display{Cols: 80, Rows: 24}
	leds := &fake.LEDs{}
	b := &Board{Display: disp, Input: in, LEDs: leds}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	views := make(chan firmware.View, 1)
	keys := make(chan firmware.KeyPressed)
	done := make(chan error)
	go func() { done <- b.Run(ctx, views, keys) }()
	views <- view()
	var got []firmware.KeyPressed
	for range 3 {
		select {
		case k := <-keys:
			got = append(got, k)
		case <-time.After(5 * time.Second):
			t.Fatalf("presses so far: %v", got)
		}
	}
	want := []firmware.KeyPressed{{Key: "5", Held: 100 * time.Millisecond}, {Key: keypad.OffHook}, {Key: "P2", Held: 1300 * time.Millisecond}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("presses %v, want %v", got, want)
	}
	frames := disp.Frames()
	if len(frames) == 0 || !strings.Contains(frames[0], "Bob <100@pbx>") {
		t.Fatalf("frames: %q", frames)
	}
	if strings.Contains(frames[0], "q quit") {
		t.Error("the terminal's key hints are on the board's display")
	}
	if leds.State(0) != view().Keys[0].LED || leds.State(2) != view().Keys[2].LED {
		t.Errorf("LEDs: P1 %v, P3 %v", leds.State(0), leds.State(2))
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestSmallPanel: a panel too small for the handset picture shows the
// display area alone.
func TestSmallPanel(t *testing.T) {
	v := view()
	v.Calls = []firmware.CallView{{ID: "c1", State: firmware.Ringing, Direction: firmware.Incoming,
		Remote: firmware.Party{URI: "sip:alice@example.com", Display: "Alice \x1b[31mEvil"}}}
	v.Active = "c1"
	v.Softkeys = [4]string{"Answer", "Reject", "", ""}
	f := Frame(v, 40, 8, display.Options{})
	text := f.Text()
	for _, want := range []string{"Bob", "09:26", "Incoming call", "Alice", "Answer", "Reject"} {
		if !strings.Contains(text, want) {
			t.Errorf("LCD lacks %q:\n%s", want, text)
		}
	}
	if strings.ContainsRune(text, '\x1b') {
		t.Error("an escape reached the panel")
	}
	if len(f.Cells) != 40*8 {
		t.Fatalf("%d cells", len(f.Cells))
	}
	for _, size := range [][2]int{{1, 1}, {3, 2}, {10, 3}} {
		f := LCD(v, size[0], size[1]) // no panic at any size
		if f.W != size[0] || f.H != size[1] {
			t.Errorf("LCD %v: %dx%d", size, f.W, f.H)
		}
	}
}

// TestQEMUProfile opens the qemu profile on stand-ins made in a temp
// folder: every part present, the recorded session readable.
func TestQEMUProfile(t *testing.T) {
	root := t.TempDir()
	if err := MakeStandIns(root, evdev.WordSize); err != nil {
		t.Fatal(err)
	}
	o := &Options{}
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	o.AddFlags(fs, "generic")
	if err := fs.Parse([]string{"--board", "qemu", "--root", root}); err != nil {
		t.Fatal(err)
	}
	p, err := o.Profile()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for name, err := range map[string]error{"display": b.DisplayErr, "keys": b.InputErr, "leds": b.LEDErr, "audio": b.AudioErr} {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if cols, rows := b.Display.Size(); cols != 80 || rows != 27 {
		t.Errorf("display %dx%d", cols, rows)
	}
	var presses []keypad.Key
	var pr hw.Presses
	for {
		e, err := b.Input.ReadEvent()
		if err != nil {
			break
		}
		if k, ok := pr.Feed(e); ok {
			presses = append(presses, k.Key)
			if k.Key == "P1" && k.Held != firmware.LongPress {
				t.Errorf("P1 held %v", k.Held)
			}
		}
	}
	if got := strings.Join(keyStrings(presses), " "); got != "0 1 2 3 4 5 6 7 8 9 * # ENTER CANCEL OFFHOOK P1 ONHOOK" {
		t.Errorf("stand-in session: %s", got)
	}
	if _, err := b.Input.(interface{ KeyCodes() ([]uint16, error) }).KeyCodes(); !errors.Is(err, evdev.ErrNotDevice) {
		t.Errorf("KeyCodes of a recording: %v", err)
	}
}

func keyStrings(ks []keypad.Key) []string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return s
}

// TestGenericNothingFitted: the generic profile on a machine with no
// board devices has every part absent, none failed.
func TestGenericNothingFitted(t *testing.T) {
	dir := t.TempDir()
	p, _ := Lookup("generic")
	p.FB, p.Evdev, p.LEDs = filepath.Join(dir, "fb0"), []string{filepath.Join(dir, "event*")}, filepath.Join(dir, "leds")
	b, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{"display": b.DisplayErr, "keys": b.InputErr, "leds": b.LEDErr, "audio": b.AudioErr} {
		if !IsAbsent(err) {
			t.Errorf("%s: %v, want absent", name, err)
		}
	}
}

func TestBrokenIsNotAbsent(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "fb0"), nil, 0o644)
	b, _ := Open(Profile{FB: filepath.Join(dir, "fb0")}) // a plain file and no geometry: no ioctls
	if b.DisplayErr == nil || IsAbsent(b.DisplayErr) {
		t.Errorf("display: %v, want a failure", b.DisplayErr)
	}
}

func TestProfileFlags(t *testing.T) {
	parse := func(args ...string) (Profile, error) {
		o := &Options{}
		fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
		o.AddFlags(fs, "generic")
		if err := fs.Parse(args); err != nil {
			return Profile{}, err
		}
		return o.Profile()
	}
	p, err := parse("--fb", "/tmp/fb", "--fb-geometry", "320x240x16", "--evdev", "/tmp/e0", "--evdev", "/tmp/e1", "--leds", "none")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "generic" || p.FB != "/tmp/fb" || p.FBGeometry != "320x240x16" || len(p.Evdev) != 2 || p.LEDs != "" {
		t.Errorf("%+v", p)
	}
	o := &Options{}
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	o.AddFlags(fs, "")
	fs.Parse([]string{"--keymap", "KEY_A=1"})
	if o.Chosen() {
		t.Error("a keymap alone chooses no board")
	}
	fs.Parse([]string{"--evdev", "/dev/input/event0"})
	if !o.Chosen() {
		t.Error("--evdev chooses board hardware")
	}
	p, err = parse("--board", "terminal", "--fb", "/tmp/fb")
	if err != nil || !p.Hardware {
		t.Errorf("a device flag makes any profile a hardware one: %+v %v", p, err)
	}
	t.Setenv(RootEnv, "")
	if _, err := parse("--board", "qemu"); err == nil {
		t.Error("qemu without a root folder")
	}
	t.Setenv(RootEnv, "/tmp/standins")
	if p, err := parse("--board", "qemu"); err != nil || p.FB != "/tmp/standins/fb0" || p.Evdev[0] != "/tmp/standins/event0" {
		t.Errorf("qemu from env: %+v %v", p, err)
	}
	t.Setenv(BoardEnv, "qemu")
	if p, err := parse(); err != nil || p.Name != "qemu" {
		t.Errorf("board from env: %+v %v", p, err)
	}
	for _, bad := range [][]string{{"--board", "nope"}, {"--audio", "alsa"}} {
		if _, err := parse(bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
