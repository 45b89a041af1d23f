package sipua

import (
	"fmt"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
)

// notifyFrom is an in-dialog NOTIFY from raw about a REFER, with a
// message/sipfrag body.
func notifyFrom(r *raw, ok *sip.Response, callID string, seq int, frag, state string) string {
	body := frag + "\r\n"
	return fmt.Sprintf("NOTIFY %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-notify-%s-%d\r\nMax-Forwards: 70\r\n"+
		"From: <sip:raw@127.0.0.1>;tag=rawtag\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d NOTIFY\r\nEvent: refer\r\n"+
		"Subscription-State: %s\r\nContent-Type: message/sipfrag;version=2.0\r\nContent-Length: %d\r\n\r\n%s",
		ok.Contact().Address.String(), r.port, callID, seq, ok.To().Value(), callID, seq, state, len(body), body)
}

// Attended transfer (RFC 5589 §7): the REFER goes to the held party and
// names the consultation dialog in Replaces; the NOTIFYs decide.
func TestAttendedTransferOut(t *testing.T) {
	b := startPhone(t, "B", MediaTone)
	r1, r2 := newRaw(t), newRaw(t)
	off1, ok1 := inviteAndAnswer(t, r1, b, "att-held")
	off2, ok2 := inviteAndAnswer(t, r2, b, "att-consult@host")

	// Refused by the REFER's answer: the core hears why.
	b.ua.Do(firmware.AttendedTransfer{Call: off1.Call, Consult: off2.Call})
	refer := r1.request(sip.REFER)
	want := fmt.Sprintf("<sip:raw@127.0.0.1:%d?Replaces=att-consult%%40host%%3Bto-tag%%3Drawtag%%3Bfrom-tag%%3D%s>",
		r2.port, tagOf(ok2.To().Params))
	if h := refer.GetHeader("Refer-To"); h == nil || h.Value() != want {
		t.Fatalf("Refer-To = %v, want %s", h, want)
	}
	r1.send(response(refer, 403, "Forbidden", "", nil, ""))
	if got := expectOnly[firmware.AttendedTransferDone](b); got != (firmware.AttendedTransferDone{Call: off1.Call,
		Consult: off2.Call, Status: 403, Reason: "Forbidden"}) {
		t.Fatalf("AttendedTransferDone = %+v", got)
	}

	// Accepted, but the new call fails: reported by NOTIFY.
	acceptTransfer(t, b, r1, off1.Call, off2.Call)
	r1.send(notifyFrom(r1, ok1, "att-held", 2, "SIP/2.0 100 Trying", "active;expires=60"))
	if res := r1.final(); res.StatusCode != 200 {
		t.Fatalf("NOTIFY: %d", res.StatusCode)
	}
	r1.send(notifyFrom(r1, ok1, "att-held", 3, "SIP/2.0 486 Busy Here", "terminated;reason=noresource"))
	if res := r1.final(); res.StatusCode != 200 {
		t.Fatalf("NOTIFY: %d", res.StatusCode)
	}
	if got := expectOnly[firmware.AttendedTransferDone](b); got.OK || got.Status != 486 || got.Reason != "Busy Here" {
		t.Fatalf("AttendedTransferDone = %+v", got)
	}

	// Success: the core ends both calls.
	acceptTransfer(t, b, r1, off1.Call, off2.Call)
	r1.send(notifyFrom(r1, ok1, "att-held", 4, "SIP/2.0 200 OK", "terminated;reason=noresource"))
	if res := r1.final(); res.StatusCode != 200 {
		t.Fatalf("NOTIFY: %d", res.StatusCode)
	}
	if got := expectOnly[firmware.AttendedTransferDone](b); !got.OK || got.Status != 200 || got.Consult != off2.Call {
		t.Fatalf("AttendedTransferDone = %+v", got)
	}
	b.ua.Do(firmware.Hangup{Call: off1.Call})
	b.ua.Do(firmware.Hangup{Call: off2.Call})
	for _, r := range []*raw{r1, r2} {
		bye := r.request(sip.BYE)
		r.send(response(bye, 200, "OK", "", nil, ""))
	}
	assertQuiet(t, b)
}

func TestEscapeHeaderValue(t *testing.T) {
	if got := escapeHeaderValue("a@b;to-tag=x y"); got != "a%40b%3Bto-tag%3Dx%20y" {
		t.Fatal(got)
	}
	if _, _, ok := sipfragStatus([]byte("SIP/2.0 180 Ringing\r\n")); !ok {
		t.Fatal("sipfrag")
	}
	if !strings.Contains(escapeHeaderValue("é"), "%C3%A9") {
		t.Fatal(escapeHeaderValue("é"))
	}
}

