package sysled

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"phonesim/firmware"
	"phonesim/hw"
)

func read(t *testing.T, dir, led, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, led, file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestSysfsTree drives a stand-in /sys/class/leds: P1 a single green LED,
// P2 a bicolour pair found by the kernel's naming, one unrelated LED.
func TestSysfsTree(t *testing.T) {
	dir := t.TempDir()
	if err := MakeStandIns(dir, "phone:green:p1", "phone:green:p2", "phone:red:p2", "mmc0::"); err != nil {
		t.Fatal(err)
	}
	b, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Indexes(); !reflect.DeepEqual(got, []int{0, 1}) {
		t.Fatalf("Indexes() = %v", got)
	}
	steps := []struct {
		i    int
		led  firmware.LED
		want map[string][3]string // LED → brightness, trigger, delay_on
	}{
		{0, firmware.LED{State: firmware.LEDOn, Color: firmware.Green},
			map[string][3]string{"phone:green:p1": {"255", "none", ""}}},
		{1, firmware.LED{State: firmware.LEDOn, Color: firmware.Red},
			map[string][3]string{"phone:red:p2": {"255", "none", ""}, "phone:green:p2": {"0", "none", ""}}},
		{1, firmware.LED{State: firmware.LEDFastBlink, Color: firmware.Orange}, // both halves blink
			map[string][3]string{"phone:red:p2": {"255", "timer", "250"}, "phone:green:p2": {"255", "timer", "250"}}},
		{1, firmware.LED{State: firmware.LEDSlowBlink, Color: firmware.Green},
			map[string][3]string{"phone:red:p2": {"0", "none", "250"}, "phone:green:p2": {"255", "timer", "500"}}},
		{0, firmware.LED{State: firmware.LEDSlowBlink, Color: firmware.Red}, // a green-only LED still shows it
			map[string][3]string{"phone:green:p1": {"255", "timer", "500"}}},
		{0, firmware.LED{}, map[string][3]string{"phone:green:p1": {"0", "none", "500"}}},
	}
	for n, s := range steps {
		if err := b.SetLED(s.i, s.led); err != nil {
			t.Fatal(err)
		}
		if err := b.Check(s.i, s.led); err != nil {
			t.Errorf("step %d: %v", n, err)
		}
		for led, w := range s.want {
			got := [3]string{read(t, dir, led, "brightness"), read(t, dir, led, "trigger"), ""}
			if w[2] != "" {
				got[2] = read(t, dir, led, "delay_on")
			}
			if got != w {
				t.Errorf("step %d: %s = %v, want %v", n, led, got, w)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "mmc0::", "delay_on")); err == nil {
		t.Error("an LED of no function key was touched")
	}
	// A key with no LED is fine; an unchanged state writes nothing.
	if err := b.SetLED(20, firmware.LED{State: firmware.LEDOn}); err != nil {
		t.Error(err)
	}
	p1 := filepath.Join(dir, "phone:green:p1", "brightness")
	old := time.Now().Add(-time.Hour)
	os.Chtimes(p1, old, old)
	b.SetLED(0, firmware.LED{})
	if st, _ := os.Stat(p1); !st.ModTime().Equal(old) {
		t.Error("an unchanged LED was written again")
	}
}

func TestCheckSeesALostWrite(t *testing.T) {
	dir := t.TempDir()
	MakeStandIns(dir, "p1")
	b, _ := Open(dir, nil)
	on := firmware.LED{State: firmware.LEDOn}
	b.SetLED(0, on)
	os.WriteFile(filepath.Join(dir, "p1", "brightness"), []byte("0"), 0o644) // the kernel refused
	if err := b.Check(0, on); err == nil {
		t.Error("Check missed a dark LED")
	}
}

func TestRealSysfsTrigger(t *testing.T) {
	if got := activeTrigger("none rc-feedback [timer] heartbeat"); got != "timer" {
		t.Errorf("activeTrigger = %q", got)
	}
	if got := activeTrigger("timer"); got != "timer" {
		t.Errorf("activeTrigger = %q", got)
	}
}

func TestParseMap(t *testing.T) {
	m, err := ParseMap("P1=led0, p2:green=g2 P2:RED=r2")
	if err != nil {
		t.Fatal(err)
	}
	want := Map{0: {Any: "led0"}, 1: {Green: "g2", Red: "r2"}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("%v, want %v", m, want)
	}
	for _, bad := range []string{"P1", "X1=a", "P1:blue=a", "P1=../../etc", "P0=a", "P1="} {
		if _, err := ParseMap(bad); err == nil {
			t.Errorf("ParseMap(%q) accepted", bad)
		}
	}
}

func TestAbsent(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "none"), nil); !errors.Is(err, hw.ErrAbsent) {
		t.Errorf("no folder: %v", err)
	}
	MakeStandIns(dir, "input0::capslock")
	if _, err := Open(dir, nil); !errors.Is(err, hw.ErrAbsent) {
		t.Errorf("no function-key LED: %v", err)
	}
	m, _ := ParseMap("P1=missing")
	if _, err := Open(dir, m); err == nil || errors.Is(err, hw.ErrAbsent) {
		t.Errorf("a mapped LED that is missing is a failure: %v", err)
	}
}
