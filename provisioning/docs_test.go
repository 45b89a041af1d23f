package provisioning

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the settings table in docs/settings.md from the schema")

const (
	tableStart = "<!-- settings table: generated from provisioning/schema.go by `go test ./provisioning -update` -->"
	tableEnd   = "<!-- end of settings table -->"
)

// The settings reference in docs/settings.md is the schema, rendered:
// this test fails when they differ, and -update rewrites the doc.
func TestDocsTableIsTheSchema(t *testing.T) {
	const path = "../docs/settings.md"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	i, j := strings.Index(doc, tableStart), strings.Index(doc, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no generated settings table (markers %q … %q)", path, tableStart, tableEnd)
	}
	want := tableStart + "\n" + markdownTable() + tableEnd
	got := doc[i : j+len(tableEnd)]
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(doc[:i]+want+doc[j+len(tableEnd):]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s differs from the schema: run go test ./provisioning -update", path)
}

func markdownTable() string {
	var b strings.Builder
	for _, g := range Groups {
		fmt.Fprintf(&b, "\n### %s\n\n| name | type | default | meaning |\n|---|---|---|---|\n", g)
		for _, s := range schema {
			if s.Group != g {
				continue
			}
			name := "`" + s.Name + "`"
			if s.Family != Single {
				lo, hi := s.Family.Range()
				name = fmt.Sprintf("`%sN` (N = %d–%d)", s.Name, lo, hi)
			}
			typ := s.Kind.String()
			switch s.Kind {
			case Int, Seconds:
				typ += fmt.Sprintf(" %d–%d", s.Min, s.Max)
			case Enum, Set:
				if len(s.Values) <= 6 {
					typ += " " + strings.Join(s.Values, ", ")
				}
			}
			def := s.Default
			switch {
			case s.Name == "fkey":
				def = "`line` (N < 4), `none`"
			case s.Name == "user_name":
				def = "`100` (N = 1)"
			case def != "":
				def = "`" + def + "`"
			}
			doc := s.Doc
			if s.Secret {
				doc += " (secret: never shown, logged or substituted)"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, typ, def, strings.ReplaceAll(doc, "|", "\\|"))
		}
	}
	b.WriteString("\n")
	return b.String()
}

// The examples docs/provisioning.md tells a user to paste load without a
// single finding.
func TestDocExamples(t *testing.T) {
	data, err := os.ReadFile("../docs/provisioning.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := fencedBlocks(string(data))
	var xmlDoc, flat string
	for _, b := range blocks {
		switch {
		case strings.HasPrefix(b, "<?xml"):
			xmlDoc = b
		case strings.HasPrefix(b, "# phone 1001"):
			flat = b
		}
	}
	if xmlDoc == "" || flat == "" {
		t.Fatalf("docs/provisioning.md lost its examples (found %d code blocks)", len(blocks))
	}
	var files []*File // the XML example first
	for _, ex := range []struct{ name, text string }{{"phone.xml", xmlDoc}, {"phone.cfg", flat}} {
		name, text := ex.name, ex.text
		f, err := Parse([]byte(text), name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if fs := Check(f); len(fs) > 0 {
			t.Errorf("%s: %s", name, FormatFindings(fs))
		}
		files = append(files, f)
	}
	// both describe the same phone
	st := NewStore()
	st.AddFile(files[0])
	s := st.Resolve()
	for name, want := range map[string]string{
		"user_name1": "1001", "user_pass1": "1001-pw", "fkey4": "blf <sip:1002@pbx.example.com>", "fkey_label6": "CRM",
		"action_incoming_url": "http://crm.example.com/in?nr=$remote&name=$display_remote&id=$call-id",
	} {
		if got := s.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if s.Perm("user_pass1") != PermReadOnly || s.Perm("dnd_mode") != PermKeep || s.NameFor("1002") != "Reception" {
		t.Errorf("perms or phone book of the XML example are not as the doc says")
	}
}

// fencedBlocks returns the contents of the ``` blocks of a markdown text.
func fencedBlocks(md string) []string {
	var out []string
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "```") {
			continue
		}
		var b []string
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
			b = append(b, lines[i])
		}
		out = append(out, strings.Join(b, "\n")+"\n")
	}
	return out
}
