package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"phonesim/hwtest"
)

func runHwtest(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	old := hwtestStdin
	hwtestStdin = strings.NewReader(stdin)
	defer func() { hwtestStdin = old }()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"hwtest"}, args...), &out, &errb)
	return out.String(), errb.String(), err
}

// TestHwtestStandIns: the qemu board on stand-ins the command makes
// itself passes its scripted checks, in text and JSON.
func TestHwtestStandIns(t *testing.T) {
	root := t.TempDir()
	out, errs, err := runHwtest(t, "", "--board", "qemu", "--root", root, "--make-standins", "--auto")
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out, errs)
	}
	if !strings.Contains(out, "hwtest qemu (auto): 15 passed, 0 failed, 0 absent, 0 skipped") {
		t.Errorf("report:\n%s", out)
	}
	out, _, err = runHwtest(t, "", "--board", "qemu", "--root", root, "--auto", "--json", "--only", "keys,audio")
	if err != nil {
		t.Fatal(err)
	}
	var r hwtest.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || !r.OK || r.Passed != 5 || r.Board != "qemu" {
		t.Fatalf("JSON report: %v\n%s", err, out)
	}
}

// TestHwtestInteractive answers every question yes from stdin.
func TestHwtestInteractive(t *testing.T) {
	root := t.TempDir()
	out, errs, err := runHwtest(t, strings.Repeat("y\n", 9), "--board", "qemu", "--root", root, "--make-standins")
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out, errs)
	}
	if !strings.Contains(out, "(interactive): 24 passed, 0 failed") || strings.Count(errs, "[y/n]") != 9 {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, errs)
	}
	out, _, err = runHwtest(t, "n\n", "--board", "qemu", "--root", root, "--only", "display")
	if !errors.Is(err, errFindings) || !strings.Contains(out, "display  fail    a person sees the test picture") {
		t.Errorf("a no: %v\n%s", err, out)
	}
}

// TestHwtestAbsentAndFailed: nothing fitted passes with every part
// absent; a display that is there and broken fails with exit status 1.
func TestHwtestAbsentAndFailed(t *testing.T) {
	dir := t.TempDir()
	none := []string{"--fb", filepath.Join(dir, "fb0"), "--evdev", filepath.Join(dir, "event*"), "--leds", filepath.Join(dir, "leds"), "--auto"}
	out, _, err := runHwtest(t, "", none...)
	if err != nil || !strings.Contains(out, "0 passed, 0 failed, 4 absent") {
		t.Errorf("%v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "fb0"), nil, 0o644) // a plain file: no ioctls, no geometry given
	out, _, err = runHwtest(t, "", none...)
	if !errors.Is(err, errFindings) || !strings.Contains(out, "display  fail    open") {
		t.Errorf("%v\n%s", err, out)
	}
}

func TestHwtestUsage(t *testing.T) {
	_, errs, err := runHwtest(t, "", "--help")
	if !errors.Is(err, pflag.ErrHelp) || !strings.Contains(errs, "--fb-geometry") || !strings.Contains(errs, "--board") {
		t.Errorf("--help: %v\n%s", err, errs)
	}
	for _, args := range [][]string{{"extra"}, {"--board", "nope"}, {"--only", "speaker"}, {"--keys", "NOKEY"}, {"--keymap", "KEY_F5"}, {"--make-standins"}} {
		if _, _, err := runHwtest(t, "", args...); !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
