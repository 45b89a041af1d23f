package firmware

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScenariosTickless runs every scenario as the device runs a phone:
// no Tick while NeedsTicks is false, and one catch-up Tick before the
// next event. Each block must produce what it produces with every Tick,
// but for redraws (the idle clock's minute moves at another step). A
// deadline that counted ticks the phone did not get, or a NeedsTicks that
// says false while something waits on the clock, shows up here.
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

// TestNeedsTicks follows an idle phone through a notice and a call: it
// needs the clock exactly while something on it waits for time.
func TestNeedsTicks(t *testing.T) {
	r := &runner{t: t}
	r.exec("new")
	if r.p.NeedsTicks() {
		t.Fatal("an idle phone needs ticks")
	}
	r.p.say("Busy") // a transient notice
	if !r.p.NeedsTicks() {
		t.Fatal("a phone showing a notice needs no ticks: the notice would stay")
	}
	r.exec("tick 30")
	if r.p.View().Message != "" || r.p.NeedsTicks() {
		t.Fatalf("after 3 s: message %q, needs ticks %v", r.p.View().Message, r.p.NeedsTicks())
	}
	r.exec("offer c1 uri=sip:alice@pbx")
	if !r.p.NeedsTicks() {
		t.Fatal("a ringing phone needs no ticks: its ring timers would not run")
	}
}
