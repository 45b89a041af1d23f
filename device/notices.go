package device

import (
	"fmt"
	"strings"

	"phonesim/firmware"
	"phonesim/provisioning"
	"phonesim/webui"
)

// The notices the phone publishes on /api/events: one JSON shape per
// kind, snake_case keys, never a Go value as is (docs/web.md lists them).
// Text from the network (display names, reasons, targets) was made inert
// by the SIP adapter and is passed on as is; JSON escapes it.

// keyPressedNotice is "key_pressed": a key went down (keypad, terminal,
// /command.htm).
type keyPressedNotice struct {
	Key string `json:"key"` // snom's key name: "5", "#", "OFFHOOK", "P3", "F1"
}

// numberDialedNotice is "number_dialed" (/command.htm?number=).
type numberDialedNotice struct {
	Number string `json:"number"`
}

// callOfferedNotice is "call_offered": an incoming INVITE.
type callOfferedNotice struct {
	Call      string `json:"call"`        // the call's id, as in /api/state calls[].id
	SIPCallID string `json:"sip_call_id"` // the INVITE's Call-ID
	From      string `json:"from"`        // the caller's URI
	Display   string `json:"display"`     // the caller's display name
	To        string `json:"to"`          // the user part of the request URI
}

// callSentNotice is "call_sent": the INVITE of an outgoing call left.
type callSentNotice struct {
	Call      string `json:"call"`
	SIPCallID string `json:"sip_call_id"`
}

// callProgressedNotice is "call_progressed": 180, 183 to our INVITE.
type callProgressedNotice struct {
	Call   string `json:"call"`
	Status int    `json:"status"`
}

// callAnsweredNotice is "call_answered", for every call answered: the
// remote party answering our INVITE (direction "outgoing"), or this
// phone answering an incoming call (direction "incoming": a key, the web,
// auto answer).
type callAnsweredNotice struct {
	Call      string `json:"call"`
	Direction string `json:"direction"`
}

// callFailedNotice is "call_failed": a final error to our INVITE (status
// 0: a transport failure).
type callFailedNotice struct {
	Call   string `json:"call"`
	Status int    `json:"status"`
	Reason string `json:"reason"`
}

// callRedirectedNotice is "call_redirected": a 3xx to our INVITE; the
// phone calls target instead.
type callRedirectedNotice struct {
	Call   string `json:"call"`
	Status int    `json:"status"`
	Target string `json:"target"`
}

// callReasonNotice is "call_canceled" (the caller gave up before we
// answered; reason: the Reason header) and "call_ended" (the other side
// hung up, or the dialog died).
type callReasonNotice struct {
	Call   string `json:"call"`
	Reason string `json:"reason"`
}

// callTransferredNotice is "call_transferred": the outcome of a blind
// transfer.
type callTransferredNotice struct {
	Call   string `json:"call"`
	Target string `json:"target"`
	OK     bool   `json:"ok"`
	Status int    `json:"status"`
	Reason string `json:"reason"`
}

// dtmfReceivedNotice is "dtmf_received".
type dtmfReceivedNotice struct {
	Call  string `json:"call"`
	Digit string `json:"digit"` // one of 0-9 * # A-D
}

// registeredNotice is "registered".
type registeredNotice struct {
	Identity int `json:"identity"` // 1-12
}

// registrationFailedNotice is "registration_failed".
type registrationFailedNotice struct {
	Identity int    `json:"identity"`
	Status   int    `json:"status"`
	Reason   string `json:"reason"`
}

// settingsChangedNotice is "settings_changed": new settings in force
// (provisioning, the web form, /dummy.htm, the handset's menu). Names are
// the settings whose values changed; the values are never sent (some are
// passwords): GET /settings.htm or /api/state.
type settingsChangedNotice struct {
	ByUser bool     `json:"by_user"`
	Names  []string `json:"names"`
}

// settingChangedNotice is "setting_changed": one setting changed from
// outside. Its value is not sent.
type settingChangedNotice struct {
	Name string `json:"name"`
}

// networkUpNotice is "network_up": where the phone's SIP transport listens.
type networkUpNotice struct {
	IP   string `json:"ip"`
	Port int    `json:"port"`
}

// mwiNotice is "mwi": a message summary for an identity (message-summary
// NOTIFY, subscribed or unsolicited).
type mwiNotice struct {
	Identity  int  `json:"identity"`
	Waiting   bool `json:"waiting"`
	New       int  `json:"new"`
	Old       int  `json:"old"`
	UrgentNew int  `json:"urgent_new"`
	UrgentOld int  `json:"urgent_old"`
}

// dialogStateNotice is "dialog_state": a BLF subscription's extension
// changed state (terminated, early, confirmed); remote and display name
// the caller while it rings.
type dialogStateNotice struct {
	Sub     string `json:"sub"`
	State   string `json:"state"`
	Remote  string `json:"remote"`
	Display string `json:"display"`
}

// emptyNotice is the data of "powered_on", "memory_loaded" and of an
// event this file does not know yet (named by noticeKind): the kind alone
// says what happened.
type emptyNotice struct{}

