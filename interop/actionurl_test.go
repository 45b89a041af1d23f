//go:build interop

package interop

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookLog is a real HTTP receiver that keeps every request in order.
type hookLog struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []hookReq
}

type hookReq struct {
	Path  string
	Query url.Values
}

func newHookLog(t *testing.T) *hookLog {
	h := &hookLog{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.reqs = append(h.reqs, hookReq{r.URL.Path, r.URL.Query()})
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

// wait waits until n requests have arrived and returns them all.
func (h *hookLog) wait(t *testing.T, n int, what string) []hookReq {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.mu.Lock()
		got := append([]hookReq(nil), h.reqs...)
		h.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d requests, want %d: %v", what, len(got), n, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The integrator's test: real phones, a real receiver. Every event A
// sees reaches the receiver exactly once, in order, with exactly the
// expected decoded values; a refused transfer sends nothing.
func TestActionURLsEndToEnd(t *testing.T) {
	t.Parallel()
	hooks := newHookLog(t)
	u := hooks.URL
	b := StartPhone(t, "-s", "user_name1=200", "--no-echo")
	a := StartPhone(t, "-s", "user_name1=100", "--no-echo", "-s", "redirect_number=300",
		"-s", "action_outgoing_url="+u+"/outgoing?id=$call-id&r=$remote&n=$nr_ongoing_calls",
		"-s", "action_connected_url="+u+"/connected?id=$call-id&r=$remote",
		"-s", "action_disconnected_url="+u+"/disconnected?id=$call-id&n=$nr_ongoing_calls",
		"-s", "action_incoming_url="+u+"/incoming?id=$call-id&r=$remote&name=$display_remote",
		"-s", "action_missed_url="+u+"/missed?id=$call-id&n=$nr_ongoing_calls",
		"-s", "action_dnd_on_url="+u+"/dnd?on=1", "-s", "action_dnd_off_url="+u+"/dnd?on=0",
		"-s", "action_redirection_on_url="+u+"/fwd?to=$redirect_number", "-s", "action_redirection_off_url="+u+"/fwd?to=",
		"-s", "action_transfer="+u+"/transfer?id=$call-id&r=$remote", "-s", "action_blind_transfer="+u+"/blind?id=$call-id",
		"-s", "action_longpress_url="+u+"/long?k=$longpress_key&m=$expansion_module",
		"-s", "fkey5=url "+u+"/key?k=$active_key&m=$expansion_module",
	)
	n := 0
	expect := func(what string, want ...hookReq) []hookReq {
		t.Helper()
		got := hooks.wait(t, n+len(want), what)
		for i, w := range want {
			g := got[n+i]
			if g.Path != w.Path {
				t.Fatalf("%s: request %d is %s %v, want %s %v", what, n+i, g.Path, g.Query, w.Path, w.Query)
			}
			for k, v := range w.Query {
				if k == "id" && v[0] == "*" {
					if g.Query.Get("id") == "" {
						t.Errorf("%s: %s has no call-id", what, g.Path)
					}
					continue
				}
				if g.Query.Get(k) != v[0] {
					t.Errorf("%s: %s %s=%q, want %q", what, g.Path, k, g.Query.Get(k), v[0])
				}
			}
			if len(g.Query) != len(w.Query) {
				t.Errorf("%s: %s carries %v, want exactly the keys of %v", what, g.Path, g.Query, w.Query)
			}
		}
		n += len(want)
		return got[n-len(want) : n]
	}
	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}

	a.Command("key=DND")
	a.Command("key=DND")
	a.Command("key=REDIRECT")
	a.Command("key=REDIRECT")
	expect("DND and redirection", hookReq{"/dnd", q("on", "1")}, hookReq{"/dnd", q("on", "0")},
		hookReq{"/fwd", q("to", "300")}, hookReq{"/fwd", q("to", "")})

	a.Command("key=P6")
	a.Command("key=P6&hold=1500")
	expect("url key pressed and long-pressed", hookReq{"/key", q("k", "P6", "m", "0")}, hookReq{"/long", q("k", "P6", "m", "0")})

	// B calls A and gives up: incoming, then missed
	bURI := fmt.Sprintf("sip:200@127.0.0.1:%d", b.SIPPort)
	b.Command(fmt.Sprintf("number=sip:100@127.0.0.1:%d", a.SIPPort))
	a.WaitCall("ringing", 10*time.Second)
	b.Command("key=CANCEL")
	got := expect("a missed call", hookReq{"/incoming", q("id", "*", "r", bURI, "name", "")}, hookReq{"/missed", q("id", "*", "n", "0")})
	if got[0].Query.Get("id") != got[1].Query.Get("id") {
		t.Errorf("incoming and missed name different calls: %v", got)
	}
	a.WaitNoCalls(5 * time.Second)

	// A calls B, B answers, A hangs up
	a.Command("number=" + bURI)
	b.WaitCall("ringing", 10*time.Second)
	b.Command("key=ENTER")
	a.WaitCall("connected", 10*time.Second)
	invited := ""
	if calls, _ := b.State().Raw["calls"].([]any); len(calls) == 1 {
		invited, _ = calls[0].(map[string]any)["sip_call_id"].(string)
	}
	a.Command("key=ONHOOK")
	got = expect("a call", hookReq{"/outgoing", q("id", "*", "r", bURI, "n", "1")}, hookReq{"/connected", q("id", "*", "r", bURI)},
		hookReq{"/disconnected", q("id", "*", "n", "0")})
	if id := got[0].Query.Get("id"); got[1].Query.Get("id") != id || got[2].Query.Get("id") != id {
		t.Errorf("outgoing, connected and disconnected name different calls: %v", got)
	}
	if id := got[0].Query.Get("id"); id != invited {
		t.Errorf("action_outgoing_url's $call-id %q is not the Call-ID of the INVITE B received (%q)", id, invited)
	}
	a.WaitNoCalls(5 * time.Second)

	// a transfer the transferee accepts, and one it refuses
	for _, tc := range []struct{ scenario, status string }{{"uas-refer.xml", "202"}, {"uas-refer-refused.xml", "403"}} {
		uas := StartSipp(t, tc.scenario, "")
		target := "sip:uas@" + uas.Addr
		a.Command("number=" + target)
		a.WaitCall("connected", 10*time.Second)
		a.Command("key=TRANSFER;7;0;0;ENTER")
		if tc.status == "202" {
			got = expect("an accepted transfer", hookReq{"/outgoing", q("id", "*", "r", target, "n", "1")}, hookReq{"/connected", q("id", "*", "r", target)},
				hookReq{"/transfer", q("id", "*", "r", target)}, hookReq{"/blind", q("id", "*")}, hookReq{"/disconnected", q("id", "*", "n", "0")})
		} else {
			got = expect("a refused transfer: no transfer URL", hookReq{"/outgoing", q("id", "*", "r", target, "n", "1")}, hookReq{"/connected", q("id", "*", "r", target)})
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(a.Log(), "transfer of "+target+" failed: 403 Forbidden") {
				if time.Now().After(deadline) {
					t.Fatalf("A's log does not say the transfer failed:\n%s", tail(a.Log(), 30))
				}
				time.Sleep(20 * time.Millisecond)
			}
			a.Command("key=ONHOOK")
			expect("hanging up after the refusal", hookReq{"/disconnected", q("id", "*", "n", "0")})
		}
		uas.Done(t)
		a.WaitNoCalls(5 * time.Second)
	}
	time.Sleep(300 * time.Millisecond)
	if extra := hooks.wait(t, n, "the end"); len(extra) != n {
		t.Errorf("%d requests beyond the expected %d: %v", len(extra)-n, n, extra[n:])
	}
}
