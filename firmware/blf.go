package firmware

import (
	"errors"
	"sort"
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
// up; busy → call the extension. Picking up, as a snom does: a key with
// a pickup prefix dials prefix+extension (the PBX's directed pickup code:
// the user configured it, so it wins); without one, when the NOTIFY
// named the ringing dialog (call-id and both tags) and where its caller
// is reached, the phone sends that caller an INVITE with Replaces:
// call-id;to-tag=<caller's tag>;from-tag=<extension's tag>;early-only
// (RFC 3891: the tags as the caller, who receives it, sees its dialog);
// the caller answers it and CANCELs its ringing call. Without ids, or
// with ids that are not fit to send, the key calls the extension.

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
	Dialog DialogIDs // the ringing dialog, when the notifier named it
}

// DialogIDs name the dialog that rings at a watched extension, as its
// dialog-info says (RFC 4235 §4.1: call-id, local-tag, remote-tag, from
// the extension's side: local is the extension's tag, remote the
// caller's), and Target, where the caller is reached (the remote target,
// else the remote identity). Network text: the core checks it before it
// puts any of it in an INVITE (pickupInvite).
type DialogIDs struct {
	CallID, LocalTag, RemoteTag string
	Target                      string
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
	active    map[string]Subscribe // asked for and not ended, by ID
	bad       map[string]string    // blf keys with an invalid target (logged once), by ID
}

