package sipua

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
)

// inviteWith has raw call b with extra INVITE headers, b answer with
// timers, and raw ACK; it returns b's CallOffered and the 200.
func inviteWith(t *testing.T, r *raw, b *phone, callID string, timers firmware.CallTimers, extra ...string) (firmware.CallOffered, *sip.Response) {
	t.Helper()
	r.send(r.invite(b.port, callID, "<sip:raw@127.0.0.1>", sdpOffer, extra...))
	off := expectOnly[firmware.CallOffered](b)
	b.ua.Do(firmware.Answer{Call: off.Call, Timers: timers})
	ok := r.final()
	if ok.StatusCode != 200 {
		t.Fatalf("got %d", ok.StatusCode)
	}
	r.send(fmt.Sprintf("ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-ack-%s\r\nMax-Forwards: 70\r\n"+
		"From: <sip:raw@127.0.0.1>;tag=rawtag\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
		ok.Contact().Address.String(), r.port, callID, ok.To().Value(), callID))
	return off, ok
}

// We answer a caller that asks for a session timer and names itself
// refresher, and it never refreshes (it vanished): the session expires
// and we send BYE before it would (RFC 4028 §10), and the core hears
// CallEnded.
func TestSessionExpiresWithoutRefresh(t *testing.T) {
	b := dialogPhone(t, "B", MediaTone, nil)
	r := newRaw(t)
	start := time.Now()
	off, ok := inviteWith(t, r, b, "st-expire", firmware.CallTimers{SessionExpires: 3 * time.Second},
		"Supported: timer", "Session-Expires: 2;refresher=uac", "Min-SE: 1")
	if h := ok.GetHeader("Session-Expires"); h == nil || h.Value() != "2;refresher=uac" {
		t.Fatalf("200 Session-Expires = %v", h)
	}
	if !supports(ok, "timer") || ok.GetHeader("Require") == nil {
		t.Fatalf("200 without Supported/Require: timer:\n%s", ok)
	}
	got := expect[firmware.CallEnded](b)
	if got.Call != off.Call || got.Reason != "session expired" {
		t.Fatalf("CallEnded = %+v", got)
	}
	// BYE at interval - interval/3 (under 32 s), not before half of it
	if d := time.Since(start); d < time.Second || d > 2*time.Second {
		t.Errorf("session ended after %v, want about 1.3 s", d)
	}
	bye := r.request(sip.BYE)
	r.send(response(bye, 200, "OK", "", nil, ""))
	eventually(t, "call gone", func() bool { return b.ua.active() == 0 })
}

// Two phones with session timers: the callee leaves refreshing to the
// caller (it supports timers), which refreshes by UPDATE at half the
// interval; the call outlives several intervals.
func TestSessionRefreshedByTheRefresher(t *testing.T) {
	timers := firmware.CallTimers{SessionExpires: 2 * time.Second}
	a := dialogPhone(t, "A", MediaTone, nil)
	b := dialogPhone(t, "B", MediaTone, nil)
	a.ua.Do(firmware.Dial{Call: "c1", Target: b.uri("bob"), Timers: timers})
	expectOnly[firmware.CallSent](a)
	off := expectOnly[firmware.CallOffered](b)
	b.ua.Do(firmware.Answer{Call: off.Call, Timers: timers})
	expectOnly[firmware.CallAnswered](a)

	select {
	case e := <-a.events:
		t.Fatalf("A: %T %+v", e, e)
	case e := <-b.events:
		t.Fatalf("B: %T %+v", e, e)
	case <-time.After(5 * time.Second): // 2.5 intervals
	}
	a.ua.Do(firmware.Hangup{Call: "c1"})
	if got := expectOnly[firmware.CallEnded](b); got.Reason != "bye" {
		t.Fatalf("CallEnded = %+v", got)
	}
}

// We are the refresher and our refresh gets no answer (the peer
// vanished): as a 408 to a request within the dialog, the call ends.
// The peer's 200 has no Allow: the refresh is a re-INVITE, carrying the
// session interval.
func TestSessionRefreshUnanswered(t *testing.T) {
	a := dialogPhone(t, "A", MediaTone, func(c *Config) { c.TransactionTimeout = 300 * time.Millisecond })
	r := newRaw(t)
	a.ua.Do(firmware.Dial{Call: "c1", Target: fmt.Sprintf("sip:uas@127.0.0.1:%d", r.port),
		Timers: firmware.CallTimers{SessionExpires: 2 * time.Second}})
	expectOnly[firmware.CallSent](a)
	inv := r.request(sip.INVITE)
	if h := inv.GetHeader("Session-Expires"); h == nil || h.Value() != "2" || !supports(inv, "timer") {
		t.Fatalf("INVITE without a session timer:\n%s", inv)
	}
	contact := fmt.Sprintf("Contact: <sip:uas@127.0.0.1:%d>", r.port)
	r.send(response(inv, 200, "OK", "uas1", []string{contact, "Require: timer", "Session-Expires: 2;refresher=uac"}, sdpAnswer))
	expectOnly[firmware.CallAnswered](a)
	r.request(sip.ACK)
	reinv := r.request(sip.INVITE) // the refresh, at half the interval
	if h := reinv.GetHeader("Session-Expires"); h == nil || h.Value() != "2;refresher=uac" {
		t.Fatalf("refresh Session-Expires = %v", h)
	}
	got := expect[firmware.CallEnded](a)
	if got.Call != "c1" || got.Reason != "no answer to re-INVITE" {
		t.Fatalf("CallEnded = %+v", got)
	}
	bye := r.request(sip.BYE)
	r.send(response(bye, 200, "OK", "", nil, ""))
}