// noticeOf translates an event the phone took into its notice. before is
// the settings in force before ev (for settings_changed's names; may be
// nil). An event without a translation here is published by its kind
// alone, with {} as data, never as the Go value.
func noticeOf(ev firmware.Event, before *provisioning.Settings) webui.Notice {
	kind, data := noticeKind(ev), any(emptyNotice{})
	switch e := ev.(type) {
	case firmware.KeyPressed:
		kind = "key_pressed"
		data = keyPressedNotice{Key: string(e.Key)}
	case firmware.NumberDialed:
		kind = "number_dialed"
		data = numberDialedNotice{Number: e.Number}
	case firmware.CallOffered:
		kind = "call_offered"
		data = callOfferedNotice{Call: string(e.Call), SIPCallID: e.SIPCallID, From: e.From.URI, Display: e.From.Display, To: e.To}
	case firmware.CallSent:
		kind = "call_sent"
		data = callSentNotice{Call: string(e.Call), SIPCallID: e.SIPCallID}
	case firmware.CallProgressed:
		kind = "call_progressed"
		data = callProgressedNotice{Call: string(e.Call), Status: e.Status}
	case firmware.CallAnswered:
		kind = "call_answered"
		data = callAnsweredNotice{Call: string(e.Call), Direction: firmware.Outgoing.String()}
	case firmware.CallFailed:
		kind = "call_failed"
		data = callFailedNotice{Call: string(e.Call), Status: e.Status, Reason: e.Reason}
	case firmware.CallRedirected:
		kind = "call_redirected"
		data = callRedirectedNotice{Call: string(e.Call), Status: e.Status, Target: e.Target}
	case firmware.CallCanceled:
		kind = "call_canceled"
		data = callReasonNotice{Call: string(e.Call), Reason: e.Reason}
	case firmware.CallEnded:
		kind = "call_ended"
		data = callReasonNotice{Call: string(e.Call), Reason: e.Reason}
	case firmware.CallTransferred:
		kind = "call_transferred"
		data = callTransferredNotice{Call: string(e.Call), Target: e.Target, OK: e.OK, Status: e.Status, Reason: e.Reason}
	case firmware.DTMFReceived:
		kind = "dtmf_received"
		data = dtmfReceivedNotice{Call: string(e.Call), Digit: string(rune(e.Digit))}
	case firmware.Registered:
		kind = "registered"
		data = registeredNotice{Identity: e.Identity}
	case firmware.RegistrationFailed:
		kind = "registration_failed"
		data = registrationFailedNotice{Identity: e.Identity, Status: e.Status, Reason: e.Reason}
	case firmware.SettingsChanged:
		kind = "settings_changed"
		n := settingsChangedNotice{ByUser: e.ByUser, Names: []string{}}
		if before != nil && e.Settings != nil {
			if names := before.Changed(e.Settings); names != nil {
				n.Names = names
			}
		}
		data = n
	case firmware.SettingChanged:
		kind = "setting_changed"
		data = settingChangedNotice{Name: e.Name}
	case firmware.NetworkUp:
		kind = "network_up"
		data = networkUpNotice{IP: e.IP, Port: e.Port}
	case firmware.PoweredOn:
		kind = "powered_on" // its boot token is the core's business
	case firmware.MemoryLoaded:
		kind = "memory_loaded" // the call lists: GET /api/state
	case firmware.MessageSummary: // MWI (RFC 3842)
		kind = "mwi"
		data = mwiNotice{Identity: e.Identity, Waiting: e.Waiting, New: e.New, Old: e.Old, UrgentNew: e.UrgentNew, UrgentOld: e.UrgentOld}
	case firmware.DialogStateChanged: // BLF (RFC 4235)
		kind = "dialog_state"
		data = dialogStateNotice{Sub: e.Sub, State: e.State, Remote: e.Remote.URI, Display: e.Remote.Display}
	default:
		// an event added later and not translated here: its kind alone
	}
	return webui.Notice{Kind: kind, Data: data}
}

// noticeKind names an event for /api/events in snake case
// ("CallOffered" -> "call_offered", "DTMFReceived" -> "dtmf_received").
// noticeOf names the events it translates itself; this names the others.
func noticeKind(ev firmware.Event) string {
	name := fmt.Sprintf("%T", ev)
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	upper := func(i int) bool { return i >= 0 && i < len(name) && name[i] >= 'A' && name[i] <= 'Z' }
	b := make([]byte, 0, len(name)+4)
	for i := 0; i < len(name); i++ {
		c := name[i]
		if upper(i) {
			// a word starts here: after a lower-case letter or digit, or
			// as the last capital of an acronym ("DTMF|Received")
			if i > 0 && (!upper(i-1) || i+1 < len(name) && !upper(i+1)) {
				b = append(b, '_')
			}
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}

// publishEvent publishes the notice of an event the phone takes (not of
// a Tick), before its effects' notices.
func (d *Device) publishEvent(ev firmware.Event) {
	if _, tick := ev.(firmware.Tick); tick || !d.listening() {
		return
	}
	d.publish(noticeOf(ev, d.settings.Load()))
}

// publishEffect publishes the notice of an effect the phone asks for,
// for the effects that have one: call_answered when the phone answers an
// incoming call (the remote side answering our call is the CallAnswered
// event).
func (d *Device) publishEffect(e firmware.Effect) {
	if a, ok := e.(firmware.Answer); ok && d.listening() {
		d.publish(webui.Notice{Kind: "call_answered", Data: callAnsweredNotice{Call: string(a.Call), Direction: firmware.Incoming.String()}})
	}
}

// publishState publishes "state": the /api/state document of v (live
// calls only).
func (d *Device) publishState(v firmware.View) {
	if d.listening() {
		d.publish(webui.Notice{Kind: "state", Data: webui.StateOf(v)})
	}
}

// listening reports whether anyone subscribed to the notices: without,
// none is built.
func (d *Device) listening() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.subs) > 0
}
