package firmware

import "time"

// Hook is the hook state: how the user is listening.
type Hook uint8

const (
	OnHook Hook = iota
	Handset
	HandsFree
	Headset
)

func (h Hook) String() string {
	switch h {
	case Handset:
		return "handset"
	case HandsFree:
		return "hands-free"
	case Headset:
		return "headset"
	}
	return "on-hook"
}

// CallState is the state of one call appearance.
type CallState uint8

const (
	Dialing    CallState = iota + 1 // collecting digits, nothing sent yet
	Calling                         // INVITE sent, no answer yet
	Ringing                         // incoming: alerting; outgoing: the remote rings
	EarlyMedia                      // outgoing: 183 with media
	Connected
	OnHold
	Ended
)

func (s CallState) String() string {
	switch s {
	case Dialing:
		return "dialing"
	case Calling:
		return "calling"
	case Ringing:
		return "ringing"
	case EarlyMedia:
		return "early-media"
	case Connected:
		return "connected"
	case OnHold:
		return "on-hold"
	case Ended:
		return "ended"
	}
	return "none"
}

// Direction is who placed a call.
type Direction uint8

const (
	Outgoing Direction = iota
	Incoming
)

func (d Direction) String() string {
	if d == Incoming {
		return "incoming"
	}
	return "outgoing"
}

// LEDState is what a function key's LED does.
type LEDState uint8

const (
	LEDOff LEDState = iota
	LEDOn
	LEDSlowBlink
	LEDFastBlink
)

func (s LEDState) String() string {
	switch s {
	case LEDOn:
		return "on"
	case LEDSlowBlink:
		return "blink"
	case LEDFastBlink:
		return "fast"
	}
	return "off"
}

// LEDColor is an LED's colour.
type LEDColor uint8

const (
	Green LEDColor = iota
	Red
	Orange
)

func (c LEDColor) String() string {
	switch c {
	case Red:
		return "red"
	case Orange:
		return "orange"
	}
	return "green"
}

// LED is one LED's state and colour.
type LED struct {
	State LEDState
	Color LEDColor
}

// Screen is what the display shows when no call needs it.
type Screen uint8

const (
	ScreenIdle Screen = iota
	ScreenMissed
	ScreenReceived
	ScreenDialed
	ScreenMenu // the settings menu
)

func (s Screen) String() string {
	switch s {
	case ScreenMissed:
		return "missed"
	case ScreenReceived:
		return "received"
	case ScreenDialed:
		return "dialed"
	case ScreenMenu:
		return "menu"
	}
	return "idle"
}

// View is a snapshot of everything the phone shows: the display, the
// LEDs, the hook. It is a copy: adapters may keep it and hand it to other
// goroutines.
type View struct {
	Now        time.Time
	Identity   IdentityView   // the active identity
	Identities []IdentityView // all configured identities
	Hook       Hook
	DND        bool
	Redirect   string // "" or "all", "busy", "time"
	RedirectTo string
	Calls      []CallView
	Active     CallID // the call the keys act on ("" when none)
	Digits     string // the number being dialed (or the transfer target)
	Transfer   CallID // the call a blind transfer is collecting a target for
	Message    string // a transient notice ("Busy", "Call ended")
	Screen     Screen
	List       []ListEntry // the list the screen shows
	ListCursor int         // the selected entry of List, or of Menu
	Menu       []string    // the settings menu's rows (ScreenMenu)
	Editing    string      // the setting the menu is editing ("" when none); Digits holds the value
	Softkeys   [4]string
	Keys       []KeyView // P1... (base unit then modules)
	Modules    int       // expansion modules attached
	Volume     int
	Missed     int // missed calls not yet looked at
	// DataError says why the data folder takes no writes ("" while it
	// does): the user's changes will not survive a restart.
	DataError string
	Mailboxes []Mailbox // message summaries (MWI), by identity
	// Page is the multicast page playing ("Page from 192.0.2.7 (239.1.1.1:5000)"), "" when none (multicast.go).
	Page string
}

// IdentityView is one SIP identity.
type IdentityView struct {
	Index      int
	User       string
	Host       string // "" for a local identity
	Address    string // user@host[:port]: where the identity is reached (a local one: this phone's address)
	Display    string
	Registered bool   // true for a local identity once the network is up
	RegError   string // why registration failed, if it did
}

// CallView is one call appearance.
type CallView struct {
	ID        CallID
	SIPCallID string
	State     CallState
	Direction Direction
	Remote    Party
	Seconds   int // connected time
	Muted     bool
	Identity  int
	Ring      string // the ring Alert-Info chose ("" = the default ring_sound)
	Info      string // a note on the call: "Auto answer", "Forwarded by 200"
}

// KeyView is one function key as the user sees it.
type KeyView struct {
	Label string
	LED   LED
	Kind  string // "line", "dest", "url", ...
}

// ListEntry is one entry of a call list.
type ListEntry struct {
	Remote Party
	When   time.Time
}
