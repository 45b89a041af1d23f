package fleet

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseScenario(t *testing.T) {
	s, err := ParseScenario(strings.NewReader(`
# a ring of calls
callers 50%
call random every 2s   # each caller
answer after 500ms
dtmf 12#*
hold 1s
talk 3s
timeout 10s
`), "ring.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := Scenario{Callers: 50, Target: "random", Every: 2 * time.Second, AnswerAfter: 500 * time.Millisecond,
		DTMF: "12#*", Hold: time.Second, Talk: 3 * time.Second, Timeout: 10 * time.Second}
	if *s != want {
		t.Fatalf("got %+v\nwant %+v", *s, want)
	}
	s, err = ParseScenario(strings.NewReader("answer never\n"), "x")
	if err != nil || !s.AnswerNever || s.Target != "" || s.Callers != 100 || s.Timeout != 30*time.Second {
		t.Fatalf("answer never: %+v %v", s, err)
	}
}

func TestParseScenarioErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"ring", `s.txt:1: unknown statement "ring"`},
		{"\n\ncall random", "s.txt:3: want: call <random [FIRST-LAST]|number|sip:uri> every <duration>"},
		{"call random 3000 every 1s", "s.txt:1: call random 3000: want a range of numbers FIRST-LAST"},
		{"call random 3999-3000 every 1s", "s.txt:1: call random 3999-3000: want a range"},
		{"call random a-b every 1s", "s.txt:1: call random a-b: want a range"},
		{"call random 1-2 each 1s", "s.txt:1: want: call <random [FIRST-LAST]|number|sip:uri> every <duration>"},
		{"call random every soon", `s.txt:1: "soon" is not a duration`},
		{"call random every -1s", `s.txt:1: "-1s" is not a duration`},
		{"call 1000 every 0s", "s.txt:1: call every 0s: at least 1ms"},
		{"answer later", "s.txt:1: want: answer after <duration> | answer never"},
		{"answer after x", `s.txt:1: "x" is not a duration`},
		{"dtmf 12a", `s.txt:1: dtmf: 'a' is not a digit`},
		{"dtmf", "s.txt:1: want: dtmf <digits>"},
		{"talk", "s.txt:1: want: talk <duration>"},
		{"hold 1s 2s", "s.txt:1: want: hold <duration>"},
		{"timeout 0s", "s.txt:1: timeout must be more than 0"},
		{"callers 50", "s.txt:1: want: callers <percent>%"},
		{"callers 150%", `s.txt:1: callers: "150%" is not a percentage`},
		{"talk 1s\n# c\ntalk 2s", `s.txt:3: "talk" again (first on line 1)`},
	} {
		_, err := ParseScenario(strings.NewReader(c.in), "s.txt")
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q…", c.in, err, c.want)
		}
	}
}

func TestIdentityAndShards(t *testing.T) {
	u, m, err := Identity(1000, "00:04:13:00:00:FF", 3)
	if err != nil || u != "1003" || m != "000413000102" {
		t.Fatalf("got %s %s %v", u, m, err)
	}
	if _, err := ParseMAC("0004130000"); err == nil {
		t.Fatal("short MAC accepted")
	}
	// shards cover every phone once
	seen := make([]int, 10)
	for i := range 3 {
		lo, hi := ShardRange(10, i, 3)
		for j := lo; j < hi; j++ {
			seen[j]++
		}
	}
	for j, n := range seen {
		if n != 1 {
			t.Fatalf("phone %d in %d shards", j, n)
		}
	}
}

// TestCallRandomRange: "call random FIRST-LAST" calls numbers of that
// range (another fleet's, through the registrar), never the caller's own,
// and needs a registrar.
func TestCallRandomRange(t *testing.T) {
	sc, err := ParseScenario(strings.NewReader("call random 5000-5003 every 1s\n"), "s.txt")
	if err != nil {
		t.Fatal(err)
	}
	if sc.Target != "random" || sc.RangeLo != 5000 || sc.RangeHi != 5003 || sc.Every != time.Second {
		t.Fatalf("parsed %+v", sc)
	}
	f := &Fleet{cfg: Config{Scenario: sc, Registrar: true}}
	seen := map[string]bool{}
	for range 400 {
		uri, user := f.target(&Phone{User: "5001"})
		n, err := strconv.Atoi(user)
		if err != nil || uri != user || n < 5000 || n > 5003 || user == "5001" {
			t.Fatalf("target %q %q", uri, user)
		}
		seen[user] = true
	}
	if len(seen) != 3 {
		t.Errorf("targets %v: want each of 5000, 5002, 5003", seen)
	}
	err = Run(context.Background(), Config{N: 1, Scenario: sc})
	if err == nil || !strings.Contains(err.Error(), "needs a registrar") {
		t.Errorf("without a registrar: %v", err)
	}
}
