package firmware

import (
	"phonesim/provisioning"
	"strconv"
	"strings"
)

func (p *Phone) find(id CallID) *call {
	if id == "" {
		return nil
	}
	for i := range p.calls {
		if p.calls[i].id == id {
			return &p.calls[i]
		}
	}
	return nil
}

// busy counts the appearances in use (ended calls do not count).
func (p *Phone) busy() int {
	n := 0
	for i := range p.calls {
		if p.calls[i].id != "" && p.calls[i].state != Ended {
			n++
		}
	}
	return n
}

// alloc takes a free appearance, or returns nil when all are in use. An
// ended call still on the display gives way.
func (p *Phone) alloc(id CallID, dir Direction) *call {
	if p.busy() >= p.maxCalls {
		return nil
	}
	var slot *call
	for i := range p.calls[:p.maxCalls] {
		if p.calls[i].id == "" {
			slot = &p.calls[i]
			break
		}
	}
	if slot == nil {
		for i := range p.calls[:p.maxCalls] {
			if p.calls[i].state == Ended {
				slot = &p.calls[i]
				break
			}
		}
	}
	if slot == nil {
		return nil
	}
	p.seq++
	*slot = call{id: id, dir: dir, seq: p.seq, since: p.ticks, key: -1, identity: p.activeIdentity()}
	return slot
}

func (p *Phone) free(c *call) {
	id := c.id
	*c = call{}
	if p.active == id {
		p.active = ""
		p.pickActive()
	}
	if p.transferring == id {
		p.transferring = ""
		p.ndigits = 0
	}
	p.assignLineKeys()
}

// pickActive makes the newest live call active when the active one went.
func (p *Phone) pickActive() {
	var best *call
	for i := range p.calls {
		c := &p.calls[i]
		if c.id == "" || c.state == Ended || (c.state == Ringing && c.dir == Incoming) || c.state == OnHold {
			continue
		}
		if best == nil || c.seq > best.seq {
			best = c
		}
	}
	if best != nil {
		p.active = best.id
	}
}

// ordered returns the calls in use, oldest first.
func (p *Phone) ordered() []*call {
	var cs []*call
	for i := range p.calls {
		if p.calls[i].id != "" {
			cs = append(cs, &p.calls[i])
		}
	}
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].seq < cs[j-1].seq; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
	return cs
}

// ringing returns the oldest incoming call that is alerting.
func (p *Phone) ringing() *call {
	var best *call
	for i := range p.calls {
		c := &p.calls[i]
		if c.id != "" && c.state == Ringing && c.dir == Incoming && (best == nil || c.seq < best.seq) {
			best = c
		}
	}
	return best
}

// dialingCall returns the appearance collecting digits, if any.
func (p *Phone) dialingCall() *call {
	for i := range p.calls {
		if p.calls[i].id != "" && p.calls[i].state == Dialing {
			return &p.calls[i]
		}
	}
	return nil
}

// live reports whether the call needs the audio path (so the phone must
// be off-hook).
func (c *call) live() bool {
	switch c.state {
	case Calling, EarlyMedia, Connected:
		return true
	case Ringing:
		return c.dir == Outgoing
	}
	return false
}

func (p *Phone) setState(c *call, s CallState) {
	c.state = s
	c.since = p.ticks
	if s == Connected && c.connected == 0 {
		c.connected = p.ticks
	}
	p.syncLEDs()
	p.render()
}

// end finishes a call: it stays on the display as Ended for a moment.
func (p *Phone) end(c *call, why string) {
	wasConnected := c.state == Connected || c.state == OnHold
	wasDialing := c.state == Dialing
	c.state = Ended
	p.confEnded(c) // conference.go
	c.since = p.ticks
	c.deadline = 0
	if wasConnected {
		p.fire("action_disconnected_url", c, "")
	}
	if !wasDialing {
		p.triggerActions(TriggerHangup, c)
	}
	if p.active == c.id {
		p.active = ""
		p.pickActive()
	}
	if p.transferring == c.id {
		p.transferring = ""
		p.ndigits = 0
	}
	if why != "" {
		p.say(why)
	}
	p.assignLineKeys()
	p.syncLEDs()
	p.afterCallEnd()
	p.render()
}

