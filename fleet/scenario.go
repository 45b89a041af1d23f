package fleet

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Scenario is what the phones of a fleet do (docs/fleet.md). It is
// line-based; '#' starts a comment:
//
//	callers 50%              the first 50% of the phones place calls (default 100%)
//	call random every 2s     each caller places a call every 2s (random: a callee; or a number / sip: URI)
//	answer after 500ms       callees answer after 500ms (or: answer never)
//	dtmf 123#                once connected, the caller sends these digits
//	hold 1s                  then holds the call 1s and resumes it
//	talk 3s                  then talks 3s and hangs up
//	timeout 30s              a call not answered by then is given up (default 30s)
type Scenario struct {
	Callers int    // percent of the phones that call, 0-100
	Target  string // "random", a number, or a sip: URI; "" = nobody calls
	// RangeLo..RangeHi (RangeHi > 0): "random" picks a number of this
	// range, phones of any fleet registered at the same PBX.
	RangeLo, RangeHi int
	Every            time.Duration // one call per caller per Every
	AnswerAfter      time.Duration // delay before a callee answers
	AnswerNever      bool
	DTMF             string
	Hold             time.Duration
	Talk             time.Duration
	Timeout          time.Duration
}

// DefaultScenario is an idle fleet: nobody calls, callees answer at once.
func DefaultScenario() *Scenario {
	return &Scenario{Callers: 100, Timeout: 30 * time.Second}
}

// ParseError is a scenario line that cannot be read.
type ParseError struct {
	Name string
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, e.Msg) }

const maxScenarioLines = 10000

// ParseScenario reads a scenario; name is used in errors ("file:line: ...").
func ParseScenario(r io.Reader, name string) (*Scenario, error) {
	s := DefaultScenario()
	seen := map[string]int{}
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	n := 0
	for sc.Scan() {
		n++
		if n > maxScenarioLines {
			return nil, &ParseError{name, n, "too many lines"}
		}
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			// '#' is a comment unless it is part of the dtmf digits
			if f := strings.Fields(line); len(f) == 0 || f[0] != "dtmf" {
				line = line[:i]
			}
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		fail := func(format string, a ...any) error { return &ParseError{name, n, fmt.Sprintf(format, a...)} }
		if prev, ok := seen[f[0]]; ok {
			return nil, fail("%q again (first on line %d)", f[0], prev)
		}
		dur := func(s string) (time.Duration, error) {
			d, err := time.ParseDuration(s)
			if err != nil || d < 0 {
				return 0, fail("%q is not a duration (like 500ms, 2s, 1m)", s)
			}
			return d, nil
		}
		var err error
		switch f[0] {
		case "callers":
			if len(f) != 2 || !strings.HasSuffix(f[1], "%") {
				return nil, fail("want: callers <percent>%%")
			}
			p, perr := strconv.Atoi(strings.TrimSuffix(f[1], "%"))
			if perr != nil || p < 0 || p > 100 {
				return nil, fail("callers: %q is not a percentage 0-100%%", f[1])
			}
			s.Callers = p
		case "call":
			if len(f) == 5 && f[1] == "random" && f[3] == "every" {
				// call random FIRST-LAST every D
				lo, hi, ok := strings.Cut(f[2], "-")
				a, aerr := strconv.Atoi(lo)
				b, berr := strconv.Atoi(hi)
				if !ok || aerr != nil || berr != nil || a < 0 || b <= a || b-a > 10_000_000 {
					return nil, fail("call random %s: want a range of numbers FIRST-LAST, FIRST < LAST", f[2])
				}
				s.RangeLo, s.RangeHi = a, b
				f = []string{f[0], f[1], f[3], f[4]}
			}
			if len(f) != 4 || f[2] != "every" {
				return nil, fail("want: call <random [FIRST-LAST]|number|sip:uri> every <duration>")
			}
			s.Target = f[1]
			if s.Every, err = dur(f[3]); err != nil {
				return nil, err
			}
			if s.Every < time.Millisecond {
				return nil, fail("call every %s: at least 1ms", f[3])
			}
		case "answer":
			switch {
			case len(f) == 2 && f[1] == "never":
				s.AnswerNever = true
			case len(f) == 3 && f[1] == "after":
				if s.AnswerAfter, err = dur(f[2]); err != nil {
					return nil, err
				}
			default:
				return nil, fail("want: answer after <duration> | answer never")
			}
		case "dtmf":
			if len(f) != 2 {
				return nil, fail("want: dtmf <digits>")
			}
			for _, c := range f[1] {
				if !strings.ContainsRune("0123456789*#", c) {
					return nil, fail("dtmf: %q is not a digit (0-9 * #)", c)
				}
			}
			s.DTMF = f[1]
		case "hold", "talk", "timeout":
			if len(f) != 2 {
				return nil, fail("want: %s <duration>", f[0])
			}
			d, err := dur(f[1])
			if err != nil {
				return nil, err
			}
			switch f[0] {
			case "hold":
				s.Hold = d
			case "talk":
				s.Talk = d
			case "timeout":
				if d == 0 {
					return nil, fail("timeout must be more than 0")
				}
				s.Timeout = d
			}
		default:
			return nil, fail("unknown statement %q (callers, call, answer, dtmf, hold, talk, timeout)", f[0])
		}
		seen[f[0]] = n
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{name, n + 1, err.Error()}
	}
	return s, nil
}
