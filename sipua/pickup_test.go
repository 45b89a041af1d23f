package sipua

import (
	"fmt"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
)

// The caller's side of a directed pickup: our outgoing call rings at r3
// (180 with r3's tag); r2 picks it up with an INVITE whose Replaces names
// that early dialog as we see it (our tag as to-tag, r3's as from-tag,
// early-only). It is offered as replacing the call; the core's Hangup
// CANCELs the ringing call and its Answer connects r2. A Replaces with
// the wrong tags gets 481, one naming a call ringing here 481, early-only
// against a confirmed dialog 486.
func TestPickupReplacesEarlyOutgoing(t *testing.T) {
	a := startPhone(t, "A", MediaTone)
	r2, r3 := newRaw(t), newRaw(t)

	a.ua.Do(firmware.Dial{Call: "out-1", SIPCallID: "pick-early", Target: fmt.Sprintf("sip:201@127.0.0.1:%d", r3.port),
		From: firmware.Party{URI: "sip:100@127.0.0.1"}, Identity: 1})
	inv := r3.request(sip.INVITE)
	expect[firmware.CallSent](a)
	ourTag := tagOf(inv.From().Params)
	r3.send(response(inv, 180, "Ringing", "calleetag", []string{fmt.Sprintf("Contact: <sip:201@127.0.0.1:%d>", r3.port)}, ""))
	if got := expectOnly[firmware.CallProgressed](a); got.Status != 180 {
		t.Fatalf("CallProgressed = %+v", got)
	}

	// wrong tags, or the tags the wrong way round: 481, the core hears nothing
	for i, repl := range []string{
		"pick-early;to-tag=" + ourTag + ";from-tag=othertag;early-only",
		"pick-early;to-tag=calleetag;from-tag=" + ourTag + ";early-only",
	} {
		r2.send(r2.invite(a.port, fmt.Sprintf("pick-bad%d", i), "<sip:105@127.0.0.1>", sdpOffer, "Replaces: "+repl))
		if res := r2.final(); res.StatusCode != 481 {
			t.Fatalf("Replaces %q: %d, want 481", repl, res.StatusCode)
		}
	}
	assertQuiet(t, a)

	pick := r2.invite(a.port, "pick-new", "<sip:105@127.0.0.1>", sdpOffer,
		"Replaces: pick-early;to-tag="+ourTag+";from-tag=calleetag;early-only", "Require: replaces")
	r2.send(pick)
	off := expectOnly[firmware.CallOffered](a)
	if off.Replaces != "out-1" {
		t.Fatalf("CallOffered.Replaces = %q, want out-1", off.Replaces)
	}
	// what the core does with it (firmware/testdata/pickup_caller.txt)
	a.ua.Do(firmware.Hangup{Call: "out-1"})
	cancel := r3.request(sip.CANCEL)
	if cancel.CallID().Value() != "pick-early" {
		t.Fatalf("CANCEL for %s", cancel.CallID().Value())
	}
	r3.send(response(cancel, 200, "OK", "calleetag", nil, ""))
	r3.send(response(inv, 487, "Request Terminated", "calleetag", nil, ""))
	a.ua.Do(firmware.Answer{Call: off.Call})
	ok := r2.final()
	if ok.StatusCode != 200 {
		t.Fatalf("pickup INVITE: %d", ok.StatusCode)
	}
	if got := expect[firmware.CallFailed](a); got.Call != "out-1" || got.Status != 487 {
		t.Fatalf("CallFailed = %+v", got)
	}
	r3.request(sip.ACK)
}

