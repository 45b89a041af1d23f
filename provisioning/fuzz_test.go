package provisioning

import (
	"strings"
	"testing"
)

// FuzzCheckValue: the validators never panic, an accepted value is one
// the flat form can keep (no line break), and a name the schema knows is
// never reported unknown.
func FuzzCheckValue(f *testing.F) {
	for _, seed := range [][2]string{
		{"max_calls", "99"}, {"dnd_mode", "maybe"}, {"fkey3", "banana"}, {"fkey4", "keyevent F_NOPE"},
		{"action_incoming_url", "http://crm/in?nr=$remote&x=${display_remote}"}, {"fkey5", "url javascript:x"},
		{"user_nmae1", "200"}, {"auto_dial", "off"}, {"client_action_calltype1", "internal,queue"},
		{"mac", "000413A1B2C3"}, {"redirect_number", "sip:200@pbx"}, {"fkey85", "dtmf *21#"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		fd, bad := CheckValue(name, value)
		if !bad && strings.ContainsAny(value, "\r\n\x00") {
			t.Fatalf("%s=%q accepted with a line break", name, value)
		}
		if bad && Known(name) && strings.HasPrefix(fd.Message, "unknown setting") {
			t.Fatalf("known %s reported unknown", name)
		}
		_ = Suggest(name)
	})
}

// FuzzStoreChange: a user change either applies whole or leaves the
// settings as they were.
func FuzzStoreChange(f *testing.F) {
	f.Add("dnd_mode", "on", "max_calls", "5")
	f.Add("dnd_mode", "on", "max_calls", "99")
	f.Add("http_user", "x", "fkey3", "line")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string) {
		st := NewStore()
		st.SetServer([]*File{{Name: "s", Entries: []Entry{{Name: "http_user", Value: "admin", Perm: PermReadOnly}}}})
		before := st.Resolve()
		fs := st.Change([]UserChange{{n1, v1}, {n2, v2}}, "fuzz")
		after := st.Resolve()
		if HasError(fs) {
			if changed := before.Changed(after); len(changed) > 0 {
				t.Fatalf("a refused change changed %v", changed)
			}
			return
		}
		if after.Get("http_user") != "admin" {
			t.Fatalf("a read-only setting changed")
		}
	})
}
