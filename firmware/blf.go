package firmware

import (
	"strconv"
	"strings"
)

// Busy-lamp field (RFC 4235) and the subscriptions behind it.
//
// A `blf <sip:201@pbx>` key (snom's form; `blf <sip:201@pbx>|*8` adds a
// directed pickup prefix) subscribes to the dialog event package of its
// extension once the identity that watches it (the first identity with a
// registrar) is registered. The SIP adapter keeps the subscription up
// (refresh, back-off after failures), parses the NOTIFYs and hands the
// core one aggregated state per subscription: DialogStateChanged. The
// core drives the key's LED from it: terminated → off, early → fast
// blink (with the ringing caller on the display), confirmed → on.
// Pressing the key: idle → call the extension; ringing → pick the call
// up (dial prefix+extension when the key has a pickup prefix, else call
// the extension); busy → call the extension.

// Dialog states as the adapter reports them (RFC 4235 §3.7.1, aggregated
// over the extension's dialogs).
const (
	DialogTerminated = "terminated" // idle
	DialogEarly      = "early"      // the extension rings (trying, proceeding, early)
	DialogConfirmed  = "confirmed"  // the extension is in a call
)

// DialogStateChanged is a NOTIFY of the dialog event package for the
// subscription Sub (a Subscribe's ID): the watched extension's state,
// and, while it rings, who calls it (network text, made inert by the
// adapter).
type DialogStateChanged struct {
	Sub    string
	State  string // DialogTerminated, DialogEarly, DialogConfirmed
	Remote Party
}

// SubscriptionFailed reports that a subscription was refused, timed out
// or terminated by the notifier; the adapter tries again after a pause.
type SubscriptionFailed struct {
	Sub    string
	Status int
	Reason string
}

// Subscribe asks the SIP adapter to keep a subscription (RFC 6665) up:
// SUBSCRIBE Target with Event and Accept, the credentials of Identity,
// refreshed before it expires, again after failures. A Subscribe with an
// ID already in force replaces it when anything differs.
type Subscribe struct {
	ID       string // "blf<key index>" or "mwi<identity>"
	Identity int
	Event    string // "dialog", "message-summary"
	Accept   string // "application/dialog-info+xml", ...
	Target   string // SIP URI
}

// Unsubscribe ends a subscription (SUBSCRIBE with Expires: 0).
type Unsubscribe struct{ ID string }

func (DialogStateChanged) event() {}
func (SubscriptionFailed) event() {}
func (Subscribe) effect()         {}
func (Unsubscribe) effect()       {}

// subState is the phone's subscriptions: the BLF states per key index and
// the mailboxes per identity.
type subState struct {
	blf       map[int]blfState
	mailboxes map[int]Mailbox
}

type blfState struct {
	state  string
	remote Party
}

// blfArg splits a blf key's argument: the URI and the pickup prefix.
func blfArg(arg string) (uri, prefix string) {
	uri, prefix, _ = strings.Cut(arg, "|")
	uri = strings.TrimSpace(uri)
	uri = strings.TrimSuffix(strings.TrimPrefix(uri, "<"), ">")
	return uri, strings.TrimSpace(prefix)
}

// blfUser is the user part of a blf URI (the extension).
func blfUser(uri string) string {
	u := strings.TrimPrefix(strings.TrimPrefix(uri, "sip:"), "sips:")
	if at := strings.IndexByte(u, '@'); at >= 0 {
		u = u[:at]
	}
	return u
}

// blfIdentity is the identity BLF subscriptions go through: the first
// one with a registrar.
func (p *Phone) blfIdentity() int {
	for i := 1; i <= len(p.regs)-1; i++ {
		if p.s.Get("user_host"+strconv.Itoa(i)) != "" && p.s.Get("user_name"+strconv.Itoa(i)) != "" {
			return i
		}
	}
	return 0
}

