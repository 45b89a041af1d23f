package firmware

import (
	"strconv"
	"strings"

	"phonesim/actionurl"
	"phonesim/keypad"
	"phonesim/provisioning"
)

// Client actions, as the pascom client does them: numbered actions
// (client_action_*N) that open a URL or run a local program when a call
// rings, is accepted or hangs up — filtered by direction and call type —
// or when the user asks (manual: the Action key, ACTIONn, the softkey that
// names the favourite).

// Triggers of a client action.
const (
	TriggerRinging  = "ringing"
	TriggerAccepted = "accepted"
	TriggerHangup   = "hangup"
	TriggerManual   = "manual"
)

// RunApp asks the adapter to run a program, without a shell: Argv[0] is
// the program, every other element one argument however it reads.
type RunApp struct {
	Action  int    // client action N
	Name    string // its name, for the log
	Trigger string
	Argv    []string
}

func (RunApp) effect() {}

// clientAction is one configured action.
type clientAction struct {
	n                         int
	name, kind, target        string
	trigger, direction, types string
}

func (p *Phone) clientAction(n int) (clientAction, bool) {
	i := strconv.Itoa(n)
	a := clientAction{
		n: n, name: p.s.Get("client_action_name" + i), kind: strings.ToLower(p.s.Get("client_action_type" + i)),
		target:  strings.TrimSpace(p.s.Get("client_action_target" + i)),
		trigger: strings.ToLower(p.s.Get("client_action_trigger" + i)), direction: strings.ToLower(p.s.Get("client_action_direction" + i)),
		types: strings.ToLower(p.s.Get("client_action_calltype" + i)),
	}
	if a.target == "" || !p.s.On("client_action_enabled"+i) {
		return a, false
	}
	if a.name == "" {
		a.name = "Action " + i
	}
	return a, true
}

// favorite is the favourite action, if one is configured and enabled.
func (p *Phone) favorite() (clientAction, bool) {
	n := p.s.Int("client_action_favorite", 0)
	if n < 1 || n > provisioning.MaxClientActions {
		return clientAction{}, false
	}
	return p.clientAction(n)
}

// triggerActions runs every enabled action with this trigger that
// matches the call's direction and type.
func (p *Phone) triggerActions(trigger string, c *call) {
	if c == nil {
		return
	}
	for n := 1; n <= provisioning.MaxClientActions; n++ {
		// cheap test first: most phones have no client actions
		if p.s.Get("client_action_target"+strconv.Itoa(n)) == "" {
			continue
		}
		a, ok := p.clientAction(n)
		if !ok || a.trigger != trigger || !a.matches(c.dir, p.callType(c)) {
			continue
		}
		p.runAction(a, trigger, &actionVars{urlVars: urlVars{p: p, c: c, event: "client_action_" + strconv.Itoa(n)}, party: c.remote, headers: c.headers})
	}
}

func (a clientAction) matches(dir Direction, typ string) bool {
	switch a.direction {
	case "incoming":
		if dir != Incoming {
			return false
		}
	case "outgoing":
		if dir != Outgoing {
			return false
		}
	}
	for t := range strings.SplitSeq(a.types, ",") {
		if strings.TrimSpace(t) == typ {
			return true
		}
	}
	return false
}

// callType classifies a call for client actions: "queue" when its INVITE
// carries client_action_queue_header; else "internal" when the other
// party is a name (sip:alice@pbx) or a number of at most
// client_action_internal_length digits; else "external".
func (p *Phone) callType(c *call) string {
	if h := strings.TrimSpace(p.s.Get("client_action_queue_header")); h != "" && c.header(h) != "" {
		return "queue"
	}
	return p.partyType(c.remote)
}

func (p *Phone) partyType(who Party) string {
	user := strings.TrimPrefix(numberOf(who.URI), "+")
	digits := strings.Trim(user, "0123456789") == "" && user != ""
	if !digits || len(user) <= p.s.Int("client_action_internal_length", 4) {
		return "internal"
	}
	return "external"
}

