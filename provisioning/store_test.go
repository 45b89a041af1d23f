package provisioning

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The faults of issue 5, each with the message a user gets.
func TestCheckValueMessages(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		sev         Severity
		msg         string
	}{
		{"user_nmae1", "200", Warning, "did you mean user_name1?"},
		{"action_incomming_url", "http://crm/x", Warning, "did you mean action_incoming_url?"},
		{"max_calls", "99", Error, "99 is out of range 1–12"},
		{"dnd_mode", "maybe", Error, `"maybe": want on or off`},
		{"fkey3", "banana", Error, `unknown function key type "banana"`},
		{"fkey4", "keyevent F_NOPE", Error, `unknown keyevent "F_NOPE"`},
		{"fkey5", "keyevent F_ADR_BOOK", Warning, "keyevent F_ADR_BOOK is not supported"},
		{"fkey6", "park 700", Warning, "function key type park is not supported"},
		{"action_incoming_url", "ftp://crm/x", Error, "only http:// and https://"},
		{"action_incoming_url", "javascript:alert(1)", Error, "only http:// and https://"},
		{"redirect_event", "sometimes", Error, "want one of none, all, busy, time"},
		{"auto_dial", "x", Error, "or off"},
		{"mac", "00041300", Error, "12 hex digits"},
		{"user_expiry3", "-5", Error, "out of range"},
		{"fkey90", "line", Warning, "unknown setting"},
		{"user_name13", "200", Warning, "unknown setting"},
		{"client_action_type1", "shell", Error, "want one of url, app"},
		{"client_action_calltype1", "internal,vip", Error, `"vip": want any of`},
		{"user_realname1", "a\nb", Error, "line break"},
		{"xyzzy", "1", Warning, "unknown setting, kept but not used"},
	} {
		fd, bad := CheckValue(tc.name, tc.value)
		if !assert.True(t, bad, "%s=%s accepted", tc.name, tc.value) {
			continue
		}
		assert.Equal(t, tc.sev, fd.Severity, "%s=%s", tc.name, tc.value)
		assert.Contains(t, fd.Message, tc.msg, "%s=%s", tc.name, tc.value)
	}
	for name, value := range map[string]string{
		"user_name1": "200", "max_calls": "12", "dnd_mode": "ON", "fkey3": "blf <sip:200@pbx>|*8",
		"fkey4": "keyevent F_DND", "fkey85": "url http://crm/$active_key", "auto_dial": "off",
		"action_incoming_url": "https://crm/in?nr=$remote&n=${display_remote}", "redirect_event": "busy",
		"client_action_calltype2": "internal, queue", "setting_server": "http://prov/{mac}.xml",
		"fkey7": "dtmf *21#", "action_missed_url": "",
	} {
		fd, bad := CheckValue(name, value)
		assert.False(t, bad, "%s=%s: %s", name, value, fd)
	}
}

func TestSuggest(t *testing.T) {
	for in, want := range map[string]string{
		"user_nmae1": "user_name1", "user_host12": "user_host12", "fkey_lable3": "fkey_label3",
		"dnd": "", "action_incomming_url": "action_incoming_url", "max_call": "max_calls",
		"redirect_evnt": "redirect_event", "zzzzzzzzzz": "",
	} {
		assert.Equal(t, want, Suggest(in), in)
	}
}

func file(name string, entries ...Entry) *File { return &File{Name: name, Entries: entries} }

// A source with one bad value is applied not at all; the settings in
// force stay.
func TestStoreAllOrNothing(t *testing.T) {
	st := NewStore()
	require.Empty(t, st.AddFile(file("a.cfg", Entry{Name: "max_calls", Value: "6"})))
	fs := st.AddFile(file("b.cfg", Entry{Name: "dnd_mode", Value: "on", Line: 1}, Entry{Name: "max_calls", Value: "99", Line: 2}))
	require.True(t, HasError(fs))
	assert.Equal(t, "b.cfg:2: error: max_calls: 99 is out of range 1–12", fs[0].String())
	s := st.Resolve()
	assert.Equal(t, "6", s.Get("max_calls"))
	assert.Equal(t, "off", s.Get("dnd_mode"))

	fs = st.SetServer([]*File{file("http://prov/a.xml", Entry{Name: "user_name1", Value: "300"}), file("http://prov/b.xml", Entry{Name: "fkey3", Value: "banana", Line: 7})})
	require.True(t, HasError(fs))
	assert.False(t, st.Resolve().IsSet("user_name1"), "nothing of the failed fetch applies")
	assert.True(t, HasError(st.SetCommandLine([]Entry{{Name: "dnd_mode", Value: "maybe"}})))
	assert.True(t, HasError(st.Change([]UserChange{{"dnd_mode", "on"}, {"max_calls", "0"}}, "web form")))
	assert.Equal(t, "off", st.Resolve().Get("dnd_mode"))
}

