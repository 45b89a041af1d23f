package firmware

// A local three-way conference: with one call on hold and one connected,
// the Conference key joins them; the phone mixes the audio so each party
// hears the other two. Conference again (or the Split softkey) splits it:
// the other call goes back on hold. Going on hook ends both calls; when
// one of them ends, the other goes on as an ordinary call.

// Conference asks the SIP adapter to mix Call and With (both connected).
type Conference struct {
	Call CallID
	With CallID
}

// SplitConference undoes Conference: each call has its own audio again.
type SplitConference struct {
	Call CallID
	With CallID
}

func (e Conference) OfCall() CallID      { return e.Call }
func (e SplitConference) OfCall() CallID { return e.Call }
func (Conference) effect()               {}
func (SplitConference) effect()          {}

// confPartner returns the call c is in a conference with, if any.
func (p *Phone) confPartner(c *call) *call {
	if c == nil || c.conf == "" {
		return nil
	}
	o := p.find(c.conf)
	if o == nil || o.conf != c.id || o.state != Connected || c.state != Connected {
		return nil
	}
	return o
}

// conferenceKey is the Conference key (F_CONFERENCE).
func (p *Phone) conferenceKey() {
	active := p.find(p.active)
	if o := p.confPartner(active); o != nil {
		p.splitConference(active, o)
		return
	}
	held := p.heldCall()
	if active == nil || active.state != Connected || held == nil || held == active {
		p.say("Conference: not available") // needs a call on hold and one connected
		p.render()
		return
	}
	p.transferring = ""
	p.ndigits = 0
	p.emit(ResumeCall{Call: held.id})
	active.conf, held.conf = held.id, active.id
	p.setState(held, Connected)
	p.fire("action_unhold", held, "")
	p.emit(Conference{Call: active.id, With: held.id})
	p.logf(Info, "conference with "+displayOf(active.remote)+" and "+displayOf(held.remote))
	p.say("Conference")
	p.render()
}

// splitConference puts the other call back on hold; c stays connected.
func (p *Phone) splitConference(c, o *call) {
	c.conf, o.conf = "", ""
	p.emit(SplitConference{Call: c.id, With: o.id})
	p.logf(Info, "conference split: "+displayOf(o.remote)+" on hold")
	p.hold(o)
	p.active = c.id
	p.say("Conference split")
	p.render()
}

// confEnded is called when c ends: its partner goes on alone.
func (p *Phone) confEnded(c *call) {
	if c.conf == "" {
		return
	}
	o := p.find(c.conf)
	c.conf = ""
	if o == nil || o.conf != c.id {
		return
	}
	o.conf = ""
	p.emit(SplitConference{Call: o.id, With: c.id})
	if o.state != Ended {
		p.active = o.id
	}
}

// inConference reports whether the active call is in a conference.
func (p *Phone) inConference() bool { return p.confPartner(p.find(p.active)) != nil }
