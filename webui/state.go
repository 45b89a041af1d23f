package webui

import (
	"encoding/json"
	"net/http"
	"time"

	"phonesim/display"
	"phonesim/firmware"
	"phonesim/keypad"
)

// State is the body of GET /api/state (and of the first "state" event on
// /api/events). Keys are lower-case snake_case; enumerations are the
// String() forms of the firmware types. Lists are never null.
//
//	{
//	  "time": "2026-03-05T09:04:07Z",        // the phone's clock (View.Now), RFC 3339
//	  "identities": [{"index":1, "user":"100", "host":"pbx.example", "display":"Desk",
//	                  "registered":true, "reg_error":""}],
//	  "hook": "on-hook",                      // on-hook | handset | hands-free | headset
//	  "dnd": false,
//	  "redirect": {"mode":"", "target":""},   // mode: "" | all | busy | time
//	  "calls": [{"id":"in-1", "sip_call_id":"...", "state":"ringing",
//	             "direction":"incoming", "remote":"sip:alice@pbx", "display":"Alice",
//	             "seconds":0, "muted":false, "identity":1}],
//	             // the live calls: state is dialing | calling | ringing | early-media |
//	             // connected | on-hold; an ended call leaves the list at once (the
//	             // display shows it a moment longer)
//	  "active": "",                           // id of the call the keys act on
//	  "digits": "",                           // the number being dialed
//	  "message": "",                          // a transient notice ("Busy")
//	  "screen": "idle",                       // idle | missed | received | dialed
//	  "softkeys": ["", "", "", ""],           // F1-F4 labels
//	  "leds": [{"key":"P1", "label":"Line", "kind":"line", "state":"on", "color":"green"}],
//	             // state: off | on | blink | fast; color: green | red | orange
//	  "display": ["Thu 5 Mar 2026", "09:04"], // the display's text lines (display.ScreenLines)
//	  "missed": 0,                            // missed calls not yet looked at
//	  "data_error": ""                        // why the data folder takes no writes ("": it does)
//	}
//
// Strings are the phone's data as is (JSON-escaped, so valid JSON even for
// hostile display names); HTML pages escape them and make them inert.
//
// The same document is the data of every "state" event on /api/events.
type State struct {
	Time       string     `json:"time"`
	Identities []Identity `json:"identities"`
	Hook       string     `json:"hook"`
	DND        bool       `json:"dnd"`
	Redirect   Redirect   `json:"redirect"`
	Calls      []Call     `json:"calls"`
	Active     string     `json:"active"`
	Digits     string     `json:"digits"`
	Message    string     `json:"message"`
	Page       string     `json:"page"` // the multicast page playing, "" when none
	Screen     string     `json:"screen"`
	Softkeys   []string   `json:"softkeys"`
	LEDs       []LED      `json:"leds"`
	Display    []string   `json:"display"`
	Missed     int        `json:"missed"`
	DataError  string     `json:"data_error"`
}

// Identity is one SIP identity in State.
type Identity struct {
	Index      int    `json:"index"`
	User       string `json:"user"`
	Host       string `json:"host"`
	Address    string `json:"address"` // user@host[:port]: where the identity is called
	Display    string `json:"display"`
	Registered bool   `json:"registered"`
	RegError   string `json:"reg_error"`
}

// Redirect is the call redirection in State.
type Redirect struct {
	Mode   string `json:"mode"`
	Target string `json:"target"`
}

// Call is one call appearance in State.
type Call struct {
	ID        string `json:"id"`
	SIPCallID string `json:"sip_call_id"`
	State     string `json:"state"`
	Direction string `json:"direction"`
	Remote    string `json:"remote"`
	Display   string `json:"display"`
	Name      string `json:"name,omitempty"` // the phone book's name for the remote party
	Seconds   int    `json:"seconds"`
	Muted     bool   `json:"muted"`
	Identity  int    `json:"identity"`
	Ring      string `json:"ring,omitempty"` // the ring Alert-Info chose
	Info      string `json:"info,omitempty"` // "Auto answer", "Forwarded by 200"
	// Media is the call's RTP/RTCP statistics (docs/media.md), when the
	// phone has media (see MediaStatser).
	Media any `json:"media,omitempty"`
}

// MediaStatser is what a Phone implements when its calls have media:
// their statistics go into /api/state.
type MediaStatser interface {
	CallMedia(id firmware.CallID) any
}

// LED is one function key and its LED in State.
type LED struct {
	Key   string `json:"key"` // P1...
	Label string `json:"label"`
	Kind  string `json:"kind"`
	State string `json:"state"`
	Color string `json:"color"`
}

// StateOf converts a view into the /api/state document. Calls are the
// live ones: a call that has ended is left out.
func StateOf(v firmware.View) State {
	s := State{
		Hook:       v.Hook.String(),
		DND:        v.DND,
		Redirect:   Redirect{Mode: v.Redirect, Target: v.RedirectTo},
		Active:     string(v.Active),
		Digits:     v.Digits,
		Message:    v.Message,
		Page:       v.Page,
		Screen:     v.Screen.String(),
		Softkeys:   append([]string(nil), v.Softkeys[:]...),
		Missed:     v.Missed,
		DataError:  v.DataError,
		Identities: make([]Identity, 0, len(v.Identities)),
		Calls:      make([]Call, 0, len(v.Calls)),
		LEDs:       make([]LED, 0, len(v.Keys)),
		Display:    display.ScreenLines(v),
	}
	if !v.Now.IsZero() {
		s.Time = v.Now.Format(time.RFC3339)
	}
	for _, id := range v.Identities {
		s.Identities = append(s.Identities, Identity{
			Index: id.Index, User: id.User, Host: id.Host, Address: id.Address, Display: id.Display,
			Registered: id.Registered, RegError: id.RegError,
		})
	}
	for _, c := range v.Calls {
		if c.State == firmware.Ended {
			continue // on the display for a moment more, but over
		}
		s.Calls = append(s.Calls, Call{
			ID: string(c.ID), SIPCallID: c.SIPCallID, State: c.State.String(),
			Direction: c.Direction.String(), Remote: c.Remote.URI, Display: c.Remote.Display, Name: c.Remote.Name,
			Seconds: c.Seconds, Muted: c.Muted, Identity: c.Identity, Ring: c.Ring, Info: c.Info,
		})
	}
	for i, k := range v.Keys {
		s.LEDs = append(s.LEDs, LED{
			Key: string(keypad.FunctionKey(i)), Label: k.Label, Kind: k.Kind,
			State: k.LED.State.String(), Color: k.LED.Color.String(),
		})
	}
	if s.Display == nil {
		s.Display = []string{}
	}
	return s
}

func (h *handler) state(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	st := StateOf(h.phone.View())
	if m, ok := h.phone.(MediaStatser); ok {
		for i := range st.Calls {
			st.Calls[i].Media = m.CallMedia(firmware.CallID(st.Calls[i].ID))
		}
	}
	_ = json.NewEncoder(w).Encode(st)
}