// subscribeAll asks for the subscriptions that go through identity i,
// now that it is registered.
func (p *Phone) subscribeAll(i int) {
	if i == p.blfIdentity() {
		for k := range p.keys {
			if p.keys[k].kind != "blf" {
				continue
			}
			uri, _ := blfArg(p.keys[k].arg)
			if uri == "" {
				continue
			}
			target := p.targetURI(uri, i)
			if err := CheckSIPURI(target); err != nil {
				p.logf(Warning, "blf key "+strconv.Itoa(k+1)+": invalid target "+quoteShort(uri)+": "+err.Error())
				continue
			}
			p.emit(Subscribe{ID: "blf" + strconv.Itoa(k), Identity: i, Event: "dialog",
				Accept: "application/dialog-info+xml", Target: target})
		}
	}
	p.subscribeMWI(i)
}

// blfKey is the key index of a blf subscription ID, or -1.
func (p *Phone) blfKey(sub string) int {
	n, ok := strings.CutPrefix(sub, "blf")
	if !ok {
		return -1
	}
	k, err := strconv.Atoi(n)
	if err != nil || k < 0 || k >= len(p.keys) || p.keys[k].kind != "blf" {
		return -1
	}
	return k
}

func (p *Phone) dialogState(e DialogStateChanged) {
	k := p.blfKey(e.Sub)
	if k < 0 {
		p.logf(Debug, "dialog state for unknown subscription "+quoteShort(e.Sub))
		return
	}
	switch e.State {
	case DialogTerminated, DialogEarly, DialogConfirmed:
	default:
		p.logf(Debug, "blf: unknown dialog state "+quoteShort(e.State))
		return
	}
	if p.sub.blf == nil {
		p.sub.blf = map[int]blfState{}
	}
	old := p.sub.blf[k]
	p.sub.blf[k] = blfState{state: e.State, remote: e.Remote}
	if old.state == e.State && old.remote == e.Remote {
		return
	}
	label := p.keys[k].label
	p.logf(Info, "blf "+quoteShort(label)+": "+e.State)
	if e.State == DialogEarly {
		who := e.Remote.Display
		if n := p.s.NameFor(e.Remote.URI); n != "" {
			who = n
		}
		if who == "" {
			who = blfUser(e.Remote.URI)
		}
		msg := label + " ringing"
		if who != "" {
			msg += ": " + who
		}
		p.say(msg)
	}
	p.syncLEDs()
	p.render()
}

func (p *Phone) subscriptionFailed(e SubscriptionFailed) {
	p.logf(Warning, "subscription "+quoteShort(e.Sub)+" failed: "+strconv.Itoa(e.Status)+" "+quoteShort(e.Reason))
	if k := p.blfKey(e.Sub); k >= 0 {
		delete(p.sub.blf, k)
		p.syncLEDs()
		p.render()
	}
}

// blfLED is a blf key's LED.
func (p *Phone) blfLED(k int) LED {
	switch p.sub.blf[k].state {
	case DialogEarly:
		return LED{LEDFastBlink, Red}
	case DialogConfirmed:
		return LED{LEDOn, Red}
	}
	return LED{}
}

// blfTarget is what pressing blf key k dials: the extension, or the
// pickup prefix and the extension while it rings.
func (p *Phone) blfTarget(k int) string {
	uri, prefix := blfArg(p.keys[k].arg)
	if prefix != "" && p.sub.blf[k].state == DialogEarly {
		return prefix + blfUser(uri)
	}
	return uri
}

// keyLED is the LED of the keys this file and mwi.go drive; ok false for
// the others.
func (p *Phone) keyLED(k *fkey) (LED, bool) {
	for i := range p.keys {
		if &p.keys[i] != k {
			continue
		}
		switch {
		case k.kind == "blf":
			return p.blfLED(i), true
		case k.kind == "keyevent" && strings.EqualFold(k.arg, "F_VOICEMAIL"):
			return p.mwiLED(), true
		}
	}
	return LED{}, false
}

// ownKeyEvents are the keyevent names pressSubscribed acts on (they press
// no hard key).
var ownKeyEvents = map[string]bool{"F_VOICEMAIL": true}

// pressSubscribed handles a press of a key this file or mwi.go owns;
// false: the caller handles it.
func (p *Phone) pressSubscribed(i int) bool {
	k := &p.keys[i]
	if k.kind == "keyevent" && strings.EqualFold(k.arg, "F_VOICEMAIL") {
		p.dialMailbox()
		return true
	}
	return false
}
