package firmware

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"phonesim/actionurl"
	"phonesim/provisioning"
)

// The settings docs/client-actions.md tells a user to paste load without a
// finding, and the app example gives the program exactly the arguments
// the page says.
func TestClientActionDocExamples(t *testing.T) {
	data, err := os.ReadFile("../docs/client-actions.md")
	if err != nil {
		t.Fatal(err)
	}
	var examples []string
	for _, block := range strings.Split(string(data), "```")[1:] {
		if b := strings.TrimLeft(block, "\n"); strings.HasPrefix(b, "client_action_") {
			examples = append(examples, b)
		}
	}
	if len(examples) != 2 {
		t.Fatalf("docs/client-actions.md has %d settings examples, want 2 (url and app)", len(examples))
	}
	var app string
	for i, ex := range examples {
		f, err := provisioning.Parse([]byte(ex), "example")
		if err != nil {
			t.Fatalf("example %d: %v", i+1, err)
		}
		if fs := provisioning.Check(f); len(fs) > 0 {
			t.Errorf("example %d: %s", i+1, provisioning.FormatFindings(fs))
		}
		for _, e := range f.Entries {
			if e.Name == "client_action_target2" {
				app = e.Value
			}
		}
	}
	got := actionurl.ExpandArgs(actionurl.SplitArgs(app), actionurl.Map{"name": "Ann Lee", "number": "200"})
	want := []string{"/usr/bin/logger", "-t", "phonesim", "call from Ann Lee", "--number=200"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the logger example runs %q, the page says %q", got, want)
	}
}