// afterCallEnd puts the phone on hook when nothing needs the audio path
// any more and the user is not holding the handset (hands-free and
// headset calls end by themselves, as on a desk phone).
func (p *Phone) afterCallEnd() {
	if p.hook == OnHook || p.hook == Handset {
		return
	}
	for i := range p.calls {
		if p.calls[i].id != "" && (p.calls[i].live() || p.calls[i].state == Dialing) {
			return
		}
	}
	p.setHook(OnHook)
}

func (p *Phone) setHook(h Hook) {
	if h == p.hook {
		return
	}
	was := p.hook
	p.hook = h
	switch {
	case was == OnHook:
		p.fire("action_offhook_url", p.find(p.active), "")
	case h == OnHook:
		p.fire("action_onhook_url", p.find(p.active), "")
	}
	p.render()
}

// offHook takes the phone off hook for a call if it is not already.
func (p *Phone) offHook() {
	if p.hook == OnHook {
		p.setHook(HandsFree)
	}
}

// --- incoming calls ---

func (p *Phone) offered(e CallOffered) {
	if e.Call == "" || p.find(e.Call) != nil {
		return
	}
	who := e.From.URI
	if p.dnd {
		p.emit(Reject{Call: e.Call, Status: 480, Reason: "Do Not Disturb"})
		p.logf(Info, "call from "+who+" rejected: DND")
		return
	}
	if p.redirect == "all" {
		if target := p.redirectURI("all", p.identityFor(e.To)); target != "" {
			p.emit(Redirect{Call: e.Call, Status: 302, Target: target})
			p.logf(Info, "call from "+who+" redirected to "+target)
			return
		}
	}
	full := p.busy() >= p.maxCalls
	if !full && !p.s.On("call_waiting") {
		for i := range p.calls {
			if p.calls[i].id != "" && p.calls[i].state != Ended {
				full = true
			}
		}
	}
	if full {
		if p.redirect == "busy" {
			if target := p.redirectURI("busy", p.identityFor(e.To)); target != "" {
				p.emit(Redirect{Call: e.Call, Status: 302, Target: target})
				p.logf(Info, "call from "+who+" redirected (busy) to "+target)
				return
			}
		}
		p.emit(Reject{Call: e.Call, Status: 486, Reason: "Busy Here"})
		p.logf(Info, "call from "+who+" rejected: busy")
		return
	}
	c := p.alloc(e.Call, Incoming)
	c.sipCallID = e.SIPCallID
	c.remote = e.From
	c.remote.Name = p.s.NameFor(e.From.URI)
	c.identity = p.identityFor(e.To)
	c.headers = e.Headers
	p.callerID(c, e)
	c.state = Ringing
	if p.redirect == "time" && p.redirectURI("time", c.identity) != "" {
		c.deadline = p.ticks + int64(p.s.Int("redirect_time", 20))*ticksPerSecond
	}
	if secs := p.s.Int("ringing_time", 0); secs > 0 {
		c.giveUp = p.ticks + int64(secs)*ticksPerSecond
	}
	p.screen = ScreenIdle
	p.assignLineKeys()
	p.emit(Ring{Call: c.id})
	p.logf(Info, "incoming call from "+displayOf(c.remote))
	p.fire("action_incoming_url", c, "")
	p.triggerActions(TriggerRinging, c)
	p.syncLEDs()
	p.render()
	p.alerting(c, e)
	if p.s.On("user_auto_connect" + strconv.Itoa(c.identity)) {
		p.answer(c)
	}
}

// identityFor picks the identity an incoming call is for by the user part
// of the request URI.
func (p *Phone) identityFor(user string) int {
	for i := 1; i <= len(p.regs)-1; i++ {
		if u := p.s.Get("user_name" + strconv.Itoa(i)); u != "" && u == user {
			return i
		}
	}
	return p.activeIdentity()
}

