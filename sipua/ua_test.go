package sipua

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"phonesim/firmware"
)

// wait is the generous deadline of every event-driven wait.
const wait = 5 * time.Second

// testLog forwards log lines to t.Logf while the test runs.
type testLog struct {
	mu   sync.Mutex
	t    *testing.T
	name string
	done bool
}

func (l *testLog) logf(level firmware.Level, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Logf("%s %s: %s", l.name, level, fmt.Sprintf(format, args...))
	}
}

// phone is a UA under test with its event stream.
type phone struct {
	t      *testing.T
	ua     *UA
	events chan firmware.Event
	port   int
}

func startPhone(t *testing.T, name string, mode MediaMode) *phone {
	t.Helper()
	return startPhoneWith(t, name, Config{Media: mode})
}

// startPhoneWith is startPhone with a Config of the test's (its Listen,
// UserAgent and Logf are the test's own).
func startPhoneWith(t *testing.T, name string, cfg Config) *phone {
	t.Helper()
	log := &testLog{t: t, name: name}
	events := make(chan firmware.Event, 64)
	cfg.Listen, cfg.UserAgent, cfg.Logf = "127.0.0.1:0", "phonesim/test", log.logf
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
	up := expect[firmware.NetworkUp](p)
	if up.IP != "127.0.0.1" || up.Port == 0 {
		t.Fatalf("NetworkUp = %+v", up)
	}
	p.port = up.Port
	return p
}

func (p *phone) uri(user string) string { return fmt.Sprintf("sip:%s@127.0.0.1:%d", user, p.port) }

// expect waits for the next event of type T, failing on timeout. Events of
// other types in between are logged and skipped.
func expect[T firmware.Event](p *phone) T {
	p.t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case e := <-p.events:
			if v, ok := e.(T); ok {
				return v
			}
			p.t.Logf("skipping %T %+v", e, e)
		case <-deadline:
			var zero T
			p.t.Fatalf("no %T within %v", zero, wait)
			return zero
		}
	}
}

