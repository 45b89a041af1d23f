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

// notify writes a NOTIFY to a phone on port, within the subscription
// whose SUBSCRIBE was sub (nil: an unsolicited one with callID).
func (r *raw) notify(port int, sub *sip.Request, callID, event, state, ctype, body string) string {
	from, to := fmt.Sprintf("<sip:201@127.0.0.1:%d>;tag=notifier", r.port), fmt.Sprintf("<sip:100@127.0.0.1:%d>", port)
	if sub != nil {
		callID = sub.CallID().Value()
		to = sub.From().Value()
	}
	r.peer = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	return fmt.Sprintf("NOTIFY sip:100@127.0.0.1:%d SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%s\r\n"+
		"Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d NOTIFY\r\n"+
		"Contact: <sip:201@127.0.0.1:%d>\r\nEvent: %s\r\nSubscription-State: %s\r\n"+
		"Content-Type: %s\r\nContent-Length: %d\r\n\r\n%s",
		port, r.port, randomHex(8), from, to, callID, time.Now().UnixNano()%100000, r.port, event, state, ctype, len(body), body)
}

const dialogEarly = `<?xml version="1.0"?>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="1" state="full" entity="sip:201@pbx">
 <dialog id="d1" call-id="abc" direction="recipient"><state>early</state>
  <remote><identity display="Alice">sip:300@pbx</identity></remote></dialog>
</dialog-info>`

const dialogConfirmed = `<?xml version="1.0"?>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="2" state="full" entity="sip:201@pbx">
 <dialog id="d1" call-id="abc" direction="recipient"><state>confirmed</state></dialog>
</dialog-info>`

const dialogIdle = `<?xml version="1.0"?>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="3" state="full" entity="sip:201@pbx"/>`

const dialogEntities = `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="4" state="full" entity="sip:201@pbx">
 <dialog id="d1"><state>early</state><remote><identity display="&lol2;">sip:300@pbx</identity></remote></dialog>
</dialog-info>`

const dialogUndefinedEntity = `<dialog-info state="full"><dialog id="d1"><state>&early;</state></dialog></dialog-info>`

// registered starts a phone registered as 100 at the raw peer.
func registered(t *testing.T) (*phone, *raw) {
	a := startPhone(t, "A", MediaTone)
	r := newRaw(t)
	a.ua.Register(Account{Identity: 1, User: "100", Host: fmt.Sprintf("127.0.0.1:%d", r.port), Password: "100-pw"})
	reg := r.request(sip.REGISTER)
	r.send(response(reg, 200, "OK", "reg1", []string{"Expires: 3600"}, ""))
	expectOnly[firmware.Registered](a)
	return a, r
}

func TestSubscribeDialog(t *testing.T) {
	a, r := registered(t)
	a.ua.Do(firmware.Subscribe{ID: "blf0", Identity: 1, Event: "dialog", Accept: "application/dialog-info+xml",
		Target: fmt.Sprintf("sip:201@127.0.0.1:%d", r.port)})
	sub := r.request(sip.SUBSCRIBE)
	for name, want := range map[string]string{"Event": "dialog", "Accept": "application/dialog-info+xml", "Expires": "3600"} {
		if h := sub.GetHeader(name); h == nil || h.Value() != want {
			t.Fatalf("%s = %v, want %s", name, h, want)
		}
	}
	r.send(response(sub, 401, "Unauthorized", "n1", []string{challenge401}, ""))
	sub = r.request(sip.SUBSCRIBE)
	checkDigest(t, sub.GetHeader("Authorization"), "SUBSCRIBE", "100", "100-pw")
	r.send(response(sub, 200, "OK", "n1", []string{"Expires: 600", fmt.Sprintf("Contact: <sip:201@127.0.0.1:%d>", r.port)}, ""))

	r.send(r.notify(a.port, sub, "", "dialog", "active;expires=600", "application/dialog-info+xml", dialogEarly))
	if res := r.final(); res.StatusCode != 200 {
		t.Fatalf("NOTIFY: %d", res.StatusCode)
	}
	got := expectOnly[firmware.DialogStateChanged](a)
	if got.Sub != "blf0" || got.State != firmware.DialogEarly || got.Remote.Display != "Alice" || got.Remote.URI != "sip:300@pbx" {
		t.Fatalf("DialogStateChanged = %+v", got)
	}
	// the same state again: nothing new for the core
	r.send(r.notify(a.port, sub, "", "dialog", "active", "application/dialog-info+xml", dialogEarly))
	r.final()
	r.send(r.notify(a.port, sub, "", "dialog", "active", "application/dialog-info+xml", dialogConfirmed))
	r.final()
	if got := expectOnly[firmware.DialogStateChanged](a); got.State != firmware.DialogConfirmed {
		t.Fatalf("DialogStateChanged = %+v", got)
	}

	// malformed bodies: refused, the core hears nothing
	for _, body := range []string{dialogEntities, dialogUndefinedEntity, "<dialog-info><dialog>", "not xml"} {
		r.send(r.notify(a.port, sub, "", "dialog", "active", "application/dialog-info+xml", body))
		if res := r.final(); res.StatusCode != 400 {
			t.Fatalf("malformed NOTIFY: %d, want 400", res.StatusCode)
		}
	}
	// a NOTIFY for no subscription
	r.send(r.notify(a.port, nil, "unknown-call", "dialog", "active", "application/dialog-info+xml", dialogIdle))
	if res := r.final(); res.StatusCode != 481 {
		t.Fatalf("unknown NOTIFY: %d, want 481", res.StatusCode)
	}
	// the wrong package for this subscription
	r.send(r.notify(a.port, sub, "", "presence", "active", "application/pidf+xml", ""))
	if res := r.final(); res.StatusCode != 489 {
		t.Fatalf("wrong event: %d, want 489", res.StatusCode)
	}
	assertQuiet(t, a)

	r.send(r.notify(a.port, sub, "", "dialog", "active", "application/dialog-info+xml", dialogIdle))
	r.final()
	if got := expectOnly[firmware.DialogStateChanged](a); got.State != firmware.DialogTerminated {
		t.Fatalf("DialogStateChanged = %+v", got)
	}

	// terminated by the notifier: subscribed again at once, in a new dialog
	r.send(r.notify(a.port, sub, "", "dialog", "terminated;reason=deactivated", "application/dialog-info+xml", ""))
	r.final()
	again := r.request(sip.SUBSCRIBE)
	if again.CallID().Value() == sub.CallID().Value() {
		t.Fatal("re-SUBSCRIBE in the old dialog")
	}
	r.send(response(again, 200, "OK", "n2", []string{"Expires: 600"}, ""))

	// Unsubscribe: Expires 0 in the dialog
	a.ua.Do(firmware.Unsubscribe{ID: "blf0"})
	bye := r.request(sip.SUBSCRIBE)
	if h := bye.GetHeader("Expires"); h == nil || h.Value() != "0" || bye.CallID().Value() != again.CallID().Value() {
		t.Fatalf("unsubscribe: Expires %v Call-ID %s", h, bye.CallID().Value())
	}
	r.send(response(bye, 200, "OK", "n2", nil, ""))
}

