package sipua

import (
	"context"
	"strconv"
	"testing"

	"phonesim/firmware"
)

// startHost starts a shared port on 127.0.0.1, closed after the test (and
// after its UAs: cleanups run last first).
func startHost(t *testing.T) *Host {
	t.Helper()
	h, err := NewHost(Config{Listen: "127.0.0.1:0", UserAgent: "phonesim/test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

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
	h := startHost(t)
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

// TestHostUsersFollowSetUsers: a UA's users are replaced by each SetUsers;
// of two UAs claiming one user the later gets its requests; a UA closed
// while SetUsers runs is not left routed.
func TestHostUsersFollowSetUsers(t *testing.T) {
	h := startHost(t)
	a := hostedPhone(t, h, "A", "alice")
	b := hostedPhone(t, h, "B", "bob")

	route := func(user string) *UA {
		h.u.hosted.mu.RLock()
		defer h.u.hosted.mu.RUnlock()
		return h.u.hosted.users[user]
	}
	b.ua.SetUsers([]string{"robert", "bobby"}) // bob logged off, two others on
	if route("bob") != nil || route("robert") != b.ua || route("bobby") != b.ua {
		t.Fatalf("after SetUsers: bob→%p robert→%p bobby→%p, want nil, %p, %p", route("bob"), route("robert"), route("bobby"), b.ua, b.ua)
	}
	b.ua.SetUsers([]string{"alice"}) // the later claim wins
	if route("alice") != b.ua || route("robert") != nil {
		t.Fatalf("alice→%p robert→%p, want %p, nil", route("alice"), route("robert"), b.ua)
	}

	// SetUsers racing Close, many times: a closed UA never stays routed
	for i := range 50 {
		u := hostedPhone(t, h, "C", "carol").ua
		done := make(chan struct{})
		go func() {
			defer close(done)
			u.SetUsers([]string{"carol", "caroline"})
		}()
		u.Close()
		<-done
		if route("carol") == u || route("caroline") == u {
			t.Fatalf("round %d: a closed UA is still routed", i)
		}
	}
	_ = a
}

// TestHostInDialogRequestForNobody: a request within a dialog (To tag)
// for a user nobody has gets 481, as RFC 3261 §12.2.2 wants, not 404.
func TestHostInDialogRequestForNobody(t *testing.T) {
	h := startHost(t)
	_, port := h.Addr()
	r := newRaw(t)
	for _, tc := range []struct {
		to   string
		want int
	}{
		{"<sip:nobody@127.0.0.1>;tag=b", 481}, // within a dialog
		{"<sip:nobody@127.0.0.1>", 404},       // outside any
	} {
		r.sendTo(port, "OPTIONS sip:nobody@127.0.0.1:"+strconv.Itoa(port)+" SIP/2.0\r\n"+
			"Via: SIP/2.0/UDP 127.0.0.1:"+strconv.Itoa(r.port)+";branch=z9hG4bK-host"+strconv.Itoa(tc.want)+"\r\n"+
			"From: <sip:x@127.0.0.1>;tag=a\r\nTo: "+tc.to+"\r\n"+
			"Call-ID: host"+strconv.Itoa(tc.want)+"@test\r\nCSeq: 2 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
		if res := r.final(); res.StatusCode != tc.want {
			t.Errorf("To %s: %d %s, want %d", tc.to, res.StatusCode, res.Reason, tc.want)
		}
	}
}