func (p *Phone) answer(c *call) {
	if c == nil || c.state != Ringing || c.dir != Incoming {
		return
	}
	p.holdOthers(c)
	p.offHook()
	c.deadline = 0
	p.active = c.id
	p.emit(Answer{Call: c.id, Timers: p.callTimers()})
	p.setState(c, Connected)
	p.logf(Info, "call with "+displayOf(c.remote)+" connected")
	p.remember(&p.received, c.remote)
	p.fire("action_connected_url", c, "")
	p.triggerActions(TriggerAccepted, c)
}

// holdOthers puts every other connected call on hold, so one call has the
// audio path.
func (p *Phone) holdOthers(keep *call) {
	for i := range p.calls {
		o := &p.calls[i]
		if o != keep && o.id != "" && o.state == Connected {
			p.hold(o)
		}
	}
	if d := p.dialingCall(); d != nil && d != keep {
		p.free(d)
		p.ndigits = 0
	}
}

func (p *Phone) reject(c *call, status int, reason string) {
	p.emit(Reject{Call: c.id, Status: status, Reason: reason})
	p.logf(Info, "call from "+displayOf(c.remote)+" rejected ("+strconv.Itoa(status)+")")
	p.free(c)
	p.syncLEDs()
	p.render()
}

// redirectURI is the target of a redirection mode as a SIP URI, or ""
// when the mode has no target set: then the phone does not redirect (a
// 302 without a target would send the caller nowhere) and says so.
func (p *Phone) redirectURI(mode string, identity int) string {
	number := strings.TrimSpace(p.redirectTarget(mode))
	if number == "" {
		p.logf(Warning, "redirection "+mode+" has no target number: not redirecting")
		return ""
	}
	uri, ok := p.target(number, identity, "redirection "+mode)
	if !ok {
		return "" // logged and shown; the call rings here
	}
	return uri
}

// missedCall records an inbound call that alerted and was never answered.
func (p *Phone) missedCall(c *call) {
	p.logf(Info, "missed call from "+displayOf(c.remote))
	p.remember(&p.missed, c.remote)
	p.missedUnseen++
	p.changed = true
	p.fire("action_missed_url", c, "")
}

func (p *Phone) canceled(e CallCanceled) {
	c := p.find(e.Call)
	if c == nil || c.state == Ended {
		return
	}
	c.cancel = e.Reason
	if c.dir == Incoming && c.state == Ringing {
		if strings.Contains(strings.ReplaceAll(strings.ToLower(e.Reason), " ", ""), "cause=200") {
			p.logf(Info, "call from "+displayOf(c.remote)+" answered elsewhere")
			p.remember(&p.received, c.remote)
		} else {
			p.missedCall(c)
		}
	}
	p.end(c, "")
}

// --- outgoing calls ---

// startDialing opens an appearance collecting digits.
func (p *Phone) startDialing() *call {
	if d := p.dialingCall(); d != nil {
		return d
	}
	p.holdOthers(nil)
	c := p.alloc(p.nextCallID(), Outgoing)
	if c == nil {
		p.say("No free line")
		p.render()
		return nil
	}
	c.state = Dialing
	p.active = c.id
	p.ndigits = 0
	p.lastDigitAt = p.ticks
	p.screen = ScreenIdle
	p.assignLineKeys()
	p.syncLEDs()
	p.render()
	return c
}

// nextCallID names an outgoing call; it skips names the adapter gave to
// incoming calls.
func (p *Phone) nextCallID() CallID {
	for n := p.seq + 1; ; n++ {
		if id := CallID("out-" + strconv.Itoa(n)); p.find(id) == nil {
			return id
		}
	}
}

// newSIPCallID names the SIP dialog of a new outgoing call. The core
// chooses it (from the boot token the adapter drew and a counter) so
// that action_outgoing_url, fired as the call is dialed, carries the
// Call-ID the INVITE will.
func (p *Phone) newSIPCallID() string {
	p.callIDs++
	return p.token + "-" + strconv.Itoa(p.callIDs)
}

