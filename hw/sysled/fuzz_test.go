package sysled

import (
	"strings"
	"testing"
)

// FuzzParseMap: an LED map setting parses or fails, and no name it
// accepts can leave the LED class folder.
func FuzzParseMap(f *testing.F) {
	for _, s := range []string{"P1=led0, p2:green=g2 P2:RED=r2", "P1=../x", "P1:blue=a", "P999=a", "=,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMap(s)
		if err != nil {
			return
		}
		for _, byColour := range m {
			for _, name := range byColour {
				if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\") {
					t.Fatalf("%q accepted LED name %q", s, name)
				}
			}
		}
	})
}
