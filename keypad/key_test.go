package keypad

import "testing"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Key
		err  bool
	}{
		{"5", "5", false},
		{"*", "*", false},
		{"#", "#", false},
		{"offhook", OffHook, false},
		{" ENTER ", Enter, false},
		{"P1", "P1", false},
		{"p32", "P32", false},
		{"P86", "P86", false},
		{"EK0", "P33", false},
		{"EK53", "P86", false},
		{"EK54", "", true},
		{"P0", "", true},
		{"P01", "", true},
		{"P87", "", true},
		{"F4", F4, false},
		{"F5", "", true},
		{"", "", true},
		{"A", "", true},
		{"<script>", "", true},
	} {
		got, err := Parse(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("Parse(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseList(t *testing.T) {
	keys, err := ParseList("OFFHOOK;1;0;0;ENTER;")
	if err != nil || len(keys) != 5 || keys[0] != OffHook || keys[4] != Enter {
		t.Fatalf("ParseList = %v, %v", keys, err)
	}
	if _, err := ParseList("1;NOPE"); err == nil {
		t.Fatal("ParseList accepted an unknown key")
	}
	if _, err := ParseList(";;"); err == nil {
		t.Fatal("ParseList accepted an empty list")
	}
}

func TestIndexes(t *testing.T) {
	if i, ok := Key("P12").FunctionIndex(); !ok || i != 11 {
		t.Errorf("P12 index = %d, %v", i, ok)
	}
	if _, ok := Key("ENTER").FunctionIndex(); ok {
		t.Error("ENTER has a function index")
	}
	if i, ok := F3.SoftkeyIndex(); !ok || i != 2 {
		t.Errorf("F3 = %d, %v", i, ok)
	}
	if d, ok := Key("#").Digit(); !ok || d != '#' {
		t.Errorf("# digit = %q, %v", d, ok)
	}
	if FunctionKey(-1) != "" || FunctionKey(MaxFunctionKeys) != "" || FunctionKey(0) != "P1" {
		t.Error("FunctionKey bounds")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"P1", "EK3", "OFFHOOK", "#", "p99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(string(k))
		if err != nil || again != k {
			t.Fatalf("Parse(%q) = %q does not parse back: %q, %v", s, k, again, err)
		}
	})
}

func TestActionKeys(t *testing.T) {
	for in, want := range map[string]int{"ACTION1": 1, "action32": 32} {
		k, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if n, ok := k.ActionIndex(); !ok || n != want {
			t.Errorf("%q: ActionIndex = %d %v, want %d", in, n, ok, want)
		}
	}
	for _, bad := range []string{"ACTION0", "ACTION33", "ACTION01", "ACTIONX"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	if k, err := Parse("action"); err != nil || k != Action {
		t.Errorf("Parse(action) = %q %v", k, err)
	}
}