type blfState struct {
	state  string
	remote Party
	dialog DialogIDs // while early
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

// subscribeAll asks again for every subscription that goes through
// identity i, now that it is registered (the adapter keeps one it has
// already), and brings the others in line with the settings.
func (p *Phone) subscribeAll(i int) {
	p.syncSubscriptions(i)
}

// resubscribe brings the subscriptions in line with settings that changed
// while the phone runs (applySettings): a blf key or mailbox that went
// away is unsubscribed and its LED state forgotten, a new one subscribed,
// one whose target changed subscribed anew; the others are left alone.
func (p *Phone) resubscribe() {
	p.syncSubscriptions(0)
}

// wantedSubs is what the settings ask for now, by ID: each blf key
// through its identity (fkey_context, else the watching one) and each
// identity's mailbox, for identities that are registered.
func (p *Phone) wantedSubs() map[string]Subscribe {
	want := map[string]Subscribe{}
	registered := func(i int) bool {
		return i >= 1 && i < len(p.regs) && p.regs[i].registered && p.s.On("user_active"+strconv.Itoa(i))
	}
	bad := map[string]string{}
	watcher := p.blfIdentity()
	for k := range p.keys {
		if p.keys[k].kind != "blf" {
			continue
		}
		i := watcher // the key's fkey_context, else the first identity with a registrar
		if p.keys[k].context > 0 {
			i = p.keys[k].context
		}
		if !registered(i) {
			continue
		}
		uri, _ := blfArg(p.keys[k].arg)
		if uri == "" {
			continue
		}
		id := "blf" + strconv.Itoa(k)
		target := p.targetURI(uri, i)
		if err := CheckSIPURI(target); err != nil {
			bad[id] = uri
			if p.sub.bad[id] != uri { // said once per key and value
				p.logf(Warning, "blf key "+strconv.Itoa(k+1)+": invalid target "+quoteShort(uri)+": "+err.Error())
			}
			continue
		}
		want[id] = Subscribe{ID: id, Identity: i, Event: "dialog",
			Accept: "application/dialog-info+xml", Target: target}
	}
	p.sub.bad = bad
	for i := 1; i < len(p.regs); i++ {
		if s, ok := p.mwiSubscription(i); ok && registered(i) {
			want[s.ID] = s
		}
	}
	return want
}

// syncSubscriptions diffs the wanted subscriptions against those in
// force: Unsubscribe the gone ones, Subscribe the new and changed ones
// (and again all of identity reassert's, 0 none), in ID order.
func (p *Phone) syncSubscriptions(reassert int) {
	want := p.wantedSubs()
	if p.sub.active == nil {
		p.sub.active = map[string]Subscribe{}
	}
	var gone, subscribe []string
	for id, s := range p.sub.active {
		if w, ok := want[id]; !ok {
			gone = append(gone, id)
		} else if w != s {
			p.forget(id) // the state was about the old target
		}
	}
	for id, w := range want {
		if s, ok := p.sub.active[id]; !ok || s != w || w.Identity == reassert {
			subscribe = append(subscribe, id)
		}
	}
	sort.Strings(gone)
	sort.Strings(subscribe)
	for _, id := range gone {
		p.emit(Unsubscribe{ID: id})
		delete(p.sub.active, id)
		p.forget(id)
		p.logf(Info, "subscription "+quoteShort(id)+" ended: no longer configured")
	}
	for _, id := range subscribe {
		p.sub.active[id] = want[id]
		p.emit(want[id])
	}
	if len(gone) > 0 || len(subscribe) > 0 {
		p.syncLEDs()
	}
}

// forget drops what a subscription reported: a blf key's dialog state,
// an identity's message summary.
func (p *Phone) forget(id string) {
	if n, ok := strings.CutPrefix(id, "blf"); ok {
		if k, err := strconv.Atoi(n); err == nil {
			delete(p.sub.blf, k)
		}
	}
	if n, ok := strings.CutPrefix(id, "mwi"); ok {
		if i, err := strconv.Atoi(n); err == nil {
			delete(p.sub.mailboxes, i)
		}
	}
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
	if e.State != DialogEarly {
		e.Dialog = DialogIDs{}
	}
	p.sub.blf[k] = blfState{state: e.State, remote: e.Remote, dialog: e.Dialog}
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

// pickUp picks up the call ringing at blf key k's extension with an
// INVITE with Replaces to its caller; false when it cannot (no ids, a
// pickup prefix, the extension does not ring): the key dials instead.
func (p *Phone) pickUp(k int) bool {
	st := p.sub.blf[k]
	if st.state != DialogEarly || st.dialog == (DialogIDs{}) {
		return false
	}
	if _, prefix := blfArg(p.keys[k].arg); prefix != "" {
		return false
	}
	label := quoteShort(p.keys[k].label)
	target, replaces, err := pickupInvite(st.dialog)
	if err != nil {
		p.logf(Warning, "blf "+label+": no pickup with Replaces: "+err.Error()+"; calling the extension")
		return false
	}
	p.logf(Info, "blf "+label+": picking up the call from "+quoteShort(target))
	p.dialAs(target, p.keys[k].context, replaces)
	return true
}

// Caps on the dialog ids a pickup sends back.
const (
	maxCallIDLen = 256
	maxTagLen    = 128
)

// pickupInvite checks a ringing dialog's ids and builds the pickup
// INVITE's target and Replaces value; the error says what is unfit.
func pickupInvite(d DialogIDs) (target, replaces string, err error) {
	if d.CallID == "" || d.LocalTag == "" || d.RemoteTag == "" {
		return "", "", errors.New("the dialog ids are incomplete")
	}
	if !sipWord(d.CallID, maxCallIDLen, true) {
		return "", "", errors.New("call-id " + quoteShort(d.CallID) + " is not a Call-ID")
	}
	for _, tag := range []string{d.LocalTag, d.RemoteTag} {
		if !sipWord(tag, maxTagLen, false) {
			return "", "", errors.New("tag " + quoteShort(tag) + " is not a token")
		}
	}
	if d.Target == "" {
		return "", "", errors.New("no caller to send it to")
	}
	if err := CheckSIPURI(d.Target); err != nil {
		return "", "", errors.New("caller " + quoteShort(d.Target) + ": " + err.Error())
	}
	if strings.Contains(d.Target, "?") {
		return "", "", errors.New("caller " + quoteShort(d.Target) + " has URI headers")
	}
	return d.Target, d.CallID + ";to-tag=" + d.RemoteTag + ";from-tag=" + d.LocalTag + ";early-only", nil
}

// sipWord tells whether s is a token (RFC 3261 §25.1), or, callID, a
// Call-ID (word ["@" word]) without quotes, angle brackets or backslashes,
// of at most max bytes.
func sipWord(s string, max int, callID bool) bool {
	if s == "" || len(s) > max {
		return false
	}
	ats := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-.!%*_+`'~", c) >= 0:
		case callID && strings.IndexByte("()/:[]?{}", c) >= 0:
		case callID && c == '@' && ats == 0 && i > 0 && i < len(s)-1:
			ats++
		default:
			return false
		}
	}
	return true
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