// expectOnly waits for the next event and requires it to be of type T.
func expectOnly[T firmware.Event](p *phone) T {
	p.t.Helper()
	select {
	case e := <-p.events:
		v, ok := e.(T)
		if !ok {
			var zero T
			p.t.Fatalf("got %T %+v, want %T", e, e, zero)
		}
		return v
	case <-time.After(wait):
		var zero T
		p.t.Fatalf("no %T within %v", zero, wait)
		return zero
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, wait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// placeCall places a call from a to b and returns b's CallOffered.
func placeCall(t *testing.T, a, b *phone, id firmware.CallID, display string) firmware.CallOffered {
	t.Helper()
	a.ua.Do(firmware.Dial{Call: id, Target: b.uri("bob"), From: firmware.Party{URI: a.uri("alice"), Display: display}, Identity: 1})
	sent := expectOnly[firmware.CallSent](a)
	if sent.Call != id || sent.SIPCallID == "" {
		t.Fatalf("CallSent = %+v", sent)
	}
	off := expectOnly[firmware.CallOffered](b)
	if off.SIPCallID != sent.SIPCallID {
		t.Fatalf("Call-ID: offered %q, sent %q", off.SIPCallID, sent.SIPCallID)
	}
	return off
}

func TestCallRingAnswerMediaHangup(t *testing.T) {
	a := startPhone(t, "A", MediaTone)
	b := startPhone(t, "B", MediaTone)

	off := placeCall(t, a, b, "c1", "Alice")
	if off.From.Display != "Alice" || !strings.HasPrefix(off.From.URI, "sip:alice@127.0.0.1") || off.To != "bob" {
		t.Fatalf("CallOffered = %+v", off)
	}
	if !strings.HasPrefix(string(off.Call), "in-") {
		t.Fatalf("incoming call id %q", off.Call)
	}
	if off.Headers["User-Agent"] != "phonesim/test" {
		t.Errorf("headers = %v", off.Headers)
	}
	for _, h := range []string{"Via", "From", "To", "Call-Id", "Call-ID", "Contact", "Cseq", "CSeq", "Content-Type", "Content-Length", "Max-Forwards"} {
		if _, ok := off.Headers[h]; ok {
			t.Errorf("header %s must not be offered: %v", h, off.Headers)
		}
	}

	b.ua.Do(firmware.Ring{Call: off.Call})
	if got := expectOnly[firmware.CallProgressed](a); got != (firmware.CallProgressed{Call: "c1", Status: 180}) {
		t.Fatalf("CallProgressed = %+v", got)
	}
	b.ua.Do(firmware.Answer{Call: off.Call})
	ans := expectOnly[firmware.CallAnswered](a)
	if ans.Call != "c1" || !strings.HasPrefix(ans.Remote.URI, "sip:bob@") {
		t.Fatalf("CallAnswered = %+v", ans)
	}

	eventually(t, "RTP both ways", func() bool {
		sa, sb := a.ua.Stats("c1"), b.ua.Stats(off.Call)
		return sa.PacketsSent > 5 && sa.PacketsReceived > 5 && sb.PacketsSent > 5 && sb.PacketsReceived > 5
	})
	if d := a.ua.Stats("c1").PacketsDropped; d != 0 {
		t.Errorf("A dropped %d packets", d)
	}

	a.ua.Do(firmware.Hangup{Call: "c1"})
	if got := expectOnly[firmware.CallEnded](b); got != (firmware.CallEnded{Call: off.Call, Reason: "bye"}) {
		t.Fatalf("CallEnded = %+v", got)
	}
	eventually(t, "calls gone", func() bool { return a.ua.active() == 0 && b.ua.active() == 0 })
	// Stats outlive the call.
	if a.ua.Stats("c1").PacketsSent == 0 {
		t.Error("no stats after the call")
	}
	assertQuiet(t, a, b)
}

func TestCalleeHangsUp(t *testing.T) {
	a := startPhone(t, "A", MediaSilence)
	b := startPhone(t, "B", MediaEcho)
	off := placeCall(t, a, b, "c1", "")
	b.ua.Do(firmware.Answer{Call: off.Call})
	expectOnly[firmware.CallAnswered](a)
	// The echo phone only sends what it gets.
	eventually(t, "echo", func() bool { return a.ua.Stats("c1").PacketsReceived > 3 })
	b.ua.Do(firmware.Hangup{Call: off.Call})
	if got := expectOnly[firmware.CallEnded](a); got != (firmware.CallEnded{Call: "c1", Reason: "bye"}) {
		t.Fatalf("CallEnded = %+v", got)
	}
}

func TestCallerCancelsWhileRinging(t *testing.T) {
	a := startPhone(t, "A", MediaTone)
	b := startPhone(t, "B", MediaTone)
	off := placeCall(t, a, b, "c1", "")
	b.ua.Do(firmware.Ring{Call: off.Call})
	expectOnly[firmware.CallProgressed](a)

	a.ua.Do(firmware.Hangup{Call: "c1"})
	if got := expectOnly[firmware.CallCanceled](b); got.Call != off.Call {
		t.Fatalf("CallCanceled = %+v", got)
	}
	if got := expectOnly[firmware.CallFailed](a); got.Call != "c1" || got.Status != 487 {
		t.Fatalf("CallFailed = %+v", got)
	}
	eventually(t, "calls gone", func() bool { return a.ua.active() == 0 && b.ua.active() == 0 })
}

func TestReject(t *testing.T) {
	for _, tc := range []struct {
		status int
		reason string
	}{
		{486, "Busy Here"},
		{480, "Do Not Disturb"},
		{603, "Decline"},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			a := startPhone(t, "A", MediaTone)
			b := startPhone(t, "B", MediaTone)
			off := placeCall(t, a, b, "c1", "")
			b.ua.Do(firmware.Reject{Call: off.Call, Status: tc.status, Reason: tc.reason})
			got := expectOnly[firmware.CallFailed](a)
			if want := (firmware.CallFailed{Call: "c1", Status: tc.status, Reason: tc.reason}); got != want {
				t.Fatalf("CallFailed = %+v, want %+v", got, want)
			}
			eventually(t, "calls gone", func() bool { return a.ua.active() == 0 && b.ua.active() == 0 })
		})
	}
}

func TestHangupWhileRingingDeclines(t *testing.T) {
	a := startPhone(t, "A", MediaTone)
	b := startPhone(t, "B", MediaTone)
	off := placeCall(t, a, b, "c1", "")
	b.ua.Do(firmware.Ring{Call: off.Call})
	expectOnly[firmware.CallProgressed](a)
	b.ua.Do(firmware.Hangup{Call: off.Call})
	if got := expectOnly[firmware.CallFailed](a); got.Status != 603 {
		t.Fatalf("CallFailed = %+v", got)
	}
}

