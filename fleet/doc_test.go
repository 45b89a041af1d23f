package fleet

import (
	"os"
	"strings"
	"testing"
)

// The scenario docs/fleet.md shows parses as it is.
func TestDocScenario(t *testing.T) {
	data, err := os.ReadFile("../docs/fleet.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "```\n# ring.txt")
	if !ok {
		t.Fatal("docs/fleet.md lost its ring.txt example")
	}
	block, _, _ := strings.Cut(rest, "```")
	if _, err := ParseScenario(strings.NewReader("# ring.txt"+block), "ring.txt"); err != nil {
		t.Fatalf("the documented scenario: %v", err)
	}
}
