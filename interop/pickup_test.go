//go:build interop

package interop

import (
	"strings"
	"testing"
	"time"
)

// Directed pickup through kamailio's presence server: A (100) calls B
// (200); C (1001) watches 200 on P1 with no pickup prefix. pua_dialoginfo
// puts the dialog's call-id and tags in the NOTIFY (include_callid,
// include_tags in peers/kamailio/presence.cfg), so C's key blinks and,
// pressed, sends A an INVITE with Replaces naming A's early dialog with B
// (early-only). A answers it, CANCELs its call to B (B stops ringing: it
// sees the CANCEL), and A and C are connected.
func TestBLFPickupWithReplacesThroughKamailio(t *testing.T) {
	t.Parallel()
	k := StartPresenceKamailio(t)
	a := StartPhone(t, "-s", "user_name1=100", "-s", "user_host1="+k.Addr, "-s", "user_pass1=100-pw")
	b := StartPhone(t, "-s", "user_name1=200", "-s", "user_host1="+k.Addr, "-s", "user_pass1=200-pw")
	c := StartPhone(t, "-s", "user_name1=1001", "-s", "user_host1="+k.Addr, "-s", "user_pass1=1001-pw",
		"-s", "fkey0=blf <sip:200@"+k.Addr+">")
	for _, p := range []*Phone{a, b, c} {
		waitRegistered(t, p, func(ok bool, _ string) bool { return ok }, "registered")
	}
	k.WaitLog(t, "PRESENCE SUBSCRIBE", 10*time.Second)
	time.Sleep(500 * time.Millisecond) // the first NOTIFY: idle

	a.Command("number=200")
	b.WaitCall("ringing", 10*time.Second)
	a.WaitCall("ringing", 10*time.Second)
	waitLED(t, c, "P1", "fast", 10*time.Second)

	c.Command("key=P1")
	picked := c.WaitCall("connected", 10*time.Second)
	if !strings.Contains(picked.Remote, "100@") {
		t.Errorf("C is connected to %q, want 100 (A)", picked.Remote)
	}
	got := a.WaitCall("connected", 10*time.Second)
	if !strings.Contains(got.Remote, "1001@") {
		t.Errorf("A is connected to %q, want 1001 (C)", got.Remote)
	}
	// B stops ringing: A's CANCEL, relayed by kamailio, makes it a missed call
	k.WaitLog(t, "REQ CANCEL sip:200@", 10*time.Second)
	b.WaitNoCalls(10 * time.Second)
	if log := phoneLog(t, b); !strings.Contains(log, "missed call from sip:100@") {
		t.Errorf("B did not see the CANCEL:\n%s", tail(log, 30))
	}
	if log := phoneLog(t, c); !strings.Contains(log, "picking up the call") {
		t.Errorf("C did not pick up with Replaces:\n%s", tail(log, 30))
	}
	if log := phoneLog(t, a); !strings.Contains(log, "replaced by sip:1001@") {
		t.Errorf("A's call was not replaced:\n%s", tail(log, 30))
	}
	if s := a.State(); len(s.Calls) == 0 {
		t.Fatal("A has no call")
	}
	a.Command("key=ONHOOK")
	c.WaitNoCalls(10 * time.Second)
}

// phoneLog is a phone's /log.txt.
func phoneLog(t *testing.T, p *Phone) string {
	t.Helper()
	body, err := p.get("/log.txt")
	if err != nil {
		t.Fatal(err)
	}
	return body
}
