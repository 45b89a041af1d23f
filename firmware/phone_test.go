package firmware

import (
	"testing"

	"phonesim/provisioning"
)

func TestTargetURI(t *testing.T) {
	s := provisioning.New()
	_ = s.Set("user_name1", "100")
	_ = s.Set("user_name2", "alice")
	_ = s.Set("user_host2", "pbx.example.com")
	p := New(s)
	p.Step(NetworkUp{IP: "192.0.2.10", Port: 5062})
	for _, tc := range []struct {
		number   string
		identity int
		want     string
	}{
		{"sip:bob@127.0.0.1:5070", 1, "sip:bob@127.0.0.1:5070"},
		{"SIPS:bob@host", 1, "SIPS:bob@host"},
		{"bob@host", 1, "sip:bob@host"},
		{"127*0*0*1", 1, "sip:127.0.0.1"},
		{"127*0*0*1*5062", 1, "sip:127.0.0.1:5062"},
		{"127*0*0*1*99999", 1, "sip:127*0*0*1*99999@192.0.2.10"}, // not a port: a number
		{"300*0*0*1", 1, "sip:300*0*0*1@192.0.2.10"},
		{"200", 1, "sip:200@192.0.2.10"},
		{"200", 2, "sip:200@pbx.example.com"},
		{" 201 ", 2, "sip:201@pbx.example.com"},
	} {
		if got := p.targetURI(tc.number, tc.identity); got != tc.want {
			t.Errorf("targetURI(%q, %d) = %q, want %q", tc.number, tc.identity, got, tc.want)
		}
	}
}

func TestParseFkey(t *testing.T) {
	for _, tc := range []struct {
		value, label    string
		kind, arg, show string
	}{
		{"line", "", "line", "", "Line"},
		{"dest sip:200@pbx", "", "dest", "sip:200@pbx", "200"},
		{"dest <sip:200@pbx>", "Boss", "dest", "<sip:200@pbx>", "Boss"},
		{"speed 0301234", "", "speed", "0301234", "0301234"},
		{"url http://crm/x?k=$active_key", "", "url", "http://crm/x?k=$active_key", "URL"},
		{"keyevent F_DND", "", "keyevent", "F_DND", "DND"},
		{"KEYEVENT F_MUTE", "", "keyevent", "F_MUTE", "Mute"},
		{"dtmf *1#", "", "dtmf", "*1#", "DTMF *1#"},
		{"", "", "none", "", ""},
		{"bogus value", "", "none", "value", ""},
	} {
		k := parseFkey(tc.value, tc.label)
		if k.kind != tc.kind || k.arg != tc.arg || k.label != tc.show {
			t.Errorf("parseFkey(%q, %q) = %s %q %q; want %s %q %q", tc.value, tc.label, k.kind, k.arg, k.label, tc.kind, tc.arg, tc.show)
		}
	}
}

// The local identity's address follows the SIP port the adapter reports.
func TestIdentityAddress(t *testing.T) {
	s := provisioning.New()
	_ = s.Set("user_name1", "100")
	p := New(s)
	p.Step(NetworkUp{IP: "127.0.0.1", Port: 5062})
	v := p.View()
	if len(v.Identities) != 1 || v.Identity.Address != "100@127.0.0.1:5062" || !v.Identity.Registered {
		t.Fatalf("identity = %+v", v.Identity)
	}
}

// Every keyevent the schema accepts as supported is one the core acts on.
func TestKeyEventsMatchSchema(t *testing.T) {
	for _, name := range provisioning.SupportedKeyEvents() {
		if _, ok := keyEvents[name]; !ok && !ownKeyEvents[name] { // ownKeyEvents: blf.go
			t.Errorf("schema accepts keyevent %s, the core does not act on it", name)
		}
	}
	for name := range keyEvents {
		if err := provisioning.CheckFkey("keyevent " + name); err != nil {
			t.Errorf("core acts on %s, schema says %v", name, err)
		}
	}
}