// send dials what was collected.
func (p *Phone) send() {
	number := string(p.digits[:p.ndigits])
	p.ndigits = 0
	if number == "" {
		return
	}
	if p.transferring != "" {
		p.transfer(number)
		return
	}
	p.dial(number)
}

func (p *Phone) dialNumber(number string) {
	number = strings.TrimSpace(number)
	if number == "" || len(number) > len(p.digits) {
		p.logf(Warning, "dial: bad number")
		return
	}
	p.dial(number)
}

// dial places a call to number on the dialing appearance (or a new one).
// A number that makes no valid SIP URI is refused before anything is
// taken.
func (p *Phone) dial(number string) { p.dialAs(number, 0, "") }

// dialAs is dial through identity as (a key's fkey_context; 0: the
// dialing call's identity, else the active one), the INVITE with a
// Replaces header when replaces is set (a pickup, blf.go).
func (p *Phone) dialAs(number string, as int, replaces string) {
	c := p.dialingCall()
	identity := p.activeIdentity()
	if c != nil {
		identity = c.identity
	}
	if as > 0 {
		identity = as
	}
	uri, ok := p.target(number, identity, "dial")
	if !ok {
		return
	}
	if c == nil {
		if c = p.startDialing(); c == nil {
			return
		}
	}
	c.identity = identity
	p.ndigits = 0
	c.remote = Party{URI: uri}
	c.remote.Name = p.s.NameFor(c.remote.URI)
	p.active = c.id
	c.sipCallID = p.newSIPCallID()
	p.offHook()
	p.emit(Dial{Call: c.id, Target: c.remote.URI, Identity: c.identity, SIPCallID: c.sipCallID,
		From:   Party{URI: p.localURI(c.identity), Display: p.s.Get("user_realname" + strconv.Itoa(c.identity))},
		Timers: p.callTimers(), Replaces: replaces})
	p.setState(c, Calling)
	p.lastDialed = number
	p.changed = true
	p.remember(&p.dialed, c.remote)
	p.logf(Info, "calling "+c.remote.URI)
	p.fire("action_outgoing_url", c, "")
}

func (p *Phone) progressed(e CallProgressed) {
	c := p.find(e.Call)
	if c == nil || c.dir != Outgoing || (c.state != Calling && c.state != Ringing) {
		return
	}
	switch {
	case e.Status == 180 || e.Status == 182 || e.Status == 181:
		if c.state == Calling {
			p.ring(c)
		}
	case e.Status == 183:
		p.setState(c, EarlyMedia)
	}
}

// ring moves an outgoing call to Ringing: the remote alerts.
func (p *Phone) ring(c *call) {
	p.setState(c, Ringing)
	p.logf(Info, c.remote.URI+" is ringing")
	p.triggerActions(TriggerRinging, c)
}

func (p *Phone) answered(e CallAnswered) {
	c := p.find(e.Call)
	if c == nil || c.dir != Outgoing {
		return
	}
	switch c.state {
	case Calling:
		// A 200 may be the first response we see (provisional ones can be
		// lost or reordered): the call still passes through Ringing.
		p.ring(c)
	case Ringing, EarlyMedia:
	default:
		return
	}
	if e.Remote.Display != "" {
		c.remote.Display = e.Remote.Display
	}
	p.holdOthers(c) // one call has the audio path
	p.active = c.id
	p.setState(c, Connected)
	p.logf(Info, "call with "+displayOf(c.remote)+" connected")
	p.fire("action_connected_url", c, "")
	p.triggerActions(TriggerAccepted, c)
}

func (p *Phone) failed(e CallFailed) {
	c := p.find(e.Call)
	if c == nil || c.dir != Outgoing || (c.state != Calling && c.state != Ringing && c.state != EarlyMedia) {
		return
	}
	why := failText(e.Status)
	p.logf(Info, "call to "+c.remote.URI+" failed: "+strconv.Itoa(e.Status)+" "+e.Reason)
	p.end(c, why)
}

// maxRedirects caps the 3xx answers one call follows, so two phones
// redirecting to each other cannot loop.
const maxRedirects = 5

