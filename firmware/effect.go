package firmware

import "time"

// Effect is something the adapters must do: send a SIP message, fetch a
// URL, redraw. Effects are imperatives; the core does none of them itself.
type Effect interface{ effect() }

// Render says the picture changed; the adapter reads Phone.View.
type Render struct{}

// Dial sends an INVITE for a new outgoing call.
type Dial struct {
	Call      CallID
	SIPCallID string // the Call-ID the INVITE carries
	Target    string // full SIP URI
	From      Party  // our identity as the From header shows it
	Identity  int    // 1-12: whose credentials to use
	Timers    CallTimers
	Replaces  string // a Replaces header value (RFC 3891), for a call placed by a REFER
}

// Ring answers an incoming call with 180 Ringing.
type Ring struct{ Call CallID }

// Answer answers an incoming call with 200 OK and starts media.
type Answer struct {
	Call   CallID
	Timers CallTimers
}

// CallTimers end a call whose other side vanished without a word. Zero
// durations are off.
type CallTimers struct {
	// SessionExpires is the RFC 4028 session interval the phone asks for
	// (timer_support, session_timer): the dialog is refreshed within it,
	// and a session nobody refreshed ends with a BYE.
	SessionExpires time.Duration
	// RTPTimeout ends a connected call that is not on hold when no RTP
	// arrived for that long (rtp_timeout).
	RTPTimeout time.Duration
}

// Reject answers an incoming call with a final error (480, 486, 603).
type Reject struct {
	Call   CallID
	Status int
	Reason string
}

// Redirect answers an incoming call with 302 and Target in Contact.
type Redirect struct {
	Call   CallID
	Status int
	Target string
}

// Hangup ends a call: BYE when it is established, CANCEL while our INVITE
// is pending.
type Hangup struct{ Call CallID }

// HoldCall and ResumeCall put a connected call on hold and take it back.
type HoldCall struct{ Call CallID }

type ResumeCall struct{ Call CallID }

// MuteCall stops (or restarts) sending our audio.
type MuteCall struct {
	Call  CallID
	Muted bool
}

// SendDTMF sends digits in a call.
type SendDTMF struct {
	Call   CallID
	Digits string
}

// TransferCall transfers a call to Target (blind).
type TransferCall struct {
	Call   CallID
	Target string
}

// FetchURL fires an Action URL: an HTTP GET of an already expanded URL.
// Event names the setting that fired it (action_incoming_url, fkey3, ...).
type FetchURL struct {
	Event string
	URL   string
}

// SetLED sets a function key's LED (for hardware; the view has it too).
type SetLED struct {
	Index int // 0-based function key index
	LED   LED
}

// Register starts (or restarts) the registration of an identity at its
// registrar; an empty Host stops it. Password is a secret: never log it.
type Register struct {
	Identity int
	User     string // user_name: the address of record's user part
	Host     string // user_host: the registrar's domain, host[:port]
	AuthUser string // user_pname; empty = User
	Password string // user_pass
	Expires  int    // requested seconds (user_expiry)
}

// Log writes one line to the phone log.
type Log struct {
	Level   Level
	Message string
}

// Level is a log level, with snom's names.
type Level uint8

const (
	Debug Level = iota
	Info
	Notice
	Warning
	Error
)

func (l Level) String() string {
	switch l {
	case Debug:
		return "DEBUG"
	case Info:
		return "INFO"
	case Notice:
		return "NOTICE"
	case Warning:
		return "WARNING"
	default:
		return "ERROR"
	}
}

// CallEffect is an effect on one call; the SIP adapter hands it to that
// call.
type CallEffect interface {
	Effect
	OfCall() CallID
}

func (e Ring) OfCall() CallID         { return e.Call }
func (e Answer) OfCall() CallID       { return e.Call }
func (e Reject) OfCall() CallID       { return e.Call }
func (e Redirect) OfCall() CallID     { return e.Call }
func (e Hangup) OfCall() CallID       { return e.Call }
func (e HoldCall) OfCall() CallID     { return e.Call }
func (e ResumeCall) OfCall() CallID   { return e.Call }
func (e MuteCall) OfCall() CallID     { return e.Call }
func (e SendDTMF) OfCall() CallID     { return e.Call }
func (e TransferCall) OfCall() CallID { return e.Call }

func (Render) effect()       {}
func (Dial) effect()         {}
func (Ring) effect()         {}
func (Answer) effect()       {}
func (Reject) effect()       {}
func (Redirect) effect()     {}
func (Hangup) effect()       {}
func (HoldCall) effect()     {}
func (ResumeCall) effect()   {}
func (MuteCall) effect()     {}
func (SendDTMF) effect()     {}
func (TransferCall) effect() {}
func (FetchURL) effect()     {}
func (SetLED) effect()       {}
func (Log) effect()          {}
func (Register) effect()     {}

// SaveSetting says the user changed a setting on the handset (DND,
// redirection, the settings menu): the adapter keeps it as a user change,
// so it survives a restart and a provisioning its perm protects it from.
type SaveSetting struct{ Name, Value string }

func (SaveSetting) effect() {}

// Reprovision asks the adapter to fetch the setting server now (the
// REPROVISION key, snom's command.htm?key=REPROVISION).
type Reprovision struct{}

func (Reprovision) effect() {}

// ToggleRecording starts recording a call to WAV, or stops it (the REC key).
type ToggleRecording struct{ Call CallID }

func (ToggleRecording) effect() {}