func TestRedirect(t *testing.T) {
	a := startPhone(t, "A", MediaTone)
	b := startPhone(t, "B", MediaTone)
	off := placeCall(t, a, b, "c1", "")
	b.ua.Do(firmware.Redirect{Call: off.Call, Status: 302, Target: "sip:carol@127.0.0.1:5099"})
	got := expectOnly[firmware.CallRedirected](a)
	if want := (firmware.CallRedirected{Call: "c1", Status: 302, Target: "sip:carol@127.0.0.1:5099"}); got != want {
		t.Fatalf("CallRedirected = %+v, want %+v", got, want)
	}

	// The 302's Contact, seen on the wire.
	r := newRaw(t)
	inv := r.invite(b.port, "x1", "<sip:raw@127.0.0.1>", sdpOffer)
	r.send(inv)
	off = expectOnly[firmware.CallOffered](b)
	b.ua.Do(firmware.Redirect{Call: off.Call, Status: 302, Target: "sip:carol@127.0.0.1:5099"})
	res := r.final()
	if res.StatusCode != 302 {
		t.Fatalf("got %d", res.StatusCode)
	}
	if h := res.GetHeader("Contact"); h == nil || h.Value() != "<sip:carol@127.0.0.1:5099>" {
		t.Fatalf("Contact = %v", h)
	}
	r.ackFinal(inv, res)
}

func TestHostileDisplayName(t *testing.T) {
	a := startPhone(t, "A", MediaTone)
	b := startPhone(t, "B", MediaTone)
	off := placeCall(t, a, b, "c1", "\x1b[2J<script>&x=1")
	if strings.ContainsAny(off.From.Display, "\x1b\r\n\"") {
		t.Fatalf("display %q", off.From.Display)
	}
	if off.From.Display != "[2J<script>&x=1" {
		t.Errorf("display = %q", off.From.Display)
	}
	b.ua.Do(firmware.Reject{Call: off.Call, Status: 486})
	expectOnly[firmware.CallFailed](a)
}

func TestUnknownCallEffectsAreIgnored(t *testing.T) {
	a := startPhone(t, "A", MediaTone)
	for _, e := range []firmware.Effect{
		firmware.Ring{Call: "nope"}, firmware.Answer{Call: "nope"}, firmware.Hangup{Call: "nope"},
		firmware.Render{}, firmware.Log{Message: "x"}, firmware.FetchURL{URL: "http://x"},
	} {
		a.ua.Do(e)
	}
	assertQuiet(t, a)
}

func TestDialBadTarget(t *testing.T) {
	a := startPhone(t, "A", MediaTone)
	a.ua.Do(firmware.Dial{Call: "c1", Target: "not a uri"})
	if got := expectOnly[firmware.CallFailed](a); got.Call != "c1" || got.Status != 0 {
		t.Fatalf("CallFailed = %+v", got)
	}
}

// assertQuiet checks that no event is pending.
func assertQuiet(t *testing.T, phones ...*phone) {
	t.Helper()
	time.Sleep(50 * time.Millisecond)
	for _, p := range phones {
		select {
		case e := <-p.events:
			t.Errorf("unexpected %s %+v", reflect.TypeOf(e), e)
		default:
		}
	}
}

func TestLifecycle(t *testing.T) {
	if _, err := New(Config{}, nil); err == nil {
		t.Error("New accepted a nil channel")
	}
	events := make(chan firmware.Event, 4)
	u, err := New(Config{Listen: "localhost:0"}, events)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ip, port := u.Addr(); ip != "127.0.0.1" || port == 0 {
		t.Errorf("Addr = %s, %d", ip, port)
	}
	if err := u.Start(t.Context()); err == nil {
		t.Error("second Start accepted")
	}
	u.Do(firmware.Dial{Call: "c1", Target: "sip:x@127.0.0.1:9"}) // never answered: Close ends it
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	if err := u.Start(t.Context()); err != ErrClosed {
		t.Errorf("Start after Close: %v", err)
	}
	u.Do(firmware.Dial{Call: "c2", Target: "sip:x@127.0.0.1:9"}) // ignored after Close, no panic

	// Closing before Start is fine too.
	v, _ := New(Config{Listen: "127.0.0.1:0"}, events)
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
}

// Canceling Start's context closes the UA.
func TestStartContextCloses(t *testing.T) {
	events := make(chan firmware.Event, 4)
	u, err := New(Config{Listen: "127.0.0.1:0"}, events)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := u.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	eventually(t, "closed", func() bool {
		u.mu.Lock()
		defer u.mu.Unlock()
		return u.closed
	})
	u.Close()
}
