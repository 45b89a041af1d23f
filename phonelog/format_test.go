package phonelog

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"phonesim/firmware"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestFormatGolden pins both line forms, every level, against
// testdata/format.golden: the digits that scripts reading snom logs
// match, and the words form --log-format words selects.
func TestFormatGolden(t *testing.T) {
	at := time.Date(2026, 4, 1, 7, 5, 9, 0, time.UTC)
	levels := []firmware.Level{firmware.Debug, firmware.Info, firmware.Notice, firmware.Warning, firmware.Error}
	var b bytes.Buffer
	for _, f := range []Format{Digits, Words} {
		b.WriteString("# " + f.String() + "\n")
		for _, lv := range levels {
			e := Entry{Time: at, Level: lv, Message: "a " + strings.ToLower(lv.String()) + " line"}
			b.WriteString(e.Line(f) + "\n")
		}
		// the date as snom writes it: day and month unpadded, time padded
		e := Entry{Time: time.Date(2006, 4, 11, 10, 52, 43, 0, time.UTC), Level: firmware.Info, Message: "a\x1bb"}
		b.WriteString(e.Line(f) + "\n")
	}
	path := filepath.Join("testdata", "format.golden")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("lines differ from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestDigitAndParseLevel(t *testing.T) {
	for lv, d := range map[firmware.Level]byte{firmware.Error: 3, firmware.Warning: 4, firmware.Notice: 5, firmware.Info: 6, firmware.Debug: 7} {
		eq(t, d, Digit(lv), lv.String())
		// a level's own digit reads back as that level
		got, err := ParseLevel(string('0' + d))
		eq(t, nil, err)
		eq(t, lv, got, "digit ", d)
		got, err = ParseLevel(strings.ToLower(lv.String()))
		eq(t, nil, err)
		eq(t, lv, got, lv.String())
	}
	for in, want := range map[string]firmware.Level{"0": firmware.Error, "2": firmware.Error, "9": firmware.Debug, "8": firmware.Debug, " Warning ": firmware.Warning, "INFO": firmware.Info} {
		got, err := ParseLevel(in)
		eq(t, nil, err, in)
		eq(t, want, got, in)
	}
	for _, bad := range []string{"", "bogus", "10", "-1", "warn", "6x"} {
		if _, err := ParseLevel(bad); err == nil {
			t.Errorf("ParseLevel(%q): no error", bad)
		}
	}
	for in, want := range map[string]Format{"digits": Digits, "WORDS": Words} {
		got, err := ParseFormat(in)
		eq(t, nil, err, in)
		eq(t, want, got, in)
	}
	if _, err := ParseFormat("numbers"); err == nil {
		t.Error("ParseFormat(numbers): no error")
	}
}

func TestLogFormatAndLevel(t *testing.T) {
	var out strings.Builder
	l := New(10, fixedClock())
	l.SetOutput(&out)
	eq(t, Digits, l.LineFormat(), "default format")
	eq(t, firmware.Debug, l.Level(), "default level")
	check(t, l.Enabled(firmware.Debug), "debug enabled by default")

	l.SetLevel(firmware.Notice)
	check(t, !l.Enabled(firmware.Info), "info enabled at notice")
	check(t, l.Enabled(firmware.Warning), "warning not enabled at notice")
	l.Add(firmware.Info, "kept, not written")
	l.Add(firmware.Notice, "digits")
	l.SetFormat(Words)
	l.Add(firmware.Error, "words")
	eq(t, "[5] 5/3/2026 09:04:07: digits\n[ERROR] 5/3/2026 09:04:07: words\n", out.String())
	eq(t, []string{
		"[INFO] 5/3/2026 09:04:07: kept, not written",
		"[NOTICE] 5/3/2026 09:04:07: digits",
		"[ERROR] 5/3/2026 09:04:07: words",
	}, l.Lines(), "Lines follows the format, every level")

	var nl *Log
	check(t, !nl.Enabled(firmware.Error), "nil log enables nothing")
	eq(t, Digits, nl.LineFormat())
}