// redirected follows a 3xx: the same appearance calls the new target
// under a new call ID (the old INVITE transaction is over).
func (p *Phone) redirected(e CallRedirected) {
	c := p.find(e.Call)
	if c == nil || c.dir != Outgoing || (c.state != Calling && c.state != Ringing && c.state != EarlyMedia) {
		return
	}
	target := strings.TrimSpace(e.Target)
	lower := strings.ToLower(target)
	if c.hops >= maxRedirects || !(strings.HasPrefix(lower, "sip:") || strings.HasPrefix(lower, "sips:")) {
		p.logf(Info, "call to "+c.remote.URI+" redirected ("+strconv.Itoa(e.Status)+"), not followed")
		p.end(c, "Redirected")
		return
	}
	if err := CheckSIPURI(target); err != nil {
		p.logf(Warning, "call to "+c.remote.URI+" redirected ("+strconv.Itoa(e.Status)+") to an invalid target "+quoteShort(target)+": "+err.Error())
		p.end(c, "Invalid number")
		return
	}
	p.logf(Info, "call to "+c.remote.URI+" redirected ("+strconv.Itoa(e.Status)+") to "+target)
	c.id = p.nextCallID()
	p.seq++
	c.hops++
	c.remote = Party{URI: target, Name: p.s.NameFor(target)}
	c.sipCallID = p.newSIPCallID()
	p.active = c.id
	p.emit(Dial{Call: c.id, Target: target, Identity: c.identity, SIPCallID: c.sipCallID,
		From:   Party{URI: p.localURI(c.identity), Display: p.s.Get("user_realname" + strconv.Itoa(c.identity))},
		Timers: p.callTimers()})
	p.setState(c, Calling)
}

func failText(status int) string {
	switch status {
	case 0:
		return "Network error"
	case 404:
		return "Not found"
	case 408:
		return "No answer"
	case 480:
		return "Not available"
	case 486, 600:
		return "Busy"
	case 487:
		return "Canceled"
	case 488:
		return "Not acceptable"
	case 603:
		return "Declined"
	}
	return "Failed (" + strconv.Itoa(status) + ")"
}

func (p *Phone) ended(e CallEnded) {
	c := p.find(e.Call)
	if c == nil || c.state == Ended {
		return
	}
	if c.dir == Incoming && c.state == Ringing {
		p.canceled(CallCanceled{Call: e.Call, Reason: e.Reason})
		return
	}
	switch e.Reason {
	case "", "bye":
		p.logf(Info, "call with "+displayOf(c.remote)+" ended by the remote party")
	case "transferred":
		p.logf(Info, "call with "+displayOf(c.remote)+" ended: transferred")
	default:
		// the dialog or its media died: no answer to a re-INVITE, the
		// session expired, no RTP
		p.logf(Warning, "call with "+displayOf(c.remote)+" ended: "+e.Reason)
	}
	p.end(c, "Call ended")
}

// hangup ends a call from our side.
func (p *Phone) hangup(c *call) {
	if c == nil {
		return
	}
	switch {
	case c.state == Dialing:
		p.free(c)
		p.ndigits = 0
		p.syncLEDs()
		p.render()
		return
	case c.state == Ringing && c.dir == Incoming:
		p.reject(c, 486, "Busy Here")
		return
	case c.state == Ended:
		return
	}
	p.emit(Hangup{Call: c.id})
	p.logf(Info, "hung up the call with "+displayOf(c.remote))
	p.end(c, "Call ended")
}

func (p *Phone) hold(c *call) {
	if c == nil || c.state != Connected {
		return
	}
	p.emit(HoldCall{Call: c.id})
	p.setState(c, OnHold)
	p.fire("action_hold", c, "")
}

func (p *Phone) resume(c *call) {
	if c == nil || c.state != OnHold {
		return
	}
	p.holdOthers(c)
	p.offHook()
	p.emit(ResumeCall{Call: c.id})
	p.active = c.id
	p.setState(c, Connected)
	p.fire("action_unhold", c, "")
}

