//go:build interop

package interop

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Attended transfer with baresip 1.0 (Debian 12) in each role it can play
// next to two phonesim phones, all registered at kamailio:
//
//   - transfer target (C): works, TestAttendedTransferToBaresip below.
//   - transferee (B): does not work. baresip accepts the REFER (202) but
//     builds its INVITE from the Refer-To value used as a printf format
//     (src/ua.c, CALL_EVENT_TRANSFER → ua_event): every %XX escape
//     becomes "?", and the URI headers stay in the Request-URI and To
//     ("INVITE sip:100@…?Replaces=<call-id>?to-tag?<tag>?from-tag?<tag>");
//     no Replaces header is sent (RFC 3261 §19.1.1 allows no headers
//     component in a Request-URI or To, §19.1.5 makes it a header field;
//     RFC 5589 §7 / RFC 3891 §3). The target sees an ordinary new call
//     and rings.
//   - transferor (A): baresip 1.0 has no attended-transfer command; its
//     menu has only /transfer (blind REFER). No baresip or libre binary
//     of that release contains "Replaces".

// TestAttendedTransferToBaresip: phonesim A (1001) calls phonesim B (100),
// holds B, calls baresip C (1002), and transfers: B gets the REFER with
// Replaces and sends C an INVITE with Replaces. baresip 1.0 does not
// implement RFC 3891 (its Supported header is empty, the Replaces header
// is ignored, RFC 3261 §8.2.2.3): it answers the INVITE as a second call
// (auto-answer) instead of taking it in place of A's, and A's own BYE
// after the sipfrag 200 ends the consultation call. End state: B and C
// connected with RTP both ways, A idle, A's transfer URLs fired once.
func TestAttendedTransferToBaresip(t *testing.T) {
	t.Parallel()
	k := StartKamailio(t)
	c := StartBaresipRegistered(t, k, "1002")
	hooks := newHookLog(t)
	a := registeredPhone(t, k,
		"-s", "action_attended_transfer="+hooks.URL+"/att?r=$remote",
		"-s", "action_transfer="+hooks.URL+"/xfer")
	traceB := filepath.Join(t.TempDir(), "b-sip.txt")
	b := StartPhone(t, "-s", "user_name1=100", "-s", "user_host1="+k.Addr, "-s", "user_pass1=100-pw",
		"--sip-trace", traceB)
	waitRegistered(t, b, func(ok bool, _ string) bool { return ok }, "100 registered")

	a.Command("number=100")
	b.WaitCall("ringing", 10*time.Second)
	b.Command("key=ENTER")
	a.WaitCall("connected", 5*time.Second)
	a.Command("key=HOLD")
	a.WaitCall("on-hold", 5*time.Second)
	a.Command("number=1002")
	c.WaitLog(t, "Call established: sip:1001@", 10*time.Second)
	a.WaitCall("connected", 5*time.Second)

	a.Command("key=TRANSFER;TRANSFER")

	a.WaitNoCalls(10 * time.Second)
	waitOnly(t, b, "B", "1002", 10*time.Second)
	c.WaitLog(t, "Call established: sip:100@", 5*time.Second)
	got := hooks.wait(t, 2, "transfer URLs")
	if len(got) != 2 || got[0].Path != "/xfer" || got[1].Path != "/att" || !strings.Contains(got[1].Query.Get("r"), "sip:100@") {
		t.Errorf("transfer URLs: %+v", got)
	}
	// B's INVITE to baresip named the consultation dialog.
	trace, err := os.ReadFile(traceB)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^Replaces: [^;\r\n]+;to-tag=[^;\r\n]+;from-tag=`).Match(trace) {
		t.Errorf("B sent no INVITE with Replaces:\n%s", tail(string(trace), 60))
	}
	// A's call with baresip ended (by A's BYE: baresip ignores Replaces).
	c.WaitLog(t, "session closed", 5*time.Second)

	time.Sleep(time.Second) // audio both ways between B and C
	b.Command("key=ONHOOK")
	b.WaitNoCalls(5 * time.Second)

	if n := lastBaresipReceived(t, c, 2); n == 0 {
		t.Errorf("baresip received no RTP from B")
	}
	if n := phoneReceived(t, b, "1002"); n == 0 {
		t.Errorf("B received no RTP from baresip")
	}
}

// lastBaresipReceived waits until baresip has printed the statistics of
// calls calls and returns the RTP packets received in the last one.
func lastBaresipReceived(t *testing.T, b *Baresip, calls int) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(b.Log(), "packets:") < calls {
		if time.Now().After(deadline) {
			t.Fatalf("baresip printed statistics of fewer than %d calls:\n%s", calls, tail(b.Log(), 40))
		}
		time.Sleep(50 * time.Millisecond)
	}
	m := receivedPackets.FindAllStringSubmatch(b.Log(), -1)
	last := m[len(m)-1]
	n, _ := strconv.Atoi(last[2])
	t.Logf("baresip, last call: sent %s RTP packets, received %d", last[1], n)
	return n
}

var phoneMedia = regexp.MustCompile(`sip: call (\S+): media: \S+ sent (\d+) packets .*?, received (\d+) `)

// phoneReceived returns the RTP packets p received in its call with a
// remote containing who, from the media line its log has when a call
// ends.
func phoneReceived(t *testing.T, p *Phone, who string) int {
	t.Helper()
	log := phoneLog(t, p)
	ids := map[string]bool{}
	for _, line := range strings.Split(log, "\n") {
		// "sip: call out-2: INVITE to sip:1002-…@127.0.0.1:…"
		if i := strings.Index(line, "sip: call "); i >= 0 && strings.Contains(line, ": INVITE ") && strings.Contains(line, who) {
			id, _, _ := strings.Cut(line[i+len("sip: call "):], ":")
			ids[id] = true
		}
	}
	for _, m := range phoneMedia.FindAllStringSubmatch(log, -1) {
		if ids[m[1]] {
			n, _ := strconv.Atoi(m[3])
			t.Logf("phone, call %s with %s: sent %s RTP packets, received %d", m[1], who, m[2], n)
			return n
		}
	}
	t.Fatalf("no media line for a call with %s in the phone's log:\n%s", who, tail(log, 30))
	return 0
}
