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

// The result lines docs/fleet.md shows (the json blocks of its Results
// section: a call, an Action URL, a second's summary) read as results.
func TestDocResultLines(t *testing.T) {
	data, err := os.ReadFile("../docs/fleet.md")
	if err != nil {
		t.Fatal(err)
	}
	_, results, _ := strings.Cut(string(data), "## Results")
	results, _, _ = strings.Cut(results, "\n## ")
	var r Results
	for _, b := range strings.Split(results, "```json\n")[1:] {
		line, _, _ := strings.Cut(b, "```")
		if err := r.Read(strings.NewReader(line), "docs/fleet.md"); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.Calls) != 1 || len(r.URLs) != 1 || len(r.Seconds) != 1 {
		t.Fatalf("docs/fleet.md shows %d calls, %d URLs, %d seconds; want one of each", len(r.Calls), len(r.URLs), len(r.Seconds))
	}
	if u := r.URLs[0]; u.Event != "action_incoming_url" || u.Latency <= 0 || !u.OK {
		t.Errorf("the documented url line reads as %+v", u)
	}
	if s := r.Seconds[0]; s.URLs == 0 || s.URLP99 <= 0 || s.SetupP50 <= 0 {
		t.Errorf("the documented second reads as %+v", s)
	}
}
