package provisioning

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxFileSize caps a setting file, flat or XML; a larger one is refused,
// not truncated.
const MaxFileSize = 1 << 20

// ErrTooLarge is returned for a setting file over MaxFileSize.
var ErrTooLarge = errors.New("provisioning: file too large")

// Perm is what the user may do with a setting, as a snom file's perm
// attribute or flat-form flag says.
type Perm uint8

const (
	// PermOverwrite: the user may change it; the next provisioning that
	// gives the setting overwrites the change. snom's "$", "RW" and ""
	// (and no flag at all).
	PermOverwrite Perm = iota
	// PermKeep: the user may change it, and provisioning keeps the
	// user's change. snom's "!".
	PermKeep
	// PermReadOnly: the user may not change it (handset, web form and
	// command.htm refuse). snom's "&", "R" and " " (a single space).
	PermReadOnly
)

// ParsePerm reads a perm attribute or flag. A single space and an empty
// string differ: " " is read-only, "" is the default.
func ParsePerm(s string) (Perm, error) {
	switch s {
	case "", "$", "RW", "rw":
		return PermOverwrite, nil
	case "!":
		return PermKeep, nil
	case "&", "R", "r", " ":
		return PermReadOnly, nil
	}
	return PermOverwrite, fmt.Errorf("unknown perm %q (want \"!\", \"&\", \"$\", \"R\", \"RW\", \" \" or \"\")", s)
}

func (p Perm) String() string {
	switch p {
	case PermKeep:
		return "!"
	case PermReadOnly:
		return "&"
	}
	return "$"
}

// Describe says what the perm means, for pages and messages.
func (p Perm) Describe() string {
	switch p {
	case PermKeep:
		return "user may change; provisioning keeps the change"
	case PermReadOnly:
		return "read-only"
	}
	return "user may change; provisioning overwrites"
}

// Entry is one setting as a file gives it.
type Entry struct {
	Name  string // flat name: "user_name1", "fkey3", "fkey_label3"
	Value string
	Perm  Perm
	Line  int // 1-based line in the file it came from; 0 when unknown
}

// Contact is one phone-book entry (snom's <tbook><item>).
type Contact struct {
	Name   string
	Number string
	Line   int
}

// Include is a further setting file a file names (snom's
// <setting-files><file url="..."/>), fetched after it.
type Include struct {
	URL  string
	Line int
}

// File is a parsed setting file, not yet validated against the schema
// (Check does that).
type File struct {
	Name     string // where it came from: a path or a URL
	Entries  []Entry
	Contacts []Contact
	Includes []Include
	// Notes are the parser's own warnings: an XML element it skips, a
	// flat line it ignores. They never stop the file from applying.
	Notes []Finding
}

// SettingError is a problem in a setting file that stops it from being
// read at all, with where it stands.
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

// ReadFile reads a whole setting file, refusing one over MaxFileSize.
func ReadFile(r io.Reader, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, &SettingError{File: name, Err: err}
	}
	if len(data) > MaxFileSize {
		return nil, &SettingError{File: name, Err: fmt.Errorf("%w (over %d bytes)", ErrTooLarge, MaxFileSize)}
	}
	return data, nil
}

// Parse reads a setting file in either form: snom XML when it starts
// (after a byte-order mark and white space) with an XML declaration or
// one of snom's root elements, else the flat "name: value" form.
func Parse(data []byte, name string) (*File, error) {
	if IsXML(data) {
		return ParseXML(data, name)
	}
	return parseFlat(data, name)
}

// IsXML reports whether data looks like a snom XML setting file rather
// than the flat form (whose "<html><pre>" wrapper also starts with '<').
func IsXML(data []byte) bool {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	data = bytes.TrimLeft(data, " \t\r\n")
	for _, p := range []string{"<?xml", "<settings", "<phone-settings", "<functionKeys", "<function-keys", "<tbook", "<setting-files", "<!DOCTYPE", "<!doctype"} {
		if bytes.HasPrefix(data, []byte(p)) {
			return true
		}
	}
	return false
}

// nameOf turns an XML element name and idx attribute into a flat name:
// <user_name idx="1"> is user_name1.
func nameOf(tag, idx string) string { return strings.TrimSpace(tag) + strings.TrimSpace(idx) }
