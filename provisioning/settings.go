// Package provisioning holds the phone's settings under their snom names,
// their defaults, and the parsers for setting files. It does no I/O of its
// own beyond reading what it is handed, so the firmware core can use it.
package provisioning

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// MaxIdentities is the number of SIP identities (user_*1 ... user_*12).
const MaxIdentities = 12

// Settings is a set of snom settings by flat name ("user_name1", "fkey3",
// "dnd_mode"). A name that was never set reads as its default.
type Settings struct {
	values map[string]string
}

// defaults are snom's where snom has the setting; names phonesim adds are
// marked in docs/settings.md.
var defaults = map[string]string{
	"phone_type":                 "snomD785",
	"mac":                        "000413000000",
	"dnd_mode":                   "off",
	"redirect_event":             "none",
	"redirect_number":            "",
	"redirect_busy_number":       "",
	"redirect_time_number":       "",
	"redirect_time":              "20",
	"auto_dial":                  "off",
	"ringing_time":               "180",
	"call_waiting":               "on",
	"max_calls":                  "4",
	"expansion_modules":          "0",
	"http_user":                  "",
	"http_pass":                  "",
	"action_setup_url":           "",
	"action_incoming_url":        "",
	"action_outgoing_url":        "",
	"action_offhook_url":         "",
	"action_onhook_url":          "",
	"action_connected_url":       "",
	"action_disconnected_url":    "",
	"action_missed_url":          "",
	"action_dnd_on_url":          "",
	"action_dnd_off_url":         "",
	"action_redirection_on_url":  "",
	"action_redirection_off_url": "",
	"action_reg_failed":          "",
	"action_registered_url":      "",
	"action_log_on_url":          "",
	"action_log_off_url":         "",
	"action_hold":                "",
	"action_unhold":              "",
	"action_transfer":            "",
	"action_blind_transfer":      "",
	"action_attended_transfer":   "",
	"action_longpress_url":       "",
}

// indexedDefaults are settings that exist once per identity (suffix 1-12)
// or once per function key (suffix 0-85).
var identityDefaults = map[string]string{
	"user_name":     "",
	"user_realname": "",
	"user_host":     "",
	"user_pass":     "",
	"user_pname":    "",
	"user_active":   "on",
	"user_expiry":   "3600",
}

// New returns settings that hold only defaults.
func New() *Settings { return &Settings{values: map[string]string{}} }

// Clone returns an independent copy.
func (s *Settings) Clone() *Settings {
	c := New()
	for k, v := range s.values {
		c.values[k] = v
	}
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

// Set sets one setting. The name must be a plain setting name; values
// are kept as given.
func (s *Settings) Set(name, value string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	s.values[name] = value
	return nil
}

// Merge sets every value of o over s.
func (s *Settings) Merge(o *Settings) {
	for k, v := range o.values {
		s.values[k] = v
	}
}

// Names returns every name that has a value or a default, sorted.
func (s *Settings) Names() []string {
	seen := map[string]bool{}
	for k := range defaults {
		seen[k] = true
	}
	for k := range s.values {
		seen[k] = true
	}
	names := make([]string, 0, len(seen))
	for k := range seen {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Default returns the default of a setting, and whether phonesim knows it.
func Default(name string) (string, bool) {
	if v, ok := defaults[name]; ok {
		return v, true
	}
	base, idx := splitIndex(name)
	if idx < 0 {
		return "", false
	}
	if v, ok := identityDefaults[base]; ok && idx >= 1 && idx <= MaxIdentities {
		return v, true
	}
	switch base {
	case "fkey":
		if idx < 4 { // one line key per default call appearance
			return "line", true
		}
		return "none", true
	case "fkey_label":
		return "", true
	}
	return "", false
}

// IsSecret reports whether a setting holds a secret that must never be
// shown, logged or substituted into a URL.
func IsSecret(name string) bool {
	base, _ := splitIndex(name)
	return strings.HasSuffix(base, "_pass") || strings.HasSuffix(base, "_password") ||
		base == "http_pass" || strings.Contains(base, "secret")
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
