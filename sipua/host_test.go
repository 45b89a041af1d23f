package sipua

import (
	"context"
	"testing"

	"phonesim/firmware"
)

// hostedPhone starts a UA on h with one identity, user.
func hostedPhone(t *testing.T, h *Host, name, user string) *phone {
	t.Helper()
	log := &testLog{t: t, name: name}
	events := make(chan firmware.Event, 64)
	u, err := New(Config{Host: h, UserAgent: "phonesim/test", Logf: log.logf, Media: MediaSilence}, events)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	p := &phone{t: t, ua: u, events: events}
	p.port = expect[firmware.NetworkUp](p).Port
	u.SetUsers([]string{user})
	return p
}

// TestHostSharesOnePort: two UAs on one Host call each other over its
// one port; a user no UA has gets 404; a closed UA's user is gone while
// the port and the other UA go on.
func TestHostSharesOnePort(t *testing.T) {
	h, err := NewHost(Config{Listen: "127.0.0.1:0", UserAgent: "phonesim/test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	_, port := h.Addr()
	a := hostedPhone(t, h, "A", "alice")
	b := hostedPhone(t, h, "B", "bob")
	if a.port != port || b.port != port {
		t.Fatalf("ports: host %d, A %d, B %d", port, a.port, b.port)
	}
	if n := h.Users(); n != 2 {
		t.Fatalf("host routes %d users, want 2", n)
	}

	off := placeCall(t, a, b, "c1", "Alice")
	b.ua.Do(firmware.Ring{Call: off.Call})
	expectOnly[firmware.CallProgressed](a)
	b.ua.Do(firmware.Answer{Call: off.Call})
	expectOnly[firmware.CallAnswered](a)
	eventually(t, "RTP both ways", func() bool {
		sa, sb := a.ua.Stats("c1"), b.ua.Stats(off.Call)
		return sa.PacketsReceived > 3 && sb.PacketsReceived > 3
	})
	b.ua.Do(firmware.Hangup{Call: off.Call}) // the BYE goes to alice, on the same port
	if got := expectOnly[firmware.CallEnded](a); got.Call != "c1" {
		t.Fatalf("CallEnded = %+v", got)
	}

	// nobody by that name
	a.ua.Do(firmware.Dial{Call: "c2", Target: a.uri("carol"), From: firmware.Party{URI: a.uri("alice")}, Identity: 1})
	expectOnly[firmware.CallSent](a)
	if f := expect[firmware.CallFailed](a); f.Status != 404 {
		t.Fatalf("call to an unknown user: %+v, want 404", f)
	}

	b.ua.Close()
	if n := h.Users(); n != 1 {
		t.Fatalf("host routes %d users after bob closed, want 1", n)
	}
	a.ua.Do(firmware.Dial{Call: "c3", Target: a.uri("bob"), From: firmware.Party{URI: a.uri("alice")}, Identity: 1})
	expectOnly[firmware.CallSent](a)
	if f := expect[firmware.CallFailed](a); f.Status != 404 {
		t.Fatalf("call to a closed UA: %+v, want 404", f)
	}
}

// TestHostedUANeedsStartedHost: a UA cannot start on a host that is not.
func TestHostedUANeedsStartedHost(t *testing.T) {
	h, err := NewHost(Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := New(Config{Host: h}, make(chan firmware.Event, 8))
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Start(context.Background()); err == nil {
		t.Fatal("a UA started on a host that is not")
	}
}
