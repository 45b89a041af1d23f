//go:build interop

package interop

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The phone against real peers, through its interface contract: command
// line, /command.htm and /api/state.

func TestSippCallsPhone(t *testing.T) {
	t.Parallel()
	p := StartPhone(t, "-s", "user_name1=100")
	caller := StartSipp(t, "uac.xml", p.SIPAddr,
		"-s", "100", "-key", "caller", "alice", "-key", "display", "Alice Example", "-d", "1500")

	c := p.WaitCall("ringing", 10*time.Second)
	if c.Display != "Alice Example" {
		t.Errorf("ringing call display = %q, want %q", c.Display, "Alice Example")
	}
	if !strings.Contains(c.Remote, "alice@127.0.0.1") {
		t.Errorf("ringing call remote = %q, want sip:alice@127.0.0.1...", c.Remote)
	}
	p.Command("key=ENTER")
	p.WaitCall("connected", 5*time.Second)

	caller.Done(t) // sipp sends BYE after 1.5 s and wants its 200
	p.WaitNoCalls(5 * time.Second)
}

func TestPhoneCallsSippUAS(t *testing.T) {
	t.Parallel()
	p := StartPhone(t, "-s", "user_name1=100")
	callee := StartSipp(t, "uas.xml", "") // 100, 180, 200 back to back

	p.Command("number=" + url.QueryEscape("sip:uas@"+callee.Addr))
	p.WaitCall("connected", 10*time.Second)
	p.Command("key=ONHOOK")

	callee.Done(t) // got the ACK and then the phone's BYE
	p.WaitNoCalls(5 * time.Second)
}

func TestPhoneCallsBaresip(t *testing.T) {
	t.Parallel()
	p := StartPhone(t, "-s", "user_name1=100")
	b := StartBaresip(t)

	p.Command("number=" + url.QueryEscape(b.URI))
	p.WaitCall("connected", 10*time.Second)
	b.WaitLog(t, "Call established", 5*time.Second)
	time.Sleep(time.Second) // let some audio flow both ways
	p.Command("key=CANCEL")

	b.WaitLog(t, "terminated", 5*time.Second)
	p.WaitNoCalls(5 * time.Second)
	if n := baresipReceived(t, b); n == 0 {
		t.Errorf("baresip received no RTP from the phone")
	}
}

var receivedPackets = regexp.MustCompile(`packets:\s+(\d+)\s+(\d+)`)

// baresipReceived reads the RTP packets baresip received during the call
// from the statistics it prints when the call ends.
func baresipReceived(t *testing.T, b *Baresip) int {
	t.Helper()
	b.WaitLog(t, "packets:", 5*time.Second)
	m := receivedPackets.FindStringSubmatch(b.Log())
	if m == nil {
		t.Fatalf("no packet counts in the baresip log")
	}
	n, _ := strconv.Atoi(m[2])
	t.Logf("baresip: sent %s RTP packets, received %d", m[1], n)
	return n
}

func TestPhoneAnswersOptions(t *testing.T) {
	t.Parallel()
	p := StartPhone(t, "-s", "user_name1=100")
	StartSipp(t, "options.xml", p.SIPAddr, "-s", "100", "-timeout", "5s").Done(t)
}

// A caller's display name full of markup reaches /api/state as is, an Action
// URL receiver decoded back to the same text, and the web pages inert.
func TestHostileDisplayNameFromRealCaller(t *testing.T) {
	t.Parallel()
	const hostile = `<script>alert(1)</script> & Co; x=1`
	got := make(chan url.Values, 4)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.Query()
	}))
	t.Cleanup(receiver.Close)

	p := StartPhone(t, "-s", "user_name1=100",
		"-s", "action_incoming_url="+receiver.URL+"/incoming?name=$display_remote&remote=$remote")
	caller := StartSipp(t, "uac.xml", p.SIPAddr,
		"-s", "100", "-key", "caller", "eve", "-key", "display", hostile, "-d", "200")

	c := p.WaitCall("ringing", 10*time.Second)
	if c.Display != hostile {
		t.Errorf("/api/state display = %q, want %q", c.Display, hostile)
	}
	select {
	case q := <-got:
		if q.Get("name") != hostile {
			t.Errorf("action_incoming_url name = %q, want %q (all query: %v)", q.Get("name"), hostile, q)
		}
		if len(q) != 2 {
			t.Errorf("action_incoming_url query has %d parameters, want 2: %v", len(q), q)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("no action_incoming_url request")
	}
	for _, page := range []string{"/log.htm", "/log.txt", "/api/state"} {
		body, err := p.get(page)
		if err != nil {
			t.Errorf("GET %s: %v", page, err)
			continue
		}
		if page != "/log.txt" && strings.Contains(body, "<script>") {
			t.Errorf("GET %s carries the display name's <script> unescaped", page)
		}
	}

	p.Command("key=ENTER")
	caller.Done(t)
	p.WaitNoCalls(5 * time.Second)
}