func TestSubscribeFailureBacksOff(t *testing.T) {
	old := subFirstRetry
	subFirstRetry = 300 * time.Millisecond
	t.Cleanup(func() { subFirstRetry = old })
	a, r := registered(t)
	a.ua.Do(firmware.Subscribe{ID: "mwi1", Identity: 1, Event: "message-summary", Target: fmt.Sprintf("sip:100@127.0.0.1:%d", r.port)})
	sub := r.request(sip.SUBSCRIBE)
	start := time.Now()
	r.send(response(sub, 403, "Forbidden", "n1", nil, ""))
	if got := expectOnly[firmware.SubscriptionFailed](a); got.Sub != "mwi1" || got.Status != 403 {
		t.Fatalf("SubscriptionFailed = %+v", got)
	}
	sub2 := r.request(sip.SUBSCRIBE)
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("retried after %v", d)
	}
	if sub2.CallID().Value() == sub.CallID().Value() {
		t.Fatal("retry in the failed dialog")
	}
	r.send(response(sub2, 200, "OK", "n1", []string{"Expires: 600"}, ""))
	r.send(r.notify(a.port, sub2, "", "message-summary", "active", "application/simple-message-summary",
		"Messages-Waiting: yes\r\nMessage-Account: sip:*97@pbx\r\nVoice-Message: 2/8 (0/2)\r\n"))
	r.final()
	got := expectOnly[firmware.MessageSummary](a)
	if got != (firmware.MessageSummary{Identity: 1, Waiting: true, New: 2, Old: 8, UrgentNew: 0, UrgentOld: 2}) {
		t.Fatalf("MessageSummary = %+v", got)
	}
}

// An unsolicited message summary is taken (200, not 481).
func TestUnsolicitedMWI(t *testing.T) {
	a, r := registered(t)
	r.send(r.notify(a.port, nil, "mwi-unsolicited", "message-summary", "active", "application/simple-message-summary",
		"Messages-Waiting: no\r\nVoice-Message: 0/3\r\n"))
	if res := r.final(); res.StatusCode != 200 {
		t.Fatalf("unsolicited MWI: %d", res.StatusCode)
	}
	if got := expectOnly[firmware.MessageSummary](a); got.Identity != 1 || got.Waiting || got.Old != 3 {
		t.Fatalf("MessageSummary = %+v", got)
	}
	r.send(r.notify(a.port, nil, "mwi-bad", "message-summary", "active", "application/simple-message-summary", "Voice-Message: 1/1\r\n"))
	if res := r.final(); res.StatusCode != 400 {
		t.Fatalf("summary without Messages-Waiting: %d", res.StatusCode)
	}
	assertQuiet(t, a)
}

func TestParseDialogInfoLimits(t *testing.T) {
	if _, err := parseDialogInfo([]byte(dialogEntities)); err == nil {
		t.Fatal("a DTD with entities was accepted")
	}
	if _, err := parseDialogInfo([]byte(dialogUndefinedEntity)); err == nil {
		t.Fatal("an undefined entity was accepted")
	}
	big := `<dialog-info state="full">` + strings.Repeat(" ", maxNotifyBody) + `</dialog-info>`
	if _, err := parseDialogInfo([]byte(big)); err == nil {
		t.Fatal("an oversized body was accepted")
	}
	many := `<dialog-info state="full">` + strings.Repeat(`<dialog id="x"><state>early</state></dialog>`, maxDialogs+1) + `</dialog-info>`
	if _, err := parseDialogInfo([]byte(many)); err == nil {
		t.Fatal("too many dialogs accepted")
	}
	info, err := parseDialogInfo([]byte(`<dialog-info state="full"><dialog id="x" direction="initiator"><state>early</state></dialog></dialog-info>`))
	if err != nil {
		t.Fatal(err)
	}
	if e := aggregate("k", map[string]dialogEntry{"x": info.Dialogs[0]}); e.State != firmware.DialogConfirmed {
		t.Fatalf("calling out: %s, want confirmed", e.State)
	}
}
