package actionurl

import (
	"strings"
	"testing"
)

// quoteArg writes a token the way SplitArgs reads it back: in double
// quotes, a literal quote as three.
func quoteArg(s string) string { return `"` + strings.ReplaceAll(s, `"`, `"""`) + `"` }

// FuzzSplitArgs: any line splits without panicking, and tokens quoted by
// the rule come back exactly (pascom's tokenizer round-trips).
func FuzzSplitArgs(f *testing.F) {
	f.Add(`a "b c" """d"""`, "x y", `"`)
	f.Add(``, ``, `"""`)
	f.Fuzz(func(t *testing.T, line, a, b string) {
		_ = SplitArgs(line)
		if strings.ContainsAny(a+b, "\x00") {
			return
		}
		got := SplitArgs(quoteArg(a) + " " + quoteArg(b))
		if len(got) != 2 || got[0] != a || got[1] != b {
			t.Fatalf("round trip of %q %q gave %q", a, b, got)
		}
	})
}

// FuzzExpandArgs: whatever a value holds, each template token is exactly
// one argument, and a token that is one parameter is the value itself
// (less NUL, which no argument can hold).
func FuzzExpandArgs(f *testing.F) {
	f.Add("$(id)", "--x=${v}")
	f.Add(";touch /tmp/x\n", `"""`)
	f.Fuzz(func(t *testing.T, value, tmpl string) {
		tokens := []string{"${v}", tmpl, "lit"}
		got := ExpandArgs(tokens, Map{"v": value})
		if len(got) != len(tokens) {
			t.Fatalf("%d tokens gave %d arguments", len(tokens), len(got))
		}
		if want := strings.ReplaceAll(value, "\x00", ""); got[0] != want {
			t.Fatalf("${v} with %q gave %q", value, got[0])
		}
		if got[2] != "lit" {
			t.Fatalf("a literal token changed: %q", got[2])
		}
	})
}
