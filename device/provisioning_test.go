package device

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"phonesim/firmware"
	"phonesim/keypad"
	"phonesim/provisioning"
	"phonesim/sipua"
)

// settingServer serves body (a func, so a test can change it between
// fetches) at every path and counts the requests.
type settingServer struct {
	*httptest.Server
	body     atomic.Pointer[func(w http.ResponseWriter, r *http.Request)]
	requests atomic.Int32
}

func newSettingServer(t *testing.T) *settingServer {
	s := &settingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if f := s.body.Load(); f != nil {
			(*f)(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *settingServer) serve(f func(w http.ResponseWriter, r *http.Request)) { s.body.Store(&f) }

func (s *settingServer) serveText(text string) {
	s.serve(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, text) })
}

func logHas(d *Device, s string) bool {
	return strings.Contains(strings.Join(d.Log().Lines(), "\n"), s)
}

func waitLog(t *testing.T, d *Device, s string) {
	t.Helper()
	require.Eventually(t, func() bool { return logHas(d, s) }, 10*time.Second, 10*time.Millisecond,
		"no log line %q; log:\n%s", s, strings.Join(d.Log().Lines(), "\n"))
}

// A setting server that fails in any way leaves the settings in force,
// says why in the log, and the phone still places a call.
func TestBadSettingServerLeavesSettings(t *testing.T) {
	srv := newSettingServer(t)
	srv.serveText(`<settings><phone-settings><user_realname idx="1">Good</user_realname><max_calls>3</max_calls></phone-settings></settings>`)
	d, _ := startDevice(t, map[string]string{"setting_server": srv.URL + "/{mac}.xml"})
	require.Equal(t, "Good", d.Settings().Get("user_realname1"), "the boot fetch applies before the phone starts")
	require.Equal(t, "3", d.Settings().Get("max_calls"))
	callee, _ := startDevice(t, map[string]string{"user_name1": "200"})

	huge := func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("# padding\n", 1000))
		for i := 0; i < 100<<20/len(chunk); i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
	for _, tc := range []struct {
		name  string
		serve func(w http.ResponseWriter, r *http.Request)
		log   string
	}{
		{"bad value", text(`<settings><phone-settings><max_calls>99</max_calls></phone-settings></settings>`), "max_calls: 99 is out of range 1–12"},
		{"truncated", text(`<settings><phone-settings><max_calls>5</max_calls>`), "file ends inside"},
		{"web page", text("<html>\n<body>Welcome to nginx</body>\n</html>\n"), "a web page, not a setting file"},
		{"empty", text(""), "hold no settings"},
		{"wrong xml root", text(`<?xml version="1.0"?><config><max_calls>5</max_calls></config>`), "root element <config>"},
		{"invalid utf-8", text("max_calls: 5\nuser_realname1: \xff\xfe\n"), "not UTF-8"},
		{"xxe", text(`<?xml version="1.0"?><!DOCTYPE settings [<!ENTITY x SYSTEM "file:///etc/passwd">]><settings><phone-settings><user_realname idx="1">&x;</user_realname></phone-settings></settings>`), "entity"},
		{"billion laughs", text(`<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><settings><phone-settings><user_realname idx="1">&b;</user_realname></phone-settings></settings>`), "entity"},
		{"deep nesting", text(strings.Repeat("<settings>", 20000)), "nest"},
		{"100 MB", huge, "too large"},
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, "500"},
		{"redirect loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, r.URL.Path, http.StatusFound) }, "redirect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.serve(tc.serve)
			mark := len(d.Log().Lines())
			since := func() string { return strings.Join(d.Log().Lines()[mark:], "\n") }
			require.NoError(t, d.Post(firmware.KeyPressed{Key: keypad.Reprovision}))
			require.Eventually(t, func() bool { return strings.Contains(since(), "the settings in force stay") },
				15*time.Second, 10*time.Millisecond, "no refusal in the log:\n%s", since())
			assert.Contains(t, since(), tc.log)
			assert.Equal(t, "Good", d.Settings().Get("user_realname1"))
			assert.Equal(t, "3", d.Settings().Get("max_calls"))
		})
	}

	// after all that, the phone still calls
	ip, port := callee.SIPAddr()
	require.NoError(t, d.Post(firmware.NumberDialed{Number: fmt.Sprintf("sip:200@%s:%d", ip, port)}))
	waitView(t, callee, "the call ringing at the callee", func(v firmware.View) bool { return len(v.Calls) == 1 })
}

func text(s string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, s) }
}

// A server that never answers fails within the fetch timeout and blocks
// nothing: keys work while the fetch waits.
func TestHangingSettingServer(t *testing.T) {
	release := make(chan struct{})
	srv := newSettingServer(t)
	defer close(release)
	d, _ := startDevice(t, map[string]string{"setting_server": srv.URL + "/p.cfg"})
	srv.serve(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	require.NoError(t, d.Reprovision())
	require.NoError(t, d.Post(firmware.KeyPressed{Key: "5"}))
	waitView(t, d, "the key while the server hangs", func(v firmware.View) bool { return v.Digits == "5" })
	require.NoError(t, d.Reprovision())
	waitLog(t, d, "a fetch is already under way")
}

// provisioning_interval fetches again; what changed takes effect without
// a restart (a key label), and a provisioned change fires no Action URL.
func TestProvisioningAtRunTime(t *testing.T) {
	hooks := make(chan string, 8)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hooks <- r.URL.Path }))
	defer receiver.Close()

	srv := newSettingServer(t)
	srv.serveText("fkey5: dest 300\nfkey_label5: Before\naction_dnd_on_url: " + receiver.URL + "/dnd\n")
	s := provisioning.New()
	_ = s.Set("setting_server", srv.URL+"/")
	clock := &fakeClock{now: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	d, err := New(Config{Settings: s, SIP: "127.0.0.1:0", Media: sipua.MediaSilence, Clock: clock.Now})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); <-d.Done() }()
	require.NoError(t, d.Start(ctx))
	assert.EqualValues(t, 2, srv.requests.Load(), "boot: snomD785.xml, then snomD785-<MAC>.xml")
	assert.Equal(t, "Before", d.View().Keys[5].Label)

	srv.serveText("fkey5: dest 300\nfkey_label5: After\ndnd_mode: on\naction_dnd_on_url: " + receiver.URL + "/dnd\nprovisioning_interval: 1\n")
	require.NoError(t, d.Reprovision())
	waitView(t, d, "the new label", func(v firmware.View) bool { return v.Keys[5].Label == "After" && v.DND })

	before := srv.requests.Load()
	clock.Advance(61 * time.Second)
	require.NoError(t, d.Post(firmware.Tick{Now: clock.Now()})) // the idle phone's minute tick, without waiting a minute
	require.Eventually(t, func() bool { return srv.requests.Load() >= before+2 }, 5*time.Second, 10*time.Millisecond,
		"no fetch after provisioning_interval")
	select {
	case h := <-hooks:
		t.Errorf("provisioning DND on fired %s", h)
	case <-time.After(200 * time.Millisecond):
	}
}

type fakeClock struct {
	mu  atomic.Int64
	now time.Time
}

func (c *fakeClock) Now() time.Time { return c.now.Add(time.Duration(c.mu.Load())) }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Add(int64(d)) }
