//go:build interop

package interop

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// The provisioning developer's test: a realistic snom XML file served by
// a setting server at {mac}, chaining a second file, boots a phone whose
// two identities register at a real registrar, whose keys carry the
// file's labels, whose Action URLs fire, and which shows a caller from
// the phone book by name.
func TestPhoneProvisionedFromSettingServer(t *testing.T) {
	t.Parallel()
	k := StartKamailio(t)

	var mu sync.Mutex
	var hooks []string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hooks = append(hooks, r.URL.Path+"?"+r.URL.RawQuery)
		mu.Unlock()
	}))
	t.Cleanup(receiver.Close)
	hooked := func(prefix string) []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, h := range hooks {
			if strings.HasPrefix(h, prefix) {
				out = append(out, h)
			}
		}
		return out
	}

	const mac = "000413A1B2C3"
	main := fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<settings>
  <phone-settings e="2">
    <user_name idx="1" perm="">alice</user_name>
    <user_pass idx="1" perm="">alice-pw</user_pass>
    <user_host idx="1" perm="">%[1]s</user_host>
    <user_realname idx="1" perm="">Alice Front Desk</user_realname>
    <user_name idx="2" perm="">bob</user_name>
    <user_pass idx="2" perm="">bob-pw</user_pass>
    <user_host idx="2" perm="">%[1]s</user_host>
    <action_setup_url perm="R">%[2]s/setup?mac=$mac</action_setup_url>
    <action_registered_url perm="R">%[2]s/registered?user=$active_user</action_registered_url>
    <dnd_mode perm="!">off</dnd_mode>
    <language perm="">English</language>
  </phone-settings>
  <functionKeys e="2">
    <fkey idx="4" context="active" label="Bob" perm="">blf &lt;sip:bob@%[1]s&gt;</fkey>
    <fkey idx="5" context="active" label="Reception" perm="">dest sip:bob@%[1]s</fkey>
    <fkey idx="6" context="active" label="CRM" perm="">url %[2]s/key?k=$active_key</fkey>
    <fkey idx="7" context="active" label="Do not disturb" perm="">keyevent F_DND</fkey>
  </functionKeys>
  <tbook e="2">
    <item context="active" type="none" index="0"><name>Carol Customer</name><number>carol</number></item>
    <item context="active" type="none" index="1"><name>Dave</name><number>dave</number></item>
  </tbook>
  <setting-files>
    <file url="second.xml"/>
  </setting-files>
</settings>
`, k.Addr, receiver.URL)
	second := fmt.Sprintf(`<settings><phone-settings e="2">
  <action_incoming_url perm="">%s/incoming?from=$remote&amp;name=$display_remote</action_incoming_url>
</phone-settings></settings>
`, receiver.URL)

	var served sync.Map
	prov := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Store(r.URL.Path, true)
		switch r.URL.Path {
		case "/prov/" + mac + ".xml":
			fmt.Fprint(w, main)
		case "/prov/second.xml":
			fmt.Fprint(w, second)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(prov.Close)

	p := StartPhone(t, "--mac", mac, "-s", "setting_server="+prov.URL+"/prov/{mac}.xml")
	for _, path := range []string{"/prov/" + mac + ".xml", "/prov/second.xml"} {
		if _, ok := served.Load(path); !ok {
			t.Errorf("the setting server was not asked for %s", path)
		}
	}

	deadline := time.Now().Add(10 * time.Second)
	for {
		st := p.State()
		n := 0
		for _, id := range st.Identities {
			if id.Registered && id.Host == k.Addr {
				n++
			}
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("want alice and bob registered at %s; identities: %+v\nlog:\n%s", k.Addr, st.Identities, p.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := hooked("/setup?"); len(got) != 1 || got[0] != "/setup?mac="+mac {
		t.Errorf("action_setup_url requests = %v, want one with mac=%s", got, mac)
	}
	waitFor(t, "two registered Action URLs", func() bool { return len(hooked("/registered?")) == 2 })

	// the keys carry the file's labels, as the display draws them
	labels := map[string]string{}
	for _, l := range p.State().Raw["leds"].([]any) {
		led := l.(map[string]any)
		labels[led["key"].(string)] = led["label"].(string)
	}
	for key, want := range map[string]string{"P5": "Bob", "P6": "Reception", "P7": "CRM", "P8": "Do not disturb"} {
		if labels[key] != want {
			t.Errorf("%s label = %q, want %q", key, labels[key], want)
		}
	}
	p.Command("key=P7")
	waitFor(t, "the url key's request", func() bool { return len(hooked("/key?k=P7")) == 1 })

	// a caller in the phone book shows by the book's name
	caller := StartSipp(t, "uac.xml", k.Addr, "-s", "alice", "-key", "caller", "carol", "-key", "display", "C. Unknown", "-d", "300")
	c := p.WaitCall("ringing", 10*time.Second)
	if c.Name != "Carol Customer" {
		t.Errorf("ringing call name = %q, want the phone book's Carol Customer (display %q)", c.Name, c.Display)
	}
	waitFor(t, "action_incoming_url from the chained file", func() bool { return len(hooked("/incoming?")) == 1 })
	q, _ := url.ParseQuery(strings.TrimPrefix(hooked("/incoming?")[0], "/incoming?"))
	if q.Get("name") != "C. Unknown" || !strings.HasPrefix(q.Get("from"), "sip:carol@") {
		t.Errorf("action_incoming_url query = %v", q)
	}
	p.Command("key=ENTER")
	caller.Done(t)
	p.WaitNoCalls(5 * time.Second)

	// the unknown snom setting is kept, with a warning naming it
	if !strings.Contains(p.Log(), "language: unknown setting") {
		t.Errorf("no warning about the unknown setting language in the log:\n%s", p.Log())
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
