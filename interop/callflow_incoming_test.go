//go:build interop

package interop

import (
	"strings"
	"testing"
	"time"
)

// Incoming callflows against real peers: pages answered by the policy
// (and not when busy or from an untrusted source), distinctive ring from
// Alert-Info, P-Asserted-Identity shown as the caller, hot-desking
// registering and unregistering at kamailio. docs/callflows.md.

// rawCall returns the /api/state call with the given state, as decoded
// JSON (the fields interop's Call does not name: ring, info).
func rawCall(t *testing.T, p *Phone, state string) map[string]any {
	t.Helper()
	calls, _ := p.State().Raw["calls"].([]any)
	for _, c := range calls {
		if m, ok := c.(map[string]any); ok && m["state"] == state {
			return m
		}
	}
	t.Fatalf("no %s call in /api/state: %v", state, calls)
	return nil
}

func registeredPhone(t *testing.T, k *Kamailio, args ...string) *Phone {
	t.Helper()
	p := StartPhone(t, append([]string{"-s", "user_name1=1001", "-s", "user_host1=" + k.Addr, "-s", "user_pass1=1001-pw"}, args...)...)
	waitRegistered(t, p, func(ok bool, _ string) bool { return ok }, "1001 registered")
	return p
}

// A page through the registrar is answered by itself (answer_after_policy
// idle), on the speaker.
func TestPageAnsweredByPolicy(t *testing.T) {
	t.Parallel()
	k := StartKamailio(t)
	p := registeredPhone(t, k, "-s", "answer_after_policy=idle")
	caller := StartSipp(t, "uac-headers.xml", k.Addr, "-s", "1001", "-key", "caller", "page", "-key", "display", "Paging",
		"-key", "hdr1", "Call-Info: <sip:"+k.Addr+">;answer-after=0", "-key", "hdr2", "X-None: 0", "-d", "1500")
	p.WaitCall("connected", 10*time.Second) // no key pressed
	if c := rawCall(t, p, "connected"); c["info"] != "Auto answer" {
		t.Errorf("info = %v, want Auto answer", c["info"])
	}
	if st := p.State(); st.Hook != "hands-free" {
		t.Errorf("hook = %s, want hands-free (the speaker)", st.Hook)
	}
	caller.Done(t)
	p.WaitNoCalls(5 * time.Second)
}

// Busy with a call, the page rings as a waiting call (policy idle) and is
// refused with the Reject softkey: 486.
func TestPageRingsWhenBusy(t *testing.T) {
	t.Parallel()
	k := StartKamailio(t)
	p := registeredPhone(t, k, "-s", "answer_after_policy=idle")
	first := StartSipp(t, "uac.xml", k.Addr, "-s", "1001", "-key", "caller", "bob", "-key", "display", "Bob", "-d", "6000")
	p.WaitCall("ringing", 10*time.Second)
	p.Command("key=ENTER")
	p.WaitCall("connected", 5*time.Second)

	page := StartSipp(t, "uac-headers-refused.xml", k.Addr, "-s", "1001", "-key", "caller", "page", "-key", "display", "Paging",
		"-key", "hdr1", "Alert-Info: <http://127.0.0.1/x>;info=alert-autoanswer", "-key", "hdr2", "X-None: 0")
	p.WaitCall("ringing", 10*time.Second)
	time.Sleep(500 * time.Millisecond)
	if c := rawCall(t, p, "ringing"); c["info"] == "Auto answer" {
		t.Errorf("a page while busy was set for auto answer")
	}
	p.Command("key=F2") // Reject
	page.Done(t)
	first.Done(t)
}

// A page sent straight to the phone (not from its registrar, not listed
// in answer_after_trusted) rings normally.
func TestPageFromUntrustedSourceRings(t *testing.T) {
	t.Parallel()
	p := StartPhone(t, "-s", "user_name1=100", "-s", "answer_after_policy=always")
	caller := StartSipp(t, "uac-headers.xml", p.SIPAddr, "-s", "100", "-key", "caller", "evil", "-key", "display", "Evil",
		"-key", "hdr1", "Call-Info: ;answer-after=0", "-key", "hdr2", "Alert-Info: Auto Answer", "-d", "500")
	p.WaitCall("ringing", 10*time.Second)
	time.Sleep(time.Second)
	p.WaitCall("ringing", time.Second) // still ringing
	p.Command("key=ENTER")
	p.WaitCall("connected", 5*time.Second)
	caller.Done(t)
}

// Alert-Info picks the ring; P-Asserted-Identity is the caller shown.
func TestDistinctiveRingAndPAI(t *testing.T) {
	t.Parallel()
	k := StartKamailio(t)
	p := registeredPhone(t, k)
	caller := StartSipp(t, "uac-headers.xml", k.Addr, "-s", "1001", "-key", "caller", "trunk", "-key", "display", "Trunk",
		"-key", "hdr1", "Alert-Info: <http://127.0.0.1/Bellcore-dr2>;info=alert-internal",
		"-key", "hdr2", "P-Asserted-Identity: \"Q-Sales Alice\" <sip:0049301234@127.0.0.1>", "-d", "500")
	c := p.WaitCall("ringing", 10*time.Second)
	if c.Remote != "sip:0049301234@127.0.0.1" || c.Display != "Q-Sales Alice" {
		t.Errorf("caller shown = %q %q, want the PAI (sip:0049301234@127.0.0.1, Q-Sales Alice)", c.Remote, c.Display)
	}
	if r := rawCall(t, p, "ringing"); r["ring"] != "Ringer2" {
		t.Errorf("ring = %v, want Ringer2 (alert_internal_ring_sound)", r["ring"])
	}
	p.Command("key=ENTER")
	p.WaitCall("connected", 5*time.Second)
	caller.Done(t)
}

// Hot-desking: a logon from command.htm registers the identity at
// kamailio (a call reaches the phone), a logoff unregisters it (kamailio
// answers 404).
func TestHotdeskingRegistersAndUnregisters(t *testing.T) {
	t.Parallel()
	k := StartKamailio(t)
	p := StartPhone(t, "-s", "user_name1=", "-s", "user_host1="+k.Addr)
	p.Command("logon=1002&pass=1002-pw")
	waitRegistered(t, p, func(ok bool, _ string) bool { return ok }, "1002 logged on and registered")
	if u := p.State().Identities[0].User; u != "1002" {
		t.Errorf("identity user = %q, want 1002", u)
	}
	caller := StartSipp(t, "uac.xml", k.Addr, "-s", "1002", "-key", "caller", "carol", "-key", "display", "Carol", "-d", "300")
	p.WaitCall("ringing", 10*time.Second)
	p.Command("key=ENTER")
	caller.Done(t)
	p.WaitNoCalls(5 * time.Second)

	p.Command("logoff=all")
	time.Sleep(time.Second) // the un-REGISTER leaves in the background
	deadline := time.Now().Add(10 * time.Second)
	for {
		refused := StartSipp(t, "uac-headers-refused.xml", k.Addr, "-s", "1002", "-key", "caller", "carol", "-key", "display", "Carol",
			"-key", "hdr1", "X-None: 0", "-key", "hdr2", "X-None: 1")
		if refused.Wait(t, 40*time.Second) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kamailio still routes to 1002 after the logoff")
		}
		time.Sleep(500 * time.Millisecond)
	}
	if n := strings.Count(k.Log(), "REQ REGISTER"); n < 2 {
		t.Errorf("kamailio saw %d REGISTERs; want the logon's and the logoff's", n)
	}
}
