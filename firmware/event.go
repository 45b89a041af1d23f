package firmware

import (
	"time"

	"phonesim/keypad"
	"phonesim/provisioning"
)

// Event is something that happened to the phone: a key press, a SIP
// message translated by the SIP adapter, a tick of the clock. Events are
// past-tense facts; Step decides what they mean in the current state.
type Event interface{ event() }

// CallID names a call appearance. Incoming calls are named by the SIP
// adapter (in CallOffered); outgoing calls by the core (in Dial).
type CallID string

// Party is the other end of a call as the phone shows it.
type Party struct {
	URI     string // sip:user@host
	Display string // display name; network text, already made inert by the adapter
	Name    string // the phone book's name for URI, set by the core; shown before Display
}

// PoweredOn is the first event: the phone has booted. Token is a random
// string the adapter draws at each boot; the core builds the Call-IDs of
// its outgoing calls from it, so they are unique across phones and
// restarts while the core itself stays deterministic.
type PoweredOn struct{ Token string }

// NetworkUp reports the address the phone's SIP transport listens on.
type NetworkUp struct {
	IP   string
	Port int
}

// Tick is the clock: one every TickInterval. Now is the wall time, used
// only for what the phone shows and stamps (clock, call lists); deadlines
// count ticks.
type Tick struct{ Now time.Time }

// TickInterval is how often the adapter sends a Tick.
const TickInterval = 100 * time.Millisecond

// ticksPerSecond converts settings in seconds into tick counts.
const ticksPerSecond = int64(time.Second / TickInterval)

// KeyPressed is a key press (keyboard, click, remote control). Held is
// how long the key was held down, when the adapter knows it: LongPress
// or longer is a long press.
type KeyPressed struct {
	Key  keypad.Key
	Held time.Duration
}

// LongPress is how long a key must be held to be a long press.
const LongPress = time.Second

// NumberDialed asks the phone to dial a number at once, as
// /command.htm?number= does.
type NumberDialed struct{ Number string }

// HangUpRequested ends one call by its ID, whichever call is active: a
// remote control's or a fleet scenario's hang up. X ends only the active
// call (or declines a ringing one), so a phone that answered a second
// call would otherwise end the wrong one. As X on the call: a ringing
// incoming call is declined, an outgoing one canceled.
type HangUpRequested struct{ Call CallID }

// SettingChanged reports that a setting was changed from outside
// (web interface, provisioning).
type SettingChanged struct{ Name, Value string }

// SettingsChanged puts new settings in force while the phone runs: a
// re-provisioning, or a user change made on the web form. ByUser says
// the user made it (a user change fires what the same change on the
// handset would; provisioning fires nothing).
type SettingsChanged struct {
	Settings *provisioning.Settings
	ByUser   bool
}

// CallOffered is an incoming INVITE. Headers holds the headers that
// $sip_header() may name (already filtered by the adapter).
type CallOffered struct {
	Call      CallID
	SIPCallID string
	From      Party
	To        string // the request URI's user, to pick the identity
	Headers   map[string]string
	Source    string // host:port the INVITE came from (trust rules: answer_after_trusted)
	Replaces  CallID // the call this one replaces (RFC 3891 Replaces header; transfer.go)
}

// CallSent reports that the INVITE of an outgoing call left, and the
// Call-ID it carries.
type CallSent struct {
	Call      CallID
	SIPCallID string
}

// CallProgressed is a provisional response to our INVITE (180, 183).
type CallProgressed struct {
	Call   CallID
	Status int
}

// CallAnswered is a 2xx to our INVITE: the remote party picked up.
type CallAnswered struct {
	Call   CallID
	Remote Party // the To of the answer, when it names someone
}

// CallFailed is a final non-2xx answer to our INVITE, or a transport
// failure (Status 0).
type CallFailed struct {
	Call   CallID
	Status int
	Reason string
}

// CallRedirected is a 3xx answer to our INVITE with the target from its
// Contact: the phone calls the target instead, as a desk phone does.
type CallRedirected struct {
	Call   CallID
	Status int
	Target string
}

// CallCanceled is the caller's CANCEL of a ringing incoming call. Reason
// is the Reason header, if any ("SIP;cause=200" means answered elsewhere).
type CallCanceled struct {
	Call   CallID
	Reason string
}

// CallEnded is the remote party hanging up (BYE), or the dialog dying.
type CallEnded struct {
	Call   CallID
	Reason string
}

// CallTransferred is the outcome of a blind transfer (the REFER's
// answer): OK when the transferee accepted it.
type CallTransferred struct {
	Call   CallID
	Target string
	OK     bool
	Status int
	Reason string
}

// DTMFReceived is a digit received in a call (RFC 4733 or INFO).
type DTMFReceived struct {
	Call  CallID
	Digit byte
}

// Registered and RegistrationFailed report the registration of an identity
// (1-12).
type Registered struct{ Identity int }

type RegistrationFailed struct {
	Identity int
	Status   int
	Reason   string
}

func (PoweredOn) event()          {}
func (NetworkUp) event()          {}
func (Tick) event()               {}
func (KeyPressed) event()         {}
func (NumberDialed) event()       {}
func (HangUpRequested) event()    {}
func (SettingChanged) event()     {}
func (SettingsChanged) event()    {}
func (CallOffered) event()        {}
func (CallSent) event()           {}
func (CallProgressed) event()     {}
func (CallAnswered) event()       {}
func (CallFailed) event()         {}
func (CallRedirected) event()     {}
func (CallCanceled) event()       {}
func (CallEnded) event()          {}
func (DTMFReceived) event()       {}
func (CallTransferred) event()    {}
func (Registered) event()         {}
func (RegistrationFailed) event() {}
