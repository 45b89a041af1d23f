package firmware

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestScenariosTickless runs every scenario as the device runs a phone:
// no Tick before the one NextTick asks for, and one catch-up Tick before
// the next event. Each block must produce what it produces with every
// Tick, but for redraws (the idle clock's minute moves at another step).
// A deadline NextTick leaves out, or names late, shows up here.
func TestScenariosTickless(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	skipped := 0
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			r := &runner{t: t, tickless: true}
			for _, b := range splitBlocks(string(data)) {
				before := r.behind
				got := r.exec(b.cmd)
				if r.behind && !before {
					skipped++
				}
				if g, w := withoutRenders(got), withoutRenders(b.want); g != w {
					t.Errorf("%s:%d: %s\n got (tickless):\n%s\nwant:\n%s", file, b.line, b.cmd, g, w)
				}
			}
		})
	}
	if skipped == 0 {
		t.Error("no scenario ever let the phone go without ticks: the test checks nothing")
	}
}

func withoutRenders(s string) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l != "render" {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestNextTick follows an idle phone through a notice and a call: it
// wakes exactly when something on it waits for time.
func TestNextTick(t *testing.T) {
	r := &runner{t: t}
	r.exec("new")
	if n, ok := r.p.NextTick(); ok {
		t.Fatalf("an idle phone wants a Tick in %d", n)
	}
	r.p.say("Busy") // a transient notice
	if n, ok := r.p.NextTick(); !ok || n != messageTicks {
		t.Fatalf("a notice: next tick in %d (%v), want %d: the notice would stay", n, ok, messageTicks)
	}
	r.exec("tick 30")
	if n, ok := r.p.NextTick(); r.p.View().Message != "" || ok {
		t.Fatalf("after 3 s: message %q, next tick in %d", r.p.View().Message, n)
	}
	r.exec("offer c1 uri=sip:alice@pbx")
	if _, ok := r.p.NextTick(); !ok {
		t.Fatal("a ringing phone wants no tick: its ring timers would not run")
	}
	r.exec("key ENTER")
	if n, ok := r.p.NextTick(); !ok || n != ticksPerSecond {
		t.Fatalf("a connected call: next tick in %d (%v), want one second: its duration would stand still", n, ok)
	}
	// a Tick that comes late counts every interval it missed
	before := r.p.ticks
	r.now = r.now.Add(5 * time.Second)
	r.p.Step(Tick{Now: r.now})
	if got := r.p.ticks - before; got != 5*ticksPerSecond {
		t.Errorf("a Tick 5 s after the last counted %d intervals, want %d", got, 5*ticksPerSecond)
	}
	if v := r.p.View(); len(v.Calls) != 1 || v.Calls[0].Seconds != 5 {
		t.Errorf("after 5 s: %+v", v.Calls)
	}
}
