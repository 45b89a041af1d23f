package webui

import (
	"net/http"
	"strings"
	"testing"

	"phonesim/firmware"
	"phonesim/phonelog"
)

// logFake is a fake phone whose log holds one line of each level.
func logFake() *fakePhone {
	f := newFake()
	f.log.Add(firmware.Debug, "sipgo: a debug line")
	f.log.Add(firmware.Info, "an info line")
	f.log.Add(firmware.Notice, "a notice line")
	f.log.Add(firmware.Warning, "a warning line")
	f.log.Add(firmware.Error, "an error line")
	return f
}

func TestLogLevelQuery(t *testing.T) {
	f := logFake()
	h := New(f, Options{})
	tests := []struct {
		query string
		want  string
	}{
		{"?level=warning", "[4] 5/3/2026 09:04:07: a warning line\n[3] 5/3/2026 09:04:07: an error line\n"},
		{"?level=WARNING", "[4] 5/3/2026 09:04:07: a warning line\n[3] 5/3/2026 09:04:07: an error line\n"},
		{"?level=4", "[4] 5/3/2026 09:04:07: a warning line\n[3] 5/3/2026 09:04:07: an error line\n"},
		{"?level=error", "[3] 5/3/2026 09:04:07: an error line\n"},
		{"?level=0", "[3] 5/3/2026 09:04:07: an error line\n"},
		{"?level=notice", "[5] 5/3/2026 09:04:07: a notice line\n[4] 5/3/2026 09:04:07: a warning line\n[3] 5/3/2026 09:04:07: an error line\n"},
		{"?level=9", strings.Join(f.log.Lines(), "\n") + "\n"},
		{"?level=debug", strings.Join(f.log.Lines(), "\n") + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res := get(h, "/log.txt"+tt.query)
			b := body(t, res)
			eq(t, http.StatusOK, res.StatusCode, b)
			eq(t, tt.want, b)
		})
	}
	t.Run("log.htm", func(t *testing.T) {
		res := get(h, "/log.htm?level=warning")
		b := body(t, res)
		eq(t, http.StatusOK, res.StatusCode, b)
		for _, w := range []string{"a warning line", "an error line", `class="warning"`, `class="error"`} {
			if !strings.Contains(b, w) {
				t.Errorf("lacks %q:\n%s", w, b)
			}
		}
		for _, w := range []string{"an info line", "a notice line", "a debug line"} {
			if strings.Contains(b, w) {
				t.Errorf("shows %q below the level asked:\n%s", w, b)
			}
		}
	})
}

func TestLogLevelBad(t *testing.T) {
	h := New(logFake(), Options{})
	for _, path := range []string{"/log.txt?level=bogus", "/log.htm?level=bogus", "/log.txt?level=", "/log.txt?level=10", "/log.txt?level=%1b%5b2J"} {
		t.Run(path, func(t *testing.T) {
			res := get(h, path)
			b := body(t, res)
			eq(t, http.StatusBadRequest, res.StatusCode, b)
			if !strings.Contains(b, "want debug, info, notice, warning, error or a digit 0-9") {
				t.Errorf("400 without a reason: %q", b)
			}
			if strings.Contains(b, "\x1b") || strings.Contains(b, "line") {
				t.Errorf("400 body %q", b)
			}
		})
	}
}

// TestLogLevelDefault: without ?level= the pages show the log's own level
// (--log-level, info unless told), so a debug line is hidden by default.
func TestLogLevelDefault(t *testing.T) {
	f := logFake()
	h := New(f, Options{})

	// a log with no level set shows everything
	b := body(t, get(h, "/log.txt"))
	eq(t, strings.Join(f.log.Lines(), "\n")+"\n", b)

	f.log.SetLevel(firmware.Info)
	b = body(t, get(h, "/log.txt"))
	if strings.Contains(b, "a debug line") || !strings.Contains(b, "[6] 5/3/2026 09:04:07: an info line\n") {
		t.Errorf("at info:\n%s", b)
	}
	b = body(t, get(h, "/log.htm"))
	if strings.Contains(b, "a debug line") || !strings.Contains(b, "an info line") {
		t.Errorf("log.htm at info:\n%s", b)
	}
	// ?level= reaches below the default: the log keeps every level
	if b = body(t, get(h, "/log.txt?level=debug")); !strings.Contains(b, "[7] 5/3/2026 09:04:07: sipgo: a debug line\n") {
		t.Errorf("?level=debug at info:\n%s", b)
	}

	f.log.SetLevel(firmware.Error)
	eq(t, "[3] 5/3/2026 09:04:07: an error line\n", body(t, get(h, "/log.txt")))
}

// TestLogFormatWords: the pages write lines in the log's format.
func TestLogFormatWords(t *testing.T) {
	f := logFake()
	f.log.SetFormat(phonelog.Words)
	h := New(f, Options{})
	eq(t, "[WARNING] 5/3/2026 09:04:07: a warning line\n[ERROR] 5/3/2026 09:04:07: an error line\n", body(t, get(h, "/log.txt?level=warning")))
	if b := body(t, get(h, "/log.htm")); !strings.Contains(b, "[NOTICE] 5/3/2026 09:04:07: a notice line") {
		t.Errorf("log.htm in words:\n%s", b)
	}
}