// inDialogFrom is a request from raw in the dialog of ok (B's 200).
func inDialogFrom(r *raw, ok *sip.Response, callID, method string, seq int, extra, body string) string {
	return fmt.Sprintf("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%s-%s-%d\r\nMax-Forwards: 70\r\n"+
		"From: <sip:raw@127.0.0.1>;tag=rawtag\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:raw@127.0.0.1:%d>\r\n%sContent-Length: %d\r\n\r\n%s",
		method, ok.Contact().Address.String(), r.port, method, callID, seq, ok.To().Value(), callID, seq, method, r.port, extra, len(body), body)
}

// An incoming REFER: a SIP URI is accepted and reported with NOTIFYs;
// anything else gets its code and changes nothing.
func TestReferIn(t *testing.T) {
	b := startPhone(t, "B", MediaTone)
	r := newRaw(t)
	off, ok := inviteAndAnswer(t, r, b, "refin")

	for i, c := range []struct {
		hdr  string
		want int
	}{
		{"", 400},
		{"Refer-To: <tel:+4930123>\r\n", 403},
		{"Refer-To: <http://example.com/>\r\n", 403},
		{"Refer-To: <sip:a@h>\r\nRefer-To: <sip:b@h>\r\n", 400},
		{"Refer-To: <sip:a@h?Replaces=nonsense>\r\n", 400},
	} {
		r.send(inDialogFrom(r, ok, "refin", "REFER", 2+i, c.hdr, ""))
		if res := r.final(); res.StatusCode != c.want {
			t.Errorf("REFER %q: %d, want %d", c.hdr, res.StatusCode, c.want)
		}
	}
	assertQuiet(t, b)

	r.send(inDialogFrom(r, ok, "refin", "REFER", 10,
		"Refer-To: <sip:carol@127.0.0.1:5099?Replaces=x%40y%3Bto-tag%3Da%3Bfrom-tag%3Db>\r\nReferred-By: <sip:raw@127.0.0.1>\r\n", ""))
	if res := r.final(); res.StatusCode != 202 {
		t.Fatalf("REFER: %d", res.StatusCode)
	}
	n := r.request(sip.NOTIFY)
	if string(n.Body()) != "SIP/2.0 100 Trying\r\n" || n.GetHeader("Event").Value() != "refer" ||
		!strings.HasPrefix(n.GetHeader("Subscription-State").Value(), "active") {
		t.Fatalf("first NOTIFY: %s", n)
	}
	r.send(response(n, 200, "OK", "", nil, ""))
	got := expectOnly[firmware.CallReferred](b)
	if got.Call != off.Call || got.Target != "sip:carol@127.0.0.1:5099" || got.Replaces != "x@y;to-tag=a;from-tag=b" {
		t.Fatalf("CallReferred = %+v", got)
	}
	b.ua.Do(firmware.ReferProgress{Call: off.Call, Status: 200, Reason: "OK"})
	n = r.request(sip.NOTIFY)
	if string(n.Body()) != "SIP/2.0 200 OK\r\n" || !strings.HasPrefix(n.GetHeader("Subscription-State").Value(), "terminated") {
		t.Fatalf("final NOTIFY: %s", n)
	}
	r.send(response(n, 200, "OK", "", nil, ""))
	assertQuiet(t, b)
}

// The call a REFER with Replaces places carries the Replaces header; an
// INVITE whose Replaces names one of our dialogs is offered as replacing
// it, one naming none gets 481.
func TestReplaces(t *testing.T) {
	b := startPhone(t, "B", MediaTone)
	r1, r2, r3 := newRaw(t), newRaw(t), newRaw(t)

	b.ua.Do(firmware.Dial{Call: "out-1", SIPCallID: "rep-out", Target: fmt.Sprintf("sip:carol@127.0.0.1:%d", r3.port),
		From: firmware.Party{URI: "sip:bob@127.0.0.1"}, Identity: 1, Replaces: "x@y;to-tag=a;from-tag=b"})
	inv := r3.request(sip.INVITE)
	if h := inv.GetHeader("Replaces"); h == nil || h.Value() != "x@y;to-tag=a;from-tag=b" {
		t.Fatalf("Replaces = %v", h)
	}
	r3.send(response(inv, 486, "Busy Here", "r3tag", nil, ""))
	expect[firmware.CallFailed](b)

	off, ok := inviteAndAnswer(t, r1, b, "rep-old")
	newInv := r2.invite(b.port, "rep-new", "<sip:raw@127.0.0.1>", sdpOffer,
		"Replaces: rep-old;to-tag="+tagOf(ok.To().Params)+";from-tag=rawtag", "Require: replaces")
	r2.send(newInv)
	got := expectOnly[firmware.CallOffered](b)
	if got.Replaces != off.Call {
		t.Fatalf("CallOffered.Replaces = %q, want %q", got.Replaces, off.Call)
	}
	b.ua.Do(firmware.Reject{Call: got.Call, Status: 486})
	res := r2.final()
	if res.StatusCode != 486 {
		t.Fatalf("got %d", res.StatusCode)
	}
	r2.ackFinal(newInv, res)

	for i, repl := range []string{"nosuch;to-tag=a;from-tag=b", "rep-old;to-tag=wrong;from-tag=rawtag", "rep-old"} {
		r2.send(r2.invite(b.port, fmt.Sprintf("rep-bad%d", i), "<sip:raw@127.0.0.1>", sdpOffer, "Replaces: "+repl))
		if res := r2.final(); res.StatusCode != 481 {
			t.Errorf("Replaces %q: %d, want 481", repl, res.StatusCode)
		}
	}
	assertQuiet(t, b)
}

