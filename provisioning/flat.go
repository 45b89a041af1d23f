package provisioning

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxFileSize caps a setting file; a larger one is refused, not truncated.
const MaxFileSize = 1 << 20

// Perm is a setting's permission flag, as snom files give it.
type Perm string

const (
	PermDefault  Perm = ""  // user may change it; the next provisioning overwrites
	PermUser     Perm = "!" // user may change it and provisioning keeps the change
	PermReadOnly Perm = "&" // the user may not change it
)

// SettingError is a problem in a setting file, with where it stands.
type SettingError struct {
	File string
	Line int
	Name string
	Err  error
}

func (e *SettingError) Error() string {
	where := e.File
	if where == "" {
		where = "setting"
	}
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", where, e.Line)
	}
	if e.Name != "" {
		return fmt.Sprintf("%s: %s: %v", where, e.Name, e.Err)
	}
	return fmt.Sprintf("%s: %v", where, e.Err)
}

func (e *SettingError) Unwrap() error { return e.Err }

// ErrTooLarge is returned for a setting file over MaxFileSize.
var ErrTooLarge = errors.New("provisioning: file too large")

// File is the result of parsing a setting file: values and their perms.
type File struct {
	Values *Settings
	Perms  map[string]Perm
}

// ParseFlat parses snom's flat form: one "name: value" per line, "#"
// comments, "name!" for user-writable, "name&" for read-only. file names
// the source in errors.
func ParseFlat(r io.Reader, file string) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, &SettingError{File: file, Err: err}
	}
	if len(data) > MaxFileSize {
		return nil, &SettingError{File: file, Err: ErrTooLarge}
	}
	f := &File{Values: New(), Perms: map[string]Perm{}}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 64*1024), MaxFileSize)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		colon := strings.IndexByte(text, ':')
		if colon < 0 {
			return nil, &SettingError{File: file, Line: line, Err: errors.New(`expected "name: value"`)}
		}
		name := strings.TrimSpace(text[:colon])
		value := strings.TrimSpace(text[colon+1:])
		perm := PermDefault
		switch {
		case strings.HasSuffix(name, "!"):
			perm, name = PermUser, strings.TrimSuffix(name, "!")
		case strings.HasSuffix(name, "&"):
			perm, name = PermReadOnly, strings.TrimSuffix(name, "&")
		}
		if err := f.Values.Set(name, value); err != nil {
			return nil, &SettingError{File: file, Line: line, Name: name, Err: errors.New("bad setting name")}
		}
		f.Perms[name] = perm
	}
	if err := sc.Err(); err != nil {
		return nil, &SettingError{File: file, Line: line + 1, Err: err}
	}
	return f, nil
}

// ParseAssignment parses one "name=value" as --set takes it.
func ParseAssignment(s string) (name, value string, err error) {
	eq := strings.IndexByte(s, '=')
	if eq <= 0 {
		return "", "", fmt.Errorf("provisioning: %q is not NAME=VALUE", s)
	}
	name, value = strings.TrimSpace(s[:eq]), s[eq+1:]
	if err := CheckName(name); err != nil {
		return "", "", err
	}
	return name, value, nil
}
