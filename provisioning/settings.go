// Package provisioning holds the phone's settings under their snom names,
// their defaults, and the parsers for setting files. It does no I/O of its
// own beyond reading what it is handed, so the firmware core can use it.
package provisioning

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxIdentities is the number of SIP identities (user_*1 ... user_*12).
const MaxIdentities = 12

// Source is where a setting's value came from, lowest first: a later
// source wins over an earlier one.
type Source uint8

const (
	FromDefault     Source = iota // the schema's default
	FromFile                      // a --config file
	FromServer                    // the setting server
	FromUser                      // a change on the phone: handset, web form, command.htm
	FromCommandLine               // --set and the flags that name settings
)

func (s Source) String() string {
	return [...]string{"default", "file", "server", "user", "command line"}[s]
}

// Meta is what the settings page shows about a value besides the value.
type Meta struct {
	Perm   Perm
	Source Source
	Origin string // the file or URL it came from, when it came from one
}

// Settings is the settings in force, by flat name ("user_name1",
// "fkey3", "dnd_mode"), with the perm and source of each, and the phone
// book. A name that was never set reads as its default. Unknown names
// are kept (and shown as unknown) but nothing reads them.
type Settings struct {
	values map[string]string
	meta   map[string]Meta
	book   []Contact
}

// New returns settings that hold only defaults.
func New() *Settings { return &Settings{values: map[string]string{}, meta: map[string]Meta{}} }

// Clone returns an independent copy.
func (s *Settings) Clone() *Settings {
	c := New()
	for k, v := range s.values {
		c.values[k] = v
	}
	for k, v := range s.meta {
		c.meta[k] = v
	}
	c.book = append([]Contact(nil), s.book...)
	return c
}

// Get returns the value of name, or its default when it was never set.
func (s *Settings) Get(name string) string {
	if v, ok := s.values[name]; ok {
		return v
	}
	v, _ := Default(name)
	return v
}

// IsSet reports whether name was set (as opposed to holding its default).
func (s *Settings) IsSet(name string) bool {
	_, ok := s.values[name]
	return ok
}

// Meta returns the perm and source of name's value.
func (s *Settings) Meta(name string) Meta { return s.meta[name] }

// Perm returns what the user may do with name.
func (s *Settings) Perm(name string) Perm { return s.meta[name].Perm }

// Int returns the value of name as a number, or def when it is not one.
func (s *Settings) Int(name string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(s.Get(name)))
	if err != nil {
		return def
	}
	return n
}

// On reports whether a boolean setting is on ("on", "true", "1", "yes").
func (s *Settings) On(name string) bool {
	switch strings.ToLower(strings.TrimSpace(s.Get(name))) {
	case "on", "true", "1", "yes", "enabled":
		return true
	}
	return false
}

// Set sets one setting, keeping its perm and source. The name must be a
// well-formed setting name; the value is kept as given (Validate checks
// it against the schema).
func (s *Settings) Set(name, value string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	s.values[name] = value
	return nil
}

// SetFrom sets one setting with where it came from.
func (s *Settings) SetFrom(name, value string, m Meta) error {
	if err := s.Set(name, value); err != nil {
		return err
	}
	s.meta[name] = m
	return nil
}

// Names returns every known setting and every name that has a value,
// sorted.
func (s *Settings) Names() []string {
	seen := map[string]bool{}
	for _, k := range KnownNames() {
		seen[k] = true
	}
	for k := range s.values {
		seen[k] = true
	}
	return sortedNames(seen)
}

// Changed lists the names whose values differ between s and o (a name
// set in one and holding its default in the other differs only when the
// values differ), sorted.
func (s *Settings) Changed(o *Settings) []string {
	seen := map[string]bool{}
	for k := range s.values {
		seen[k] = true
	}
	for k := range o.values {
		seen[k] = true
	}
	var out []string
	for _, k := range sortedNames(seen) {
		if s.Get(k) != o.Get(k) {
			out = append(out, k)
		}
	}
	return out
}

// Contacts returns the phone book.
func (s *Settings) Contacts() []Contact { return append([]Contact(nil), s.book...) }

// SetContacts replaces the phone book.
func (s *Settings) SetContacts(book []Contact) { s.book = append([]Contact(nil), book...) }

// NameFor returns the phone-book name of a number or SIP URI ("200",
// "sip:200@pbx", "sip:200@10.0.0.1:5060"), "" when the book has none.
func (s *Settings) NameFor(number string) string {
	user := userPart(number)
	if user == "" {
		return ""
	}
	for _, c := range s.book {
		if c.Number != "" && (c.Number == number || userPart(c.Number) == user) {
			return c.Name
		}
	}
	return ""
}

// userPart is the user of a SIP URI ("sip:200@pbx" → "200"), or the
// number itself.
func userPart(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	lower := strings.ToLower(s)
	if strings.HasPrefix(lower, "sip:") {
		s = s[4:]
	} else if strings.HasPrefix(lower, "sips:") {
		s = s[5:]
	}
	if at := strings.IndexByte(s, '@'); at >= 0 {
		s = s[:at]
	}
	if semi := strings.IndexAny(s, ";?"); semi >= 0 {
		s = s[:semi]
	}
	return s
}

// Default returns the default of a setting, and whether phonesim knows it.
func Default(name string) (string, bool) {
	spec, idx, ok := Lookup(name)
	if !ok {
		return "", false
	}
	if spec.Name == "fkey" && idx < 4 {
		return "line", true // one line key per default call appearance
	}
	if spec.Name == "fkey" {
		return "none", true
	}
	if name == "user_name1" {
		return "100", true // a phone with no settings is extension 100
	}
	return spec.Default, true
}

// IsSecret reports whether a setting holds a secret that must never be
// shown, logged or substituted into a URL. Unknown names that look like
// secrets count too, so a misspelt password is not shown either.
func IsSecret(name string) bool {
	if spec, _, ok := Lookup(name); ok {
		return spec.Secret
	}
	base, _ := splitIndex(name)
	return strings.HasSuffix(base, "_pass") || strings.HasSuffix(base, "_password") ||
		strings.Contains(base, "secret") || strings.Contains(base, "pass")
}

// CheckName reports whether name is a well-formed setting name.
func CheckName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("provisioning: bad setting name %q", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return fmt.Errorf("provisioning: bad setting name %q", name)
		}
	}
	return nil
}

// splitIndex splits "user_name12" into "user_name", 12. It returns -1 when
// the name has no numeric suffix.
func splitIndex(name string) (string, int) {
	i := len(name)
	for i > 0 && name[i-1] >= '0' && name[i-1] <= '9' {
		i--
	}
	if i == len(name) || len(name)-i > 3 {
		return name, -1
	}
	n, _ := strconv.Atoi(name[i:])
	return name[:i], n
}