// A transferee that hangs up once its new call is up may have its BYE
// overtake the NOTIFY: the transfer is taken as done.
func TestAttendedTransferByeOvertakesNotify(t *testing.T) {
	b := startPhone(t, "B", MediaTone)
	r1, r2 := newRaw(t), newRaw(t)
	off1, ok1 := inviteAndAnswer(t, r1, b, "bye-held")
	off2, _ := inviteAndAnswer(t, r2, b, "bye-consult")
	acceptTransfer(t, b, r1, off1.Call, off2.Call)
	r1.send(inDialogFrom(r1, ok1, "bye-held", "BYE", 5, "", ""))
	if res := r1.final(); res.StatusCode != 200 {
		t.Fatalf("BYE: %d", res.StatusCode)
	}
	if got := expectOnly[firmware.AttendedTransferDone](b); !got.OK || got.Consult != off2.Call {
		t.Fatalf("AttendedTransferDone = %+v", got)
	}
	if got := expectOnly[firmware.CallEnded](b); got.Call != off1.Call || got.Reason != "bye" {
		t.Fatalf("CallEnded = %+v", got)
	}
}

// acceptTransfer has b transfer held to consult, attended; the
// transferee r accepts the REFER (202) and the core hears so.
func acceptTransfer(t *testing.T, b *phone, r *raw, held, consult firmware.CallID) {
	t.Helper()
	b.ua.Do(firmware.AttendedTransfer{Call: held, Consult: consult})
	refer := r.request(sip.REFER)
	r.send(response(refer, 202, "Accepted", "", nil, ""))
	expectAccepted(t, b, held, consult)
}

// expectAccepted waits for the core to hear that the transferee accepted
// the REFER (its wait for the outcome starts then).
func expectAccepted(t *testing.T, b *phone, held, consult firmware.CallID) {
	t.Helper()
	if got := expectOnly[firmware.AttendedTransferAccepted](b); got != (firmware.AttendedTransferAccepted{Call: held, Consult: consult}) {
		t.Fatalf("AttendedTransferAccepted = %+v", got)
	}
}

// A transferee that accepts the REFER and then never sends a final
// NOTIFY: the adapter tells the core the REFER was accepted and then
// reports nothing more (the core's wait, firmware's xferNotifyTicks,
// decides); the core's Hangups end both calls with a BYE each, and a
// NOTIFY arriving after that gets 481 and reaches the core not at all.
func TestAttendedTransferNoFinalNotify(t *testing.T) {
	b := startPhone(t, "B", MediaTone)
	r1, r2 := newRaw(t), newRaw(t)
	off1, ok1 := inviteAndAnswer(t, r1, b, "silent-held")
	off2, _ := inviteAndAnswer(t, r2, b, "silent-consult")
	acceptTransfer(t, b, r1, off1.Call, off2.Call)
	r1.send(notifyFrom(r1, ok1, "silent-held", 2, "SIP/2.0 100 Trying", "active;expires=60"))
	if res := r1.final(); res.StatusCode != 200 {
		t.Fatalf("NOTIFY: %d", res.StatusCode)
	}
	assertQuiet(t, b) // a provisional sipfrag decides nothing

	// the core's wait ran out: it releases both calls
	b.ua.Do(firmware.Hangup{Call: off1.Call})
	b.ua.Do(firmware.Hangup{Call: off2.Call})
	for _, r := range []*raw{r1, r2} {
		bye := r.request(sip.BYE)
		r.send(response(bye, 200, "OK", "", nil, ""))
	}
	eventually(t, "calls gone", func() bool {
		b.ua.mu.Lock()
		defer b.ua.mu.Unlock()
		return b.ua.calls[off1.Call] == nil && b.ua.calls[off2.Call] == nil
	})
	r1.send(notifyFrom(r1, ok1, "silent-held", 3, "SIP/2.0 200 OK", "terminated;reason=noresource"))
	if res := r1.final(); res.StatusCode != 481 {
		t.Fatalf("late NOTIFY: %d, want 481", res.StatusCode)
	}
	assertQuiet(t, b)
}