// early-only names a confirmed dialog: 486; without it the confirmed call
// is replaced (an attended transfer). A call ringing here cannot be taken
// over: 481.
func TestPickupReplacesConfirmedAndIncoming(t *testing.T) {
	b := startPhone(t, "B", MediaTone)
	r1, r2, r3 := newRaw(t), newRaw(t), newRaw(t)
	_, ok := inviteAndAnswer(t, r1, b, "conf-old")
	myTag := tagOf(ok.To().Params)

	r2.send(r2.invite(b.port, "conf-early-only", "<sip:105@127.0.0.1>", sdpOffer,
		"Replaces: conf-old;to-tag="+myTag+";from-tag=rawtag;early-only"))
	if res := r2.final(); res.StatusCode != 486 {
		t.Fatalf("early-only against a confirmed dialog: %d, want 486", res.StatusCode)
	}

	r3.send(r3.invite(b.port, "ringing-here", "<sip:300@127.0.0.1>", sdpOffer))
	ring := expectOnly[firmware.CallOffered](b)
	b.ua.Do(firmware.Ring{Call: ring.Call})
	ringing := r3.recv().(*sip.Response)
	for ringing.StatusCode != 180 {
		ringing = r3.recv().(*sip.Response)
	}
	r2.send(r2.invite(b.port, "steal-ringing", "<sip:105@127.0.0.1>", sdpOffer,
		"Replaces: ringing-here;to-tag="+tagOf(ringing.To().Params)+";from-tag=rawtag;early-only"))
	if res := r2.final(); res.StatusCode != 481 {
		t.Fatalf("Replaces naming a call ringing here: %d, want 481", res.StatusCode)
	}
	assertQuiet(t, b)
}

const dialogEarlyIDs = `<?xml version="1.0"?>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="5" state="full" entity="sip:201@pbx">
 <dialog id="d1" call-id="abc@pc33" local-tag="calleetag" remote-tag="callertag" direction="recipient"><state>early</state>
  <remote><identity display="Alice">sip:300@pbx</identity><target uri="sip:300@192.0.2.33:5062"/></remote></dialog>
</dialog-info>`

// A dialog-info NOTIFY that names the ringing dialog hands the core its
// ids and the caller's target (else its identity); an id over its cap,
// or a missing one, hands it none.
func TestDialogInfoIDs(t *testing.T) {
	a, r := registered(t)
	a.ua.Do(firmware.Subscribe{ID: "blf0", Identity: 1, Event: "dialog", Accept: "application/dialog-info+xml",
		Target: fmt.Sprintf("sip:201@127.0.0.1:%d", r.port)})
	sub := r.request(sip.SUBSCRIBE)
	r.send(response(sub, 200, "OK", "n1", []string{"Expires: 600", fmt.Sprintf("Contact: <sip:201@127.0.0.1:%d>", r.port)}, ""))

	notify := func(body string) firmware.DialogStateChanged {
		t.Helper()
		r.send(r.notify(a.port, sub, "", "dialog", "active", "application/dialog-info+xml", body))
		if res := r.final(); res.StatusCode != 200 {
			t.Fatalf("NOTIFY: %d", res.StatusCode)
		}
		return expectOnly[firmware.DialogStateChanged](a)
	}
	want := firmware.DialogIDs{CallID: "abc@pc33", LocalTag: "calleetag", RemoteTag: "callertag", Target: "sip:300@192.0.2.33:5062"}
	if got := notify(dialogEarlyIDs); got.State != firmware.DialogEarly || got.Dialog != want {
		t.Fatalf("DialogStateChanged = %+v", got)
	}
	noTarget := strings.Replace(dialogEarlyIDs, `<target uri="sip:300@192.0.2.33:5062"/>`, "", 1)
	want.Target = "sip:300@pbx"
	if got := notify(noTarget); got.Dialog != want {
		t.Fatalf("without a target: %+v", got)
	}
	long := strings.Replace(dialogEarlyIDs, `call-id="abc@pc33"`, `call-id="`+strings.Repeat("x", 300)+`"`, 1)
	if got := notify(long); got.State != firmware.DialogEarly || got.Dialog != (firmware.DialogIDs{}) {
		t.Fatalf("call-id over its cap: %+v", got)
	}
	noTag := strings.Replace(dialogEarlyIDs, `local-tag="calleetag" `, "", 1)
	r.send(r.notify(a.port, sub, "", "dialog", "active", "application/dialog-info+xml", noTag))
	r.final()
	assertQuiet(t, a) // the same as the last: no ids
	if got := notify(dialogEarlyIDs); got.Dialog.RemoteTag != "callertag" {
		t.Fatalf("DialogStateChanged = %+v", got)
	}
	bidi := strings.Replace(dialogEarlyIDs, `remote-tag="callertag"`, `remote-tag="caller&#x202e;tag"`, 1)
	if got := notify(bidi); got.Dialog != (firmware.DialogIDs{}) {
		t.Fatalf("a tag that is not inert reached the core: %+v", got)
	}
}
