//go:build interop

package interop

import (
	"strings"
	"testing"
	"time"
)

// The phone registered at a real registrar with digest auth.

func waitRegistered(t *testing.T, p *Phone, want func(registered bool, regErr string) bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		st := p.State()
		if len(st.Identities) > 0 && want(st.Identities[0].Registered, st.Identities[0].RegError) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; state: %+v", what, p.State().Identities)
}

func TestPhoneRegistersAndIsCalledThroughKamailio(t *testing.T) {
	t.Parallel()
	k := StartKamailio(t)
	p := StartPhone(t, "-s", "user_name1=alice", "-s", "user_host1="+k.Addr, "-s", "user_pass1=alice-pw")
	waitRegistered(t, p, func(ok bool, _ string) bool { return ok }, "alice registered")

	caller := StartSipp(t, "uac.xml", k.Addr, "-s", "alice", "-key", "caller", "carol", "-key", "display", "Carol", "-d", "500")
	c := p.WaitCall("ringing", 10*time.Second)
	if c.Display != "Carol" {
		t.Errorf("ringing call display = %q, want Carol", c.Display)
	}
	p.Command("key=ENTER")
	p.WaitCall("connected", 5*time.Second)
	caller.Done(t)
	p.WaitNoCalls(5 * time.Second)
	if !strings.Contains(k.Log(), "REQ INVITE sip:alice@") {
		t.Errorf("the INVITE did not go through kamailio")
	}
}

func TestPhoneCallsBaresipThroughKamailio(t *testing.T) {
	t.Parallel()
	k := StartKamailio(t)
	b := StartBaresipRegistered(t, k, "1002")
	p := StartPhone(t, "-s", "user_name1=1001", "-s", "user_host1="+k.Addr, "-s", "user_pass1=1001-pw")
	waitRegistered(t, p, func(ok bool, _ string) bool { return ok }, "1001 registered")

	p.Command("number=1002") // a plain number goes to the identity's registrar
	p.WaitCall("connected", 10*time.Second)
	b.WaitLog(t, "Call established", 5*time.Second)
	p.Command("key=ONHOOK")
	p.WaitNoCalls(5 * time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(k.Log(), "REPLY 200 OK for BYE") {
		if time.Now().After(deadline) {
			t.Fatalf("baresip never confirmed the phone's BYE through kamailio")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A wrong password is reported, and the phone does not hammer the
// registrar with REGISTERs.
func TestWrongPasswordIsReportedOnce(t *testing.T) {
	t.Parallel()
	k := StartKamailio(t)
	p := StartPhone(t, "-s", "user_name1=bob", "-s", "user_host1="+k.Addr, "-s", "user_pass1=not-bobs")
	waitRegistered(t, p, func(ok bool, e string) bool { return !ok && e != "" }, "a registration error")
	time.Sleep(3 * time.Second) // long enough for a retry loop to show
	if n := strings.Count(k.Log(), "REQ REGISTER"); n > 2 {
		t.Errorf("kamailio saw %d REGISTERs within seconds of a wrong password; want at most 2 (one challenge answered)", n)
	}
}
