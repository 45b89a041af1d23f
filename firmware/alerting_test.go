package firmware

import "testing"

func TestSplitHostPort(t *testing.T) {
	for in, want := range map[string][3]string{
		"pbx:5060": {"pbx", "5060", "true"}, "[::1]:5060": {"::1", "5060", "true"},
		"pbx": {"", "", "false"}, "::1": {"", "", "false"}, "pbx:": {"", "", "false"}, "[::1]": {"", "", "false"},
	} {
		h, p, ok := splitHostPort(in)
		if got := [3]string{h, p, map[bool]string{true: "true", false: "false"}[ok]}; got != want {
			t.Errorf("splitHostPort(%q) = %v, want %v", in, got, want)
		}
	}
}
