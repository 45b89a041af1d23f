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
	for name, want := range map[string]string{
		"user_name1":          "100",
		"user_realname1":      "Front Desk",
		"dnd_mode":            "on",
		"http_pass":           "secret",
		"fkey3":               "dest sip:200@pbx",
		"action_incoming_url": "http://crm/in?nr=$remote&x=1",
		"redirect_event":      "none", // a default
	} {
		if got := f.Values.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if f.Perms["dnd_mode"] != PermUser || f.Perms["http_pass"] != PermReadOnly || f.Perms["user_name1"] != PermDefault {
		t.Errorf("perms = %v", f.Perms)
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
	n, v, err := ParseAssignment("fkey4=dest sip:echo@127.0.0.1:5070")
	if err != nil || n != "fkey4" || v != "dest sip:echo@127.0.0.1:5070" {
		t.Fatalf("got %q %q %v", n, v, err)
	}
	for _, bad := range []string{"novalue", "=x", "a b=c"} {
		if _, _, err := ParseAssignment(bad); err == nil {
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
		for name := range file.Perms {
			if CheckName(name) != nil {
				t.Fatalf("accepted bad name %q", name)
			}
		}
	})
}
