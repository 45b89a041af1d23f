package provisioning

import (
	"errors"
	"strings"
	"testing"
)

func TestParseFlat(t *testing.T) {
	in := "\ufeff# phone 100\n" +
		"user_name1: 100\n" +
		"user_realname1:  Front Desk \n" +
		"dnd_mode!: on\n" +
		"http_pass&: secret\n" +
		"\n" +
		"fkey3: dest sip:200@pbx\n" +
		"action_incoming_url: http://crm/in?nr=$remote&x=1\n"
	f, err := ParseFlat(strings.NewReader(in), "phone.cfg")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Entry{}
	for _, e := range f.Entries {
		got[e.Name] = e
	}
	for name, want := range map[string]Entry{
		"user_name1":          {Value: "100", Line: 2},
		"user_realname1":      {Value: "Front Desk", Line: 3},
		"dnd_mode":            {Value: "on", Perm: PermKeep, Line: 4},
		"http_pass":           {Value: "secret", Perm: PermReadOnly, Line: 5},
		"fkey3":               {Value: "dest sip:200@pbx", Line: 7},
		"action_incoming_url": {Value: "http://crm/in?nr=$remote&x=1", Line: 8},
	} {
		want.Name = name
		if got[name] != want {
			t.Errorf("%s = %+v, want %+v", name, got[name], want)
		}
	}
	if len(f.Entries) != 6 {
		t.Errorf("%d entries, want 6", len(f.Entries))
	}
}

// snom's flat files: a '#' inside a value is part of it (no inline
// comments), snom's <html><pre> wrapper lines are skipped, "$" is a flag.
func TestParseFlatSnomForms(t *testing.T) {
	in := "<html>\n<pre>\nhttp_pass&: se#cret  # not a comment\nredirect_number$: 200\n  # indented comment\n</pre>\n</html>\n"
	f, err := ParseFlat(strings.NewReader(in), "snom.htm")
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Name: "http_pass", Value: "se#cret  # not a comment", Perm: PermReadOnly, Line: 3},
		{Name: "redirect_number", Value: "200", Perm: PermOverwrite, Line: 4},
	}
	if len(f.Entries) != len(want) {
		t.Fatalf("entries %+v, want %+v", f.Entries, want)
	}
	for i := range want {
		if f.Entries[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, f.Entries[i], want[i])
		}
	}
}

func TestParseFlatErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		line int
	}{
		{"user_name1: 100\nthis is not a setting\n", 2},
		{"\n\nbad name: x\n", 3},
		{": value\n", 1},
		{"user_name1: 100\nuser_realname1: \xff\xfe\n", 2},
	} {
		_, err := ParseFlat(strings.NewReader(tc.in), "bad.cfg")
		var se *SettingError
		if !errors.As(err, &se) || se.Line != tc.line || se.File != "bad.cfg" {
			t.Errorf("ParseFlat(%q) error = %v, want bad.cfg line %d", tc.in, err, tc.line)
			continue
		}
		if !strings.HasPrefix(err.Error(), "bad.cfg:") {
			t.Errorf("error %q does not name the file", err)
		}
	}
	big := strings.Repeat("#"+strings.Repeat("x", 99)+"\n", MaxFileSize/100+10)
	if _, err := ParseFlat(strings.NewReader(big), "big.cfg"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized file: %v", err)
	}
}

func TestSettingsDefaultsAndSecrets(t *testing.T) {
	s := New()
	if s.Get("fkey0") != "line" || s.Get("fkey3") != "line" || s.Get("fkey4") != "none" {
		t.Errorf("fkey defaults: %q %q %q", s.Get("fkey0"), s.Get("fkey3"), s.Get("fkey4"))
	}
	if s.Get("user_active12") != "on" || s.Get("dnd_mode") != "off" {
		t.Error("identity / dnd defaults")
	}
	for name, secret := range map[string]bool{"user_pass1": true, "http_pass": true, "user_name1": false, "dnd_mode": false} {
		if IsSecret(name) != secret {
			t.Errorf("IsSecret(%s) = %v", name, !secret)
		}
	}
	if err := s.Set("bad name", "x"); err == nil {
		t.Error("Set accepted a bad name")
	}
	c := s.Clone()
	_ = c.Set("dnd_mode", "on")
	if s.Get("dnd_mode") != "off" {
		t.Error("Clone shares values")
	}
}

func TestParseAssignment(t *testing.T) {
	e, err := ParseAssignment("fkey4=dest sip:echo@127.0.0.1:5070")
	if err != nil || e != (Entry{Name: "fkey4", Value: "dest sip:echo@127.0.0.1:5070"}) {
		t.Fatalf("got %+v %v", e, err)
	}
	if e, err := ParseAssignment("dnd_mode&=on"); err != nil || e != (Entry{Name: "dnd_mode", Value: "on", Perm: PermReadOnly}) {
		t.Fatalf("flag: got %+v %v", e, err)
	}
	for _, bad := range []string{"novalue", "=x", "a b=c"} {
		if _, err := ParseAssignment(bad); err == nil {
			t.Errorf("ParseAssignment(%q) accepted", bad)
		}
	}
}

func FuzzParseFlat(f *testing.F) {
	f.Add("user_name1: 100\n# c\nfkey0!: line\n")
	f.Add("a&: b: c\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		file, err := ParseFlat(strings.NewReader(in), "fuzz.cfg")
		if err != nil {
			var se *SettingError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *SettingError", err)
			}
			return
		}
		for _, e := range file.Entries {
			if CheckName(e.Name) != nil {
				t.Fatalf("accepted bad name %q", e.Name)
			}
		}
	})
}