// A 422 to our INVITE names a larger Min-SE: the INVITE goes again with
// that interval (RFC 4028 §7.4), and the call goes on.
func TestSessionIntervalTooSmall(t *testing.T) {
	a := dialogPhone(t, "A", MediaTone, nil)
	r := newRaw(t)
	a.ua.Do(firmware.Dial{Call: "c1", Target: fmt.Sprintf("sip:uas@127.0.0.1:%d", r.port),
		Timers: firmware.CallTimers{SessionExpires: 100 * time.Second}})
	expectOnly[firmware.CallSent](a)
	inv := r.request(sip.INVITE)
	r.send(response(inv, 422, "Session Interval Too Small", "uas0", []string{"Min-SE: 1800"}, ""))
	again := r.request(sip.INVITE)
	if h := again.GetHeader("Session-Expires"); h == nil || h.Value() != "1800" {
		t.Fatalf("second INVITE Session-Expires = %v", h)
	}
	if again.CSeq().SeqNo != inv.CSeq().SeqNo+1 || again.Via().Params.Equals(inv.Via().Params) {
		t.Fatalf("second INVITE: CSeq %d after %d, Via %v after %v", again.CSeq().SeqNo, inv.CSeq().SeqNo, again.Via(), inv.Via())
	}
	contact := fmt.Sprintf("Contact: <sip:uas@127.0.0.1:%d>", r.port)
	r.send(response(again, 200, "OK", "uas1", []string{contact}, sdpAnswer))
	expect[firmware.CallAnswered](a)
	r.request(sip.ACK)
	a.ua.Do(firmware.Hangup{Call: "c1"})
	bye := r.request(sip.BYE)
	r.send(response(bye, 200, "OK", "", nil, ""))
}

// A peer that answered and then sends no RTP (it vanished, or its media
// died) ends the call after RTPTimeout, with BYE and a reason; a call we
// put on hold does not end for lack of RTP, nor one whose RTP flows.
func TestRTPInactivityEndsTheCall(t *testing.T) {
	timers := firmware.CallTimers{RTPTimeout: 400 * time.Millisecond}
	dialRaw := func(t *testing.T, a *phone, r *raw) {
		a.ua.Do(firmware.Dial{Call: "c1", Target: fmt.Sprintf("sip:uas@127.0.0.1:%d", r.port), Timers: timers})
		expectOnly[firmware.CallSent](a)
		inv := r.request(sip.INVITE)
		r.send(response(inv, 200, "OK", "uas1", []string{fmt.Sprintf("Contact: <sip:uas@127.0.0.1:%d>", r.port)}, sdpAnswer))
		expectOnly[firmware.CallAnswered](a)
		r.request(sip.ACK)
	}
	t.Run("silent peer", func(t *testing.T) {
		a := dialogPhone(t, "A", MediaTone, nil)
		r := newRaw(t)
		dialRaw(t, a, r)
		got := expect[firmware.CallEnded](a)
		if got.Call != "c1" || got.Reason != "no RTP received for 0.4 s" {
			t.Fatalf("CallEnded = %+v", got)
		}
		bye := r.request(sip.BYE)
		r.send(response(bye, 200, "OK", "", nil, ""))
	})
	t.Run("on hold", func(t *testing.T) {
		a := dialogPhone(t, "A", MediaTone, nil)
		r := newRaw(t)
		dialRaw(t, a, r)
		a.ua.Do(firmware.HoldCall{Call: "c1"})
		reinv := r.request(sip.INVITE)
		r.send(response(reinv, 200, "OK", "uas1", []string{fmt.Sprintf("Contact: <sip:uas@127.0.0.1:%d>", r.port)},
			strings.Replace(sdpAnswer, "a=sendrecv", "a=recvonly", 1)))
		r.request(sip.ACK)
		assertNoEvent(t, a, 4*timers.RTPTimeout)
		a.ua.Do(firmware.Hangup{Call: "c1"})
		bye := r.request(sip.BYE)
		r.send(response(bye, 200, "OK", "", nil, ""))
	})
	t.Run("RTP flows", func(t *testing.T) {
		a := dialogPhone(t, "A", MediaTone, nil)
		b := dialogPhone(t, "B", MediaTone, nil)
		a.ua.Do(firmware.Dial{Call: "c1", Target: b.uri("bob"), Timers: timers})
		expectOnly[firmware.CallSent](a)
		off := expectOnly[firmware.CallOffered](b)
		b.ua.Do(firmware.Answer{Call: off.Call, Timers: timers})
		expectOnly[firmware.CallAnswered](a)
		assertNoEvent(t, a, 4*timers.RTPTimeout)
		assertNoEvent(t, b, 0)
		a.ua.Do(firmware.Hangup{Call: "c1"})
		expectOnly[firmware.CallEnded](b)
	})
}

// assertNoEvent fails on any event within d.
func assertNoEvent(t *testing.T, p *phone, d time.Duration) {
	t.Helper()
	select {
	case e := <-p.events:
		t.Fatalf("unexpected %T %+v", e, e)
	case <-time.After(d):
	}
}

var _ = net.IPv4