// perm across a re-provisioning, for all three classes, and the
// difference between " " and "".
func TestStorePerm(t *testing.T) {
	mustPerm := func(s string) Perm {
		p, err := ParsePerm(s)
		require.NoError(t, err)
		return p
	}
	prov := func(value string) []*File {
		return []*File{file("http://prov/p.xml",
			Entry{Name: "redirect_number", Value: value, Perm: mustPerm("!")},
			Entry{Name: "http_user", Value: value, Perm: mustPerm("&")},
			Entry{Name: "user_realname1", Value: value, Perm: mustPerm("$")},
			Entry{Name: "user_realname2", Value: value, Perm: mustPerm("RW")},
			Entry{Name: "user_realname3", Value: value, Perm: mustPerm("R")},
			Entry{Name: "user_realname4", Value: value, Perm: mustPerm(" ")},
			Entry{Name: "user_realname5", Value: value, Perm: mustPerm("")},
		)}
	}
	st := NewStore()
	require.Empty(t, st.SetServer(prov("p1")))

	for name, allowed := range map[string]bool{
		"redirect_number": true, "http_user": false, "user_realname1": true, "user_realname2": true,
		"user_realname3": false, "user_realname4": false, "user_realname5": true,
	} {
		fs := st.Change([]UserChange{{name, "mine"}}, "web form")
		if allowed {
			assert.Empty(t, fs, name)
		} else {
			require.Len(t, fs, 1, name)
			assert.Contains(t, fs[0].Message, `read-only (perm "&" from http://prov/p.xml)`, name)
		}
	}
	s := st.Resolve()
	assert.Equal(t, "mine", s.Get("redirect_number"))
	assert.Equal(t, FromUser, s.Meta("redirect_number").Source)
	assert.Equal(t, "p1", s.Get("http_user"))
	assert.Equal(t, "mine", s.Get("user_realname1"))
	assert.Equal(t, "p1", s.Get("user_realname4"))

	// the next provisioning keeps "!" changes and overwrites the others
	require.Empty(t, st.SetServer(prov("p2")))
	s = st.Resolve()
	assert.Equal(t, "mine", s.Get("redirect_number"), "! keeps the user's change")
	assert.Equal(t, "p2", s.Get("user_realname1"), "$ is overwritten")
	assert.Equal(t, "p2", s.Get("user_realname2"), "RW is overwritten")
	assert.Equal(t, "p2", s.Get("user_realname5"), `"" is overwritten`)
	assert.Equal(t, map[string]string{"redirect_number": "mine"}, st.User())
}

func TestStoreOrder(t *testing.T) {
	st := NewStore()
	st.RestoreUser(map[string]string{"dnd_mode": "on", "call_waiting": "off"}, "data")
	require.Empty(t, st.AddFile(file("a.cfg", Entry{Name: "max_calls", Value: "6"}, Entry{Name: "call_waiting", Value: "on"})))
	require.Empty(t, st.AddFile(file("b.cfg", Entry{Name: "max_calls", Value: "7"})))
	require.Empty(t, st.SetServer([]*File{file("srv", Entry{Name: "max_calls", Value: "8"}, Entry{Name: "ringing_time", Value: "30"})}))
	require.Empty(t, st.SetCommandLine([]Entry{{Name: "ringing_time", Value: "40"}, {Name: "max_calls", Value: "9", Perm: PermReadOnly}}))
	s := st.Resolve()
	assert.Equal(t, "9", s.Get("max_calls"), "--set over server")
	assert.Equal(t, "40", s.Get("ringing_time"), "--set over server")
	assert.Equal(t, "on", s.Get("dnd_mode"), "a kept user change")
	assert.Equal(t, "on", s.Get("call_waiting"), "a file overwrites a user change without !")

	// the user may change a --set value at run time, unless it is read-only
	require.Empty(t, st.Change([]UserChange{{"ringing_time", "50"}}, "web form"))
	assert.Equal(t, "50", st.Resolve().Get("ringing_time"))
	fs := st.Change([]UserChange{{"max_calls", "5"}}, "web form")
	require.Len(t, fs, 1)
	assert.Contains(t, fs[0].Message, `read-only (perm "&" from --set)`)
}

func TestPhoneBook(t *testing.T) {
	st := NewStore()
	f := file("book.xml")
	f.Contacts = []Contact{{Name: "Alice", Number: "200"}, {Name: "Bob", Number: "sip:300@pbx"}}
	require.Empty(t, st.AddFile(f))
	s := st.Resolve()
	assert.Equal(t, "Alice", s.NameFor("sip:200@10.0.0.1:5060"))
	assert.Equal(t, "Bob", s.NameFor("300"))
	assert.Equal(t, "", s.NameFor("sip:400@pbx"))
}

func TestKnownNamesCoverSchema(t *testing.T) {
	names := KnownNames()
	assert.Contains(t, names, "fkey85")
	assert.Contains(t, names, "user_pass12")
	assert.Contains(t, names, "client_action_target32")
	for _, n := range names {
		_, ok := Default(n)
		assert.True(t, ok, n)
		assert.Nil(t, Validate(n, mustDefault(n)), "default of %s is valid", n)
	}
	assert.False(t, Known("fkey086"))
	assert.False(t, strings.Contains(strings.Join(names, " "), "user_name0 "))
}

func mustDefault(n string) string { v, _ := Default(n); return v }