// manualAction runs action n (0: the favourite) on the call in focus, or
// on the selected entry of the call list on the display.
func (p *Phone) manualAction(n int) {
	var a clientAction
	var ok bool
	if n == 0 {
		if a, ok = p.favorite(); !ok {
			p.say("No favourite action")
			p.render()
			return
		}
	} else if a, ok = p.clientAction(n); !ok {
		p.say("Action " + strconv.Itoa(n) + " is not set up")
		p.render()
		return
	}
	vars := &actionVars{urlVars: urlVars{p: p, event: "client_action_" + strconv.Itoa(a.n)}}
	switch c := p.focusCall(); {
	case c != nil:
		vars.c, vars.party, vars.headers = c, c.remote, c.headers
	case p.screen != ScreenIdle && p.screen != ScreenMenu && p.cursor < len(p.list()):
		vars.party = p.list()[p.cursor].Remote
		vars.entry = true
	default:
		p.say(a.name + ": no call")
		p.render()
		return
	}
	p.runAction(a, TriggerManual, vars)
}

// focusCall is the call the keys are about: a ringing one, else the
// active one.
func (p *Phone) focusCall() *call {
	if c := p.ringing(); c != nil {
		return c
	}
	if c := p.find(p.active); c != nil && c.state != Ended {
		return c
	}
	return nil
}

func (p *Phone) runAction(a clientAction, trigger string, vars *actionVars) {
	event := "client_action_" + strconv.Itoa(a.n)
	switch a.kind {
	case "app":
		argv := actionurl.ExpandArgs(actionurl.SplitArgs(a.target), vars)
		if len(argv) == 0 || argv[0] == "" {
			p.logf(Warning, "client action "+strconv.Quote(a.name)+": no program to run")
			return
		}
		p.emit(RunApp{Action: a.n, Name: a.name, Trigger: trigger, Argv: argv})
	default:
		url := actionurl.Expand(a.target, vars)
		p.emit(FetchURL{Event: event, URL: url})
		// a desk phone has no browser: the URL is shown, for a person to open
		p.say(a.name + ": " + actionurl.Redact(url))
		p.render()
	}
	p.logf(Info, "client action "+strconv.Quote(a.name)+" ("+trigger+")")
}

// actionVars answers the ${…} of a client action: ${name}, ${number},
// ${MDC_LABEL-X} and ${MDC_SKILL-X}, then every Action URL variable.
type actionVars struct {
	urlVars
	party   Party
	headers map[string]string
	entry   bool // from a call-list entry: no call behind it
}

// Lookup implements actionurl.Vars.
func (v *actionVars) Lookup(name string) (string, bool) {
	switch {
	case name == "name":
		if n := v.p.s.NameFor(v.party.URI); n != "" {
			return n, true
		}
		if v.party.Display != "" {
			return v.party.Display, true
		}
		return numberOf(v.party.URI), true
	case name == "number":
		return numberOf(v.party.URI), true
	case strings.HasPrefix(name, "MDC_LABEL-"):
		return headerOf(v.headers, "X-MDC-Label-"+strings.TrimPrefix(name, "MDC_LABEL-")), true
	case strings.HasPrefix(name, "MDC_SKILL-"):
		return headerOf(v.headers, "X-MDC-Skill-"+strings.TrimPrefix(name, "MDC_SKILL-")), true
	}
	if v.entry {
		switch name {
		case "remote":
			return v.party.URI, true
		case "display_remote":
			return v.party.Display, true
		}
	}
	return v.urlVars.Lookup(name)
}

func headerOf(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// numberOf is the user part of a SIP URI: the number a person dials.
func numberOf(uri string) string {
	u := strings.TrimPrefix(strings.TrimPrefix(uri, "sips:"), "sip:")
	if at := strings.IndexByte(u, '@'); at >= 0 {
		u = u[:at]
	}
	if semi := strings.IndexAny(u, ";?"); semi >= 0 {
		u = u[:semi]
	}
	return u
}

// actionKey handles the ACTION and ACTIONn keys.
func (p *Phone) actionKey(k keypad.Key) bool {
	if k == keypad.Action {
		p.manualAction(0)
		return true
	}
	if n, ok := k.ActionIndex(); ok {
		p.manualAction(n)
		return true
	}
	return false
}
