package provisioning

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// ParseFlat parses snom's flat form from r. See parseFlat.
func ParseFlat(r io.Reader, name string) (*File, error) {
	data, err := ReadFile(r, name)
	if err != nil {
		return nil, err
	}
	return parseFlat(data, name)
}

// parseFlat parses snom's flat form: one "name: value" per line. A line
// whose first non-blank character is '#' is a comment; a '#' anywhere
// else is part of the value (snom has no inline comments: "http_pass:
// a#b" sets the password "a#b"). Lines starting with '<' are skipped, so
// the "<html><pre>" wrapper snom's own exports carry is harmless. A flag
// directly after the name sets the perm: "name!" the user may change it
// and provisioning keeps the change, "name&" read-only, "name$" the user
// may change it until the next provisioning. The file is UTF-8; a
// byte-order mark is skipped.
func parseFlat(data []byte, name string) (*File, error) {
	if len(data) > MaxFileSize {
		return nil, &SettingError{File: name, Err: ErrTooLarge}
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	f := &File{Name: name}
	line, markup := 0, 0
	for len(data) > 0 {
		line++
		var text []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			text, data = data[:i], data[i+1:]
		} else {
			text, data = data, nil
		}
		if !utf8.Valid(text) {
			return nil, &SettingError{File: name, Line: line, Err: errors.New("not UTF-8 (save the file as UTF-8)")}
		}
		s := strings.TrimSpace(string(text))
		if s == "" || s[0] == '#' {
			continue
		}
		if s[0] == '<' {
			markup++
			continue
		}
		colon := strings.IndexByte(s, ':')
		if colon < 0 {
			return nil, &SettingError{File: name, Line: line, Err: fmt.Errorf(`expected "name: value", got %s`, quoteShort(s))}
		}
		key := strings.TrimSpace(s[:colon])
		value := strings.TrimSpace(s[colon+1:])
		perm := PermOverwrite
		if n := len(key); n > 0 {
			switch key[n-1] {
			case '!':
				perm, key = PermKeep, key[:n-1]
			case '&':
				perm, key = PermReadOnly, key[:n-1]
			case '$':
				perm, key = PermOverwrite, key[:n-1]
			}
		}
		if err := CheckName(key); err != nil {
			return nil, &SettingError{File: name, Line: line, Name: quoteShort(key), Err: errors.New("bad setting name (letters, digits, '_', '-' and '.', then an optional flag !, & or $)")}
		}
		if strings.Contains(value, " #") {
			f.Notes = append(f.Notes, Finding{Severity: Warning, Source: name, Line: line, Name: key,
				Message: `the value holds " #": the flat form has no inline comments, so it is part of the value`})
		}
		f.Entries = append(f.Entries, Entry{Name: key, Value: value, Perm: perm, Line: line})
	}
	if len(f.Entries) == 0 && markup > 0 {
		// snom's wrapper around nothing, or a web server's error page
		return nil, &SettingError{File: name, Err: errors.New("markup and no settings: a web page, not a setting file")}
	}
	return f, nil
}

// ParseAssignment parses one "name=value" as --set takes it. A flag may
// end the name as in the flat form: "name&=value" is read-only for the
// user, "name!=value" keeps the user's change.
func ParseAssignment(s string) (Entry, error) {
	eq := strings.IndexByte(s, '=')
	if eq <= 0 {
		return Entry{}, fmt.Errorf("provisioning: %s is not NAME=VALUE", quoteShort(s))
	}
	e := Entry{Name: strings.TrimSpace(s[:eq]), Value: s[eq+1:]}
	if n := len(e.Name); n > 0 {
		switch e.Name[n-1] {
		case '!':
			e.Perm, e.Name = PermKeep, e.Name[:n-1]
		case '&':
			e.Perm, e.Name = PermReadOnly, e.Name[:n-1]
		case '$':
			e.Name = e.Name[:n-1]
		}
	}
	if err := CheckName(e.Name); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// quoteShort quotes user text for a message, cut to a readable length.
func quoteShort(s string) string {
	if len(s) > 60 {
		cut := 60
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q…(%d bytes)", s[:cut], len(s))
	}
	return fmt.Sprintf("%q", s)
}
