// Package hwtest holds conformance suites for the hardware layer, in the
// style of periph's: each suite takes a device through the hw interfaces
// (a driver, a stand-in or a fake) and returns findings, telling a part
// that is absent from one that failed. `phonesim hwtest` runs them on
// whatever the phone has, scripted (--auto) or with a person at the
// handset pressing keys and confirming what they see and hear.
//
// A suite uses the interface it is given, and more where the device
// offers it: Verify() error to read the screen back, Written() int64 to
// count the bytes of a partial redraw, KeyCodes() to list a keypad's
// keys, Indexes() and Check(i, led) to read LEDs back.
package hwtest

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"phonesim/hw/board"
)

// Status is a finding's verdict.
type Status uint8

const (
	Pass   Status = iota
	Fail          // the part is there and does not work
	Absent        // the part is not fitted: not a failure
	Skip          // not checked (nobody to ask, or it does not apply)
)

var statusNames = [...]string{"pass", "fail", "absent", "skip"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "?"
}

// MarshalText writes the status as its name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a status name.
func (s *Status) UnmarshalText(b []byte) error {
	for i, n := range statusNames {
		if string(b) == n {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("hwtest: unknown status %q", b)
}

// Finding is one check's outcome.
type Finding struct {
	Part   string `json:"part"` // display, keys, leds, audio
	Check  string `json:"check"`
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Person answers the interactive checks: a yes/no question, a message to
// read. A nil Person means scripted checks only.
type Person interface {
	Ask(question string) (bool, error)
	Tell(message string)
}

// Opened turns the error of opening a part into its finding: absent for
// a part that is not fitted (board.IsAbsent), failed for one that is
// there and would not open. ok reports there was no error.
func Opened(part string, err error) (f Finding, ok bool) {
	if err == nil {
		return Finding{}, true
	}
	if board.IsAbsent(err) {
		return Finding{Part: part, Check: "device", Status: Absent, Detail: err.Error()}, false
	}
	return Finding{Part: part, Check: "open", Status: Fail, Detail: err.Error()}, false
}

// Report is a whole self-test.
type Report struct {
	Board    string    `json:"board"`
	Mode     string    `json:"mode"` // auto | interactive
	Findings []Finding `json:"findings"`
	Passed   int       `json:"passed"`
	Failed   int       `json:"failed"`
	Absent   int       `json:"absent"`
	Skipped  int       `json:"skipped"`
	OK       bool      `json:"ok"` // nothing failed
}

// Add appends findings and keeps the counts.
func (r *Report) Add(fs ...Finding) {
	for _, f := range fs {
		r.Findings = append(r.Findings, f)
		switch f.Status {
		case Pass:
			r.Passed++
		case Fail:
			r.Failed++
		case Absent:
			r.Absent++
		default:
			r.Skipped++
		}
	}
	r.OK = r.Failed == 0
}

// WriteText writes one line per finding and a summary line.
func (r *Report) WriteText(w io.Writer) error {
	for _, f := range r.Findings {
		line := fmt.Sprintf("%-8s %-7s %s", f.Part, f.Status, f.Check)
		if f.Detail != "" {
			line += ": " + f.Detail
		}
		if _, err := fmt.Fprintln(w, strings.TrimRight(line, " ")); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "hwtest %s (%s): %d passed, %d failed, %d absent, %d skipped\n",
		r.Board, r.Mode, r.Passed, r.Failed, r.Absent, r.Skipped)
	return err
}

// WriteJSON writes the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
