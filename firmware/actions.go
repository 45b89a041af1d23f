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
	url := actionurl.Expand(tmpl, &urlVars{p: p, c: c, key: key})
	p.emit(FetchURL{Event: event, URL: url})
}

// fireIdentity fires an identity's event (registration): $active_user and
// friends name that identity, not the active one.
func (p *Phone) fireIdentity(setting string, identity int) {
	if tmpl := strings.TrimSpace(p.s.Get(setting)); tmpl != "" {
		p.emit(FetchURL{Event: setting, URL: actionurl.Expand(tmpl, &urlVars{p: p, identity: identity})})
	}
}

// urlVars answers the $variables of an Action URL: the runtime ones of
// the call the URL is about, then every setting by name, secrets blank.
type urlVars struct {
	p        *Phone
	c        *call
	key      keypad.Key
	identity int // the identity the event is about; 0: the call's or the active one
}

// Lookup implements actionurl.Vars.
func (v *urlVars) Lookup(name string) (string, bool) {
	p, c := v.p, v.c
	if c == nil {
		c = p.find(p.active)
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
		return strconv.Itoa(p.modules), true
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
		return strconv.Itoa(p.busy()), true
	case "cancel_reason":
		if c == nil {
			return "", true
		}
		return c.cancel, true
	case "context_url":
		return p.localURI(identity), true
	case "longpress_key":
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
