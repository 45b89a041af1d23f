package provisioning

import (
	"errors"
	"fmt"
)

// Severity says whether a finding stops its source from applying.
type Severity uint8

const (
	// Warning: the source still applies (an unknown name is kept and
	// shown as unknown; an XML element phonesim does not read is skipped).
	Warning Severity = iota
	// Error: nothing from the source applies.
	Error
)

func (s Severity) String() string {
	if s == Error {
		return "error"
	}
	return "warning"
}

// Finding is one thing wrong with a setting source: which source, which
// line, which setting and why.
type Finding struct {
	Severity Severity
	Source   string // a file path, a URL, "--set", "web form", ...
	Line     int    // 0 when the source has no lines
	Name     string // the setting, "" when the finding is about the source
	Message  string
}

func (f Finding) String() string {
	where := f.Source
	if where == "" {
		where = "setting"
	}
	if f.Line > 0 {
		where = fmt.Sprintf("%s:%d", where, f.Line)
	}
	if f.Name != "" {
		return fmt.Sprintf("%s: %s: %s: %s", where, f.Severity, f.Name, f.Message)
	}
	return fmt.Sprintf("%s: %s: %s", where, f.Severity, f.Message)
}

// HasError reports whether any finding is an error.
func HasError(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == Error {
			return true
		}
	}
	return false
}

// Check validates the entries of a file against the schema: an unknown
// name is a warning that names the nearest known setting; a bad value is
// an error. The parser's own notes come first.
func Check(f *File) []Finding {
	out := append([]Finding(nil), f.Notes...)
	for _, e := range f.Entries {
		if fd, bad := CheckValue(e.Name, e.Value); bad {
			fd.Source, fd.Line = f.Name, e.Line
			out = append(out, fd)
		}
	}
	return out
}

// CheckValue checks one setting, and says what is wrong with it (the
// finding's Source and Line are left for the caller).
func CheckValue(name, value string) (Finding, bool) {
	if !Known(name) {
		msg := "unknown setting, kept but not used"
		if s := Suggest(name); s != "" {
			msg = "unknown setting (did you mean " + s + "?), kept but not used"
		}
		return Finding{Severity: Warning, Name: name, Message: msg}, true
	}
	err := Validate(name, value)
	if err == nil {
		return Finding{}, false
	}
	var u *Unsupported
	if errors.As(err, &u) {
		return Finding{Severity: Warning, Name: name, Message: err.Error()}, true
	}
	return Finding{Severity: Error, Name: name, Message: err.Error()}, true
}

// CheckKeys finds function keys a file sets beyond the keys a phone with
// modules expansion modules has: a file written for a phone with
// modules, loaded on one with fewer. Such keys are kept but nothing
// shows them.
func CheckKeys(f *File, modules int) []Finding {
	have := 32 + 18*modules
	var out []Finding
	for _, e := range f.Entries {
		spec, idx, ok := Lookup(e.Name)
		if !ok || spec.Family != PerKey || idx < have || e.Value == "" {
			continue
		}
		out = append(out, Finding{Severity: Warning, Source: f.Name, Line: e.Line, Name: e.Name,
			Message: fmt.Sprintf("P%d is on expansion module %d, which is not attached (expansion_modules=%d)", idx+1, (idx-32)/18+1, modules)})
	}
	return out
}
