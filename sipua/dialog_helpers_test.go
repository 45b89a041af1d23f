package sipua

import (
	"context"
	"testing"

	"phonesim/firmware"
)

// dialogPhone is startPhone with a Config the test adjusts (short
// transaction timeouts, ...).
func dialogPhone(t *testing.T, name string, mode MediaMode, adjust func(*Config)) *phone {
	t.Helper()
	log := &testLog{t: t, name: name}
	events := make(chan firmware.Event, 64)
	cfg := Config{Listen: "127.0.0.1:0", UserAgent: "phonesim/test", Media: mode, Logf: log.logf}
	if adjust != nil {
		adjust(&cfg)
	}
	u, err := New(cfg, events)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := &phone{t: t, ua: u, events: events}
	t.Cleanup(func() {
		u.Close()
		log.mu.Lock()
		log.done = true
		log.mu.Unlock()
	})
	p.port = expect[firmware.NetworkUp](p).Port
	return p
}