func (p *Phone) transfer(number string) {
	c := p.find(p.transferring)
	p.transferring = ""
	if c == nil || (c.state != Connected && c.state != OnHold) {
		return
	}
	target, ok := p.target(number, c.identity, "transfer")
	if !ok {
		return
	}
	p.emit(TransferCall{Call: c.id, Target: target})
	p.logf(Info, "transferring "+displayOf(c.remote)+" to "+target)
	p.render()
}

// transferFailed says a transfer of c (blind or attended) was refused or
// failed; the calls stay as they were.
func (p *Phone) transferFailed(c *call, status int, reason string) {
	p.logf(Warning, "transfer of "+displayOf(c.remote)+" failed: "+strconv.Itoa(status)+" "+reason)
	p.say("Transfer failed")
	p.render()
}

// transferred is the outcome of a blind transfer: the transfer URLs fire
// when the transferee took it, as on snom; a refusal is logged and the
// call goes on.
func (p *Phone) transferred(e CallTransferred) {
	c := p.find(e.Call)
	if c == nil {
		return
	}
	if !e.OK {
		p.transferFailed(c, e.Status, e.Reason)
		return
	}
	p.logf(Info, "transferred "+displayOf(c.remote)+" to "+e.Target)
	p.fire("action_transfer", c, "")
	p.fire("action_blind_transfer", c, "")
}

// saveSetting records a user change in the settings in force and hands
// it to the adapter to keep.
func (p *Phone) saveSetting(name, value string) {
	if p.s.Get(name) == value && p.s.Meta(name).Source == provisioning.FromUser {
		return
	}
	next := p.s.Clone() // copy on write: Settings handed p.s out
	_ = next.SetFrom(name, value, provisioning.Meta{Perm: p.s.Perm(name), Source: provisioning.FromUser})
	p.s = next
	p.emit(SaveSetting{Name: name, Value: value})
}

// locked reports (and shows) that the user may not change name: its perm
// is read-only, or it was set on the command line.
func (p *Phone) locked(name, what string) bool {
	if p.s.Perm(name) != provisioning.PermReadOnly {
		return false
	}
	p.say(what + ": locked by provisioning")
	p.logf(Info, what+" not changed: "+name+" is read-only")
	p.render()
	return true
}

func (p *Phone) setDND(on bool) {
	if on == p.dnd {
		return
	}
	p.dnd = on
	p.changed = true
	p.saveSetting("dnd_mode", onOff(on))
	if on {
		p.logf(Info, "DND on")
		p.fire("action_dnd_on_url", nil, "")
	} else {
		p.logf(Info, "DND off")
		p.fire("action_dnd_off_url", nil, "")
	}
	p.syncLEDs()
	p.render()
}

func (p *Phone) setRedirect(mode string) {
	if mode == p.redirect {
		return
	}
	was := p.redirect
	p.redirect = mode
	p.changed = true
	if mode == "" {
		p.saveSetting("redirect_event", "none")
	} else {
		p.saveSetting("redirect_event", mode)
	}
	switch {
	case mode != "" && was == "":
		p.logf(Info, "redirection on ("+mode+") to "+p.redirectTarget(mode))
		p.fire("action_redirection_on_url", nil, "")
	case mode == "":
		p.logf(Info, "redirection off")
		p.fire("action_redirection_off_url", nil, "")
	default:
		p.logf(Info, "redirection mode "+mode+" to "+p.redirectTarget(mode))
	}
	p.syncLEDs()
	p.render()
}

// remember adds a party to a call list, newest first.
func (p *Phone) remember(list *[]ListEntry, who Party) {
	p.changed = true
	*list = append(*list, ListEntry{})
	copy((*list)[1:], *list)
	(*list)[0] = ListEntry{Remote: who, When: p.now}
	if len(*list) > maxListEntries {
		*list = (*list)[:maxListEntries]
	}
}

func displayOf(who Party) string {
	if who.Display != "" {
		return strconv.Quote(who.Display) + " <" + who.URI + ">"
	}
	return who.URI
}
