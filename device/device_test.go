package device

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"phonesim/firmware"
	"phonesim/keypad"
	"phonesim/provisioning"
	"phonesim/sipua"
)

func startDevice(t *testing.T, settings map[string]string) (*Device, context.CancelFunc) {
	t.Helper()
	s := provisioning.New()
	_ = s.Set("user_name1", "100")
	for k, v := range settings {
		if err := s.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	d, err := New(Config{Settings: s, SIP: "127.0.0.1:0", Media: sipua.MediaSilence})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	require.NoError(t, d.Start(ctx))
	t.Cleanup(func() {
		cancel()
		select {
		case <-d.Done():
		case <-time.After(5 * time.Second):
			t.Error("the phone's loop did not stop")
		}
	})
	return d, cancel
}

func waitView(t *testing.T, d *Device, what string, ok func(firmware.View) bool) firmware.View {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if v := d.View(); ok(v) {
			return v
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; view: %+v", what, d.View())
	return firmware.View{}
}

// A receiver that never answers must not delay the phone: key presses
// that each fire an Action URL still take effect at once.
func TestHangingReceiverDoesNotDelayKeys(t *testing.T) {
	release := make(chan struct{})
	hits := make(chan string, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits <- r.URL.RawQuery
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	d, _ := startDevice(t, map[string]string{"action_dnd_on_url": srv.URL + "/dnd?u=$active_user",
		"action_dnd_off_url": srv.URL + "/dnd?off"})
	select {
	case <-hits:
		t.Fatal("a DND URL fired before any key")
	default:
	}
	start := time.Now()
	for i := 0; i < 21; i++ { // ends with DND on
		require.NoError(t, d.Post(firmware.KeyPressed{Key: keypad.DND}))
	}
	waitView(t, d, "DND on after 21 presses", func(v firmware.View) bool { return v.DND })
	assert.Less(t, time.Since(start), 2*time.Second, "21 key presses with a hanging receiver")
	select {
	case q := <-hits:
		assert.Equal(t, "u=100", q, "the first request's query")
	case <-time.After(5 * time.Second):
		t.Fatal("the receiver never got the first DND URL")
	}
}

func TestSetupURLAndViews(t *testing.T) {
	got := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.String()
	}))
	defer srv.Close()
	d, _ := startDevice(t, map[string]string{"action_setup_url": srv.URL + "/setup?mac=$mac&ip=$phone_ip"})
	select {
	case u := <-got:
		assert.Equal(t, "/setup?mac=000413000000&ip=127.0.0.1", u)
	case <-time.After(5 * time.Second):
		t.Fatal("action_setup_url never arrived")
	}
	if err := d.Post(firmware.KeyPressed{Key: "7"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case v := <-d.Views():
			if v.Digits == "7" {
				return
			}
		case <-deadline:
			t.Fatal("no View with the dialed digit")
		}
	}
}

// TestViewsFirstReaderGetsCurrent: a terminal that starts reading Views
// after the phone booted (nobody watched: the View was not built) gets
// the booted phone at once, not at its next change.
func TestViewsFirstReaderGetsCurrent(t *testing.T) {
	got := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.Path
	}))
	defer srv.Close()
	d, _ := startDevice(t, map[string]string{"action_setup_url": srv.URL + "/setup"})
	select {
	case <-got: // booted
	case <-time.After(5 * time.Second):
		t.Fatal("action_setup_url never arrived")
	}
	select {
	case v := <-d.Views():
		if len(v.Identities) == 0 || v.Identities[0].User != "100" || v.Now.IsZero() {
			t.Fatalf("first View is not the booted phone: %+v", v)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no View for the first reader")
	}
}

func TestPostAfterStop(t *testing.T) {
	d, cancel := startDevice(t, nil)
	cancel()
	<-d.Done()
	require.ErrorIs(t, d.Post(firmware.KeyPressed{Key: "1"}), ErrStopped)
}

func TestEventsNotices(t *testing.T) {
	d, _ := startDevice(t, nil)
	ch, cancel := d.Events()
	defer cancel()
	if err := d.Post(firmware.KeyPressed{Key: keypad.DND}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case n := <-ch:
			if n.Kind == "key_pressed" {
				return
			}
		case <-deadline:
			t.Fatal("no key_pressed notice")
		}
	}
}

// The call lists and DND survive a restart in the data folder, and a
// damaged file does not keep the phone from starting.
func TestMemoryKeptAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	start := func() (*Device, context.CancelFunc) {
		s := provisioning.New()
		_ = s.Set("user_name1", "100")
		d, err := New(Config{Settings: s, SIP: "127.0.0.1:0", Media: sipua.MediaSilence, Data: dir})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		require.NoError(t, d.Start(ctx))
		return d, cancel
	}

	d, stop := start()
	require.NoError(t, d.Post(firmware.KeyPressed{Key: keypad.DND}))
	require.NoError(t, d.Post(firmware.NumberDialed{Number: "sip:nobody@127.0.0.1:9"}))
	waitView(t, d, "DND on and a dialed call", func(v firmware.View) bool { return v.DND && len(v.Calls) == 1 })
	stop()
	<-d.Done()

	d, stop = start()
	v := waitView(t, d, "DND back after the restart", func(v firmware.View) bool { return v.DND })
	require.NoError(t, d.Post(firmware.KeyPressed{Key: keypad.F3})) // the dialed list
	v = waitView(t, d, "the dialed list", func(v firmware.View) bool { return v.Screen == firmware.ScreenDialed })
	require.Len(t, v.List, 1)
	assert.Equal(t, "sip:nobody@127.0.0.1:9", v.List[0].Remote.URI)
	stop()
	<-d.Done()

	// DND is a user setting, kept in settings.cfg: a damaged memory.json
	// loses the call lists only
	require.NoError(t, os.WriteFile(filepath.Join(dir, memoryFile), []byte("{not json"), 0o644))
	d, stop = start()
	assert.Eventually(t, func() bool {
		return strings.Contains(strings.Join(d.Log().Lines(), "\n"), "starting without the kept call lists")
	}, 5*time.Second, 10*time.Millisecond, "no log line about the damaged file")
	assert.True(t, d.View().DND, "DND is kept apart from the call lists")
	stop()
	<-d.Done()

	// a damaged settings.cfg is put aside, not overwritten
	require.NoError(t, os.WriteFile(filepath.Join(dir, userFile), []byte("dnd_mode on\n"), 0o644))
	d, stop = start()
	defer stop()
	assert.False(t, d.View().DND, "DND from a damaged file")
	aside, _ := filepath.Glob(filepath.Join(dir, userFile+".bad-*"))
	require.Len(t, aside, 1)
	kept, _ := os.ReadFile(aside[0])
	assert.Equal(t, "dnd_mode on\n", string(kept))
	assert.Contains(t, strings.Join(d.Log().Lines(), "\n"), "the user's settings could not be read")
}

// A key that changes a setting (DND sets dnd_mode) shows in Settings, as
// /settings.htm reads it.
func TestSettingsFollowKeys(t *testing.T) {
	d, _ := startDevice(t, nil)
	require.NoError(t, d.Post(firmware.KeyPressed{Key: keypad.DND}))
	assert.Eventually(t, func() bool { return d.Settings().Get("dnd_mode") == "on" },
		5*time.Second, 10*time.Millisecond, "dnd_mode after the DND key")
}
