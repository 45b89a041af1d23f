package sipua

import (
	"fmt"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
)

// Close ends every call so that the other side hears it, and waits (at
// most shutdownGrace) for the answers before the transport goes: BYE on
// a confirmed call, CANCEL on a pending INVITE, 480 to a ringing one.
func TestCloseWaitsForTheAnswers(t *testing.T) {
	closeAsync := func(a *phone) <-chan time.Duration {
		took := make(chan time.Duration, 1)
		go func() {
			start := time.Now()
			a.ua.Close()
			took <- time.Since(start)
		}()
		return took
	}
	const late = 300 * time.Millisecond

	t.Run("confirmed: BYE", func(t *testing.T) {
		a := dialogPhone(t, "A", MediaTone, nil)
		r := newRaw(t)
		confirmCall(t, a, r, firmware.Dial{Call: "c1", Target: fmt.Sprintf("sip:uas@127.0.0.1:%d", r.port)})

		took := closeAsync(a)
		bye := r.request(sip.BYE)
		time.Sleep(late)
		select {
		case d := <-took:
			t.Fatalf("Close returned after %v, before the BYE was answered", d)
		default:
		}
		r.send(response(bye, 200, "OK", "", nil, ""))
		if d := <-took; d > shutdownGrace {
			t.Errorf("Close took %v", d)
		}
	})

	// Both ends closing at once (a fleet stopping, with both phones of a
	// call in it) cross BYEs: each must answer the other's BYE while it
	// waits for the answer to its own, or both wait out shutdownGrace
	// and the BYEs end in retransmissions and 481s.
	t.Run("confirmed: crossing BYE answered", func(t *testing.T) {
		a := dialogPhone(t, "A", MediaTone, nil)
		r := newRaw(t)
		confirmCall(t, a, r, firmware.Dial{Call: "c1", Target: fmt.Sprintf("sip:uas@127.0.0.1:%d", r.port)})

		took := closeAsync(a)
		bye := r.request(sip.BYE)
		// our own BYE, in the dialog (From and To swapped, tags kept)
		r.send(fmt.Sprintf("BYE %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-cross\r\nMax-Forwards: 70\r\n"+
			"From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n",
			bye.From().Address.String(), r.port, bye.To().Value(), bye.From().Value(), bye.CallID().Value()))
		start := time.Now()
		res := r.final()
		if res.StatusCode != 200 || res.CSeq().MethodName != sip.BYE {
			t.Fatalf("crossing BYE answered %d %s", res.StatusCode, res.CSeq().MethodName)
		}
		if d := time.Since(start); d > shutdownGrace/2 {
			t.Errorf("crossing BYE answered after %v", d)
		}
		r.send(response(bye, 200, "OK", "", nil, ""))
		if d := <-took; d > shutdownGrace {
			t.Errorf("Close took %v", d)
		}
	})

	t.Run("calling: CANCEL", func(t *testing.T) {
		a := dialogPhone(t, "A", MediaTone, nil)
		r := newRaw(t)
		a.ua.Do(firmware.Dial{Call: "c1", Target: fmt.Sprintf("sip:uas@127.0.0.1:%d", r.port)})
		expectOnly[firmware.CallSent](a)
		inv := r.request(sip.INVITE)
		r.send(response(inv, 180, "Ringing", "uas1", nil, ""))
		expectOnly[firmware.CallProgressed](a)

		took := closeAsync(a)
		cancel := r.request(sip.CANCEL)
		time.Sleep(late)
		r.send(response(cancel, 200, "OK", "uas1", nil, ""))
		select {
		case d := <-took:
			t.Fatalf("Close returned after %v, before the INVITE's final answer", d)
		case <-time.After(50 * time.Millisecond):
		}
		r.send(response(inv, 487, "Request Terminated", "uas1", nil, ""))
		if d := <-took; d > shutdownGrace {
			t.Errorf("Close took %v", d)
		}
	})

	t.Run("ringing: 480", func(t *testing.T) {
		b := dialogPhone(t, "B", MediaTone, nil)
		r := newRaw(t)
		inv := r.invite(b.port, "shut-ring", "<sip:raw@127.0.0.1>", sdpOffer)
		r.send(inv)
		off := expectOnly[firmware.CallOffered](b)
		b.ua.Do(firmware.Ring{Call: off.Call})
		took := closeAsync(b)
		res := r.final()
		if res.StatusCode != 480 {
			t.Fatalf("ringing call got %d on Close", res.StatusCode)
		}
		r.ackFinal(inv, res)
		<-took
	})

	// A BYE sent at a hangup before Close, and never answered, must not
	// hold Close for its transaction's 32 s (Timer F): a loaded fleet
	// took that long to stop.
	t.Run("unanswered BYE of a hangup: bounded", func(t *testing.T) {
		// on a shared port, whose stack outlives the UA (a UA of its
		// own closes its stack, which ends the transaction)
		a := hostedPhone(t, startHost(t), "A", "alice")
		r := newRaw(t)
		confirmCall(t, a, r, firmware.Dial{Call: "c1", Target: fmt.Sprintf("sip:uas@127.0.0.1:%d", r.port), From: firmware.Party{URI: a.uri("alice")}, Identity: 1})
		a.ua.Do(firmware.Hangup{Call: "c1"})
		r.request(sip.BYE) // never answered
		took := closeAsync(a)
		if d := <-took; d > shutdownGrace+time.Second {
			t.Errorf("Close took %v, want at most about %v", d, shutdownGrace)
		}
	})

	t.Run("no answer: bounded", func(t *testing.T) {
		a := dialogPhone(t, "A", MediaTone, nil)
		r := newRaw(t)
		confirmCall(t, a, r, firmware.Dial{Call: "c1", Target: fmt.Sprintf("sip:uas@127.0.0.1:%d", r.port)})
		took := closeAsync(a)
		r.request(sip.BYE) // never answered
		if d := <-took; d < shutdownGrace || d > shutdownGrace+time.Second {
			t.Errorf("Close took %v, want about %v", d, shutdownGrace)
		}
	})
}

// confirmCall places dial from a to the raw peer r, which answers it:
// the call is confirmed (ACKed) when it returns.
func confirmCall(t *testing.T, a *phone, r *raw, dial firmware.Dial) {
	t.Helper()
	a.ua.Do(dial)
	expectOnly[firmware.CallSent](a)
	inv := r.request(sip.INVITE)
	r.send(response(inv, 200, "OK", "uas1", []string{fmt.Sprintf("Contact: <sip:uas@127.0.0.1:%d>", r.port)}, sdpAnswer))
	expectOnly[firmware.CallAnswered](a)
	r.request(sip.ACK)
}
