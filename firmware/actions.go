package firmware

import (
	"strconv"
	"strings"

	"phonesim/actionurl"
	"phonesim/keypad"
	"phonesim/provisioning"
)

// fire expands the Action URL of setting (action_incoming_url, ...) for
// call c (may be nil) and emits a FetchURL. An empty setting is off.
func (p *Phone) fire(setting string, c *call, key keypad.Key) {
	tmpl := strings.TrimSpace(p.s.Get(setting))
	if tmpl == "" {
		return
	}
	p.fireURL(setting, tmpl, c, key)
}

func (p *Phone) fireURL(event, tmpl string, c *call, key keypad.Key) {
	url := actionurl.Expand(tmpl, &urlVars{p: p, c: c, key: key, event: event})
	p.emit(FetchURL{Event: event, URL: url})
}

// longPress fires action_longpress_url for a key held long, with
// $longpress_key naming it; it reports whether it did (with the setting
// empty a long press is an ordinary press).
func (p *Phone) longPress(k keypad.Key) bool {
	tmpl := strings.TrimSpace(p.s.Get("action_longpress_url"))
	if tmpl == "" {
		return false
	}
	p.logf(Info, "long press "+string(k))
	p.emit(FetchURL{Event: "action_longpress_url", URL: actionurl.Expand(tmpl, &urlVars{p: p, key: k, longpress: true})})
	return true
}

// fireIdentity fires an identity's event (registration): $active_user and
// friends name that identity, not the active one.
func (p *Phone) fireIdentity(setting string, identity int) {
	if tmpl := strings.TrimSpace(p.s.Get(setting)); tmpl != "" {
		p.emit(FetchURL{Event: setting, URL: actionurl.Expand(tmpl, &urlVars{p: p, identity: identity, event: setting})})
	}
}

// urlVars answers the $variables of an Action URL: the runtime ones of
// the call the URL is about, then every setting by name, secrets blank.
type urlVars struct {
	p         *Phone
	c         *call
	key       keypad.Key
	identity  int    // the identity the event is about; 0: the call's or the active one
	event     string // the setting that fires
	longpress bool   // key was held long
}

// Lookup implements actionurl.Vars.
func (v *urlVars) Lookup(name string) (string, bool) {
	p, c := v.p, v.c
	if c == nil {
		c = p.find(p.active)
	}
	if c == nil {
		// off hook to answer, a url key pressed while a call rings: the
		// ringing call is the one the event is about
		c = p.ringing()
	}
	identity := p.activeIdentity()
	if c != nil && c.identity > 0 {
		identity = c.identity
	}
	if v.identity > 0 {
		identity = v.identity
	}
	switch name {
	case "local":
		return p.localURI(identity), true
	case "remote":
		if c == nil {
			return "", true
		}
		return c.remote.URI, true
	case "display_local":
		return p.s.Get("user_realname" + strconv.Itoa(identity)), true
	case "display_remote":
		if c == nil {
			return "", true
		}
		return c.remote.Display, true
	case "active_url":
		return p.localURI(identity), true
	case "active_user":
		return p.s.Get("user_name" + strconv.Itoa(identity)), true
	case "active_host":
		if h := p.s.Get("user_host" + strconv.Itoa(identity)); h != "" {
			return h, true
		}
		return p.hostPort(), true
	case "call-id":
		if c == nil {
			return "", true
		}
		return c.sipCallID, true
	case "csta_id":
		if c == nil {
			return "", true
		}
		return string(c.id), true
	case "expansion_module":
		// the module of the key involved: 0 for the base unit, 1-3
		if i, ok := v.key.FunctionIndex(); ok {
			if i < keypad.BaseFunctionKeys {
				return "0", true
			}
			return strconv.Itoa((i-keypad.BaseFunctionKeys)/keypad.ModuleKeys + 1), true
		}
		return "", true
	case "active_key":
		if v.key != "" {
			return string(v.key), true
		}
		if c != nil {
			for i := range p.keys {
				if p.keys[i].kind == "line" && p.keys[i].slot >= 0 && &p.calls[p.keys[i].slot] == c {
					return string(keypad.FunctionKey(i)), true
				}
			}
		}
		return "", true
	case "phone_ip", "local_ip":
		return p.netIP, true
	case "nr_ongoing_calls":
		// calls in progress once the event has happened: a call that is
		// ending (missed, disconnected) no longer counts
		n := p.busy()
		if c != nil && c.state != Ended && (v.event == "action_missed_url" || v.event == "action_disconnected_url") {
			n--
		}
		return strconv.Itoa(n), true
	case "cancel_reason":
		if c == nil {
			return "", true
		}
		return c.cancel, true
	case "context_url":
		// snom: the SIP URI of the identity logged on or off
		if v.event == "action_log_on_url" || v.event == "action_log_off_url" {
			return p.localURI(identity), true
		}
		return "", true
	case "longpress_key":
		if v.longpress {
			return string(v.key), true
		}
		return "", true
	}
	if strings.HasPrefix(name, "sip_header:") {
		if c == nil {
			return "", true
		}
		return c.header(strings.TrimPrefix(name, "sip_header:")), true
	}
	if provisioning.IsSecret(name) {
		if _, known := provisioning.Default(name); known || p.s.IsSet(name) {
			return "", true
		}
	}
	if _, known := provisioning.Default(name); known || p.s.IsSet(name) {
		return p.s.Get(name), true
	}
	return "", false
}

// header finds a header of the first INVITE, case-insensitively.
func (c *call) header(name string) string {
	for k, v := range c.headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
