package phonelog

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzInert checks that whatever goes in, what comes out is valid UTF-8,
// one line, free of terminal controls, and stable under a second Inert.
func FuzzInert(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[2J<script>alert(1)</script>&x=1", "a\r\nb", "\u009b2J", "\xff\xfe", "\u202e", `\x1b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Inert(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Inert(%q) = %q: not UTF-8", s, got)
		}
		for _, r := range got {
			if needsEscape(r, utf8.RuneLen(r)) {
				t.Fatalf("Inert(%q) = %q keeps %U", s, got, r)
			}
		}
		if strings.ContainsAny(got, "\r\n") {
			t.Fatalf("Inert(%q) breaks the line", s)
		}
		if again := Inert(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, again)
		}
	})
}
