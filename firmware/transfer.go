package firmware

import "strconv"

// AttendedTransfer asks the SIP adapter to transfer Call (the party on
// hold, the transferee) to the other end of Consult (the consultation
// call, connected): a REFER in Call's dialog whose Refer-To names
// Consult's remote party with a Replaces of Consult's dialog (RFC 5589
// §7). The outcome comes back as AttendedTransferDone.
type AttendedTransfer struct {
	Call    CallID
	Consult CallID
}

func (e AttendedTransfer) OfCall() CallID { return e.Call }
func (AttendedTransfer) effect()          {}

// AttendedTransferDone is the outcome of an AttendedTransfer: OK when the
// transferee reached the target (a 2xx in the NOTIFY's message/sipfrag);
// otherwise Status and Reason of the refusal (the REFER's answer, or the
// new call's final answer).
type AttendedTransferDone struct {
	Call    CallID
	Consult CallID
	OK      bool
	Status  int
	Reason  string
}

func (AttendedTransferDone) event() {}

// AttendedTransferAccepted says the transferee accepted the REFER of an
// AttendedTransfer (202): the outcome is to come in NOTIFYs, and the
// phone waits for it at most xferNotifyTicks.
type AttendedTransferAccepted struct {
	Call    CallID
	Consult CallID
}

func (AttendedTransferAccepted) event() {}

// xferNotifyTicks is how long after the transferee accepted our REFER
// the phone waits for a final NOTIFY (a 2xx or >= 300 sipfrag, or the
// subscription terminated): 30 s. snom has no setting for it (its
// release_xferred_call_on / retrieve_xferred_call_on name the sipfrag
// codes that decide, not a time).
const xferNotifyTicks = 30 * ticksPerSecond

// pendingXfer is an attended transfer of ours awaiting its outcome.
type pendingXfer struct {
	held, consult CallID
	deadline      int64 // tick by which a final NOTIFY must have come; 0 until the REFER is accepted
}

// attendedTransfer transfers the call on hold to the consultation call
// (the one the Transfer key was pressed on, now collecting a target). It
// reports whether there was something to transfer.
func (p *Phone) attendedTransfer() bool {
	consult := p.find(p.transferring)
	held := p.heldCall()
	if consult == nil || consult.state != Connected || held == nil || held == consult {
		if consult != nil {
			p.say("No call on hold: dial a number")
			p.render()
		}
		return false
	}
	if p.xfer.held != "" {
		p.transferring = ""
		p.ndigits = 0
		p.say("Transfer in progress")
		p.render()
		return true
	}
	p.transferring = ""
	p.ndigits = 0
	p.xfer = pendingXfer{held: held.id, consult: consult.id}
	p.emit(AttendedTransfer{Call: held.id, Consult: consult.id})
	p.logf(Info, "transferring "+displayOf(held.remote)+" to "+displayOf(consult.remote)+" (attended)")
	p.render()
	return true
}

// attendedTransferDone is the end of an attended transfer: on success
// the transfer URLs fire and both calls end; a failure is logged and
// both calls stay as they were.
func (p *Phone) attendedTransferDone(e AttendedTransferDone) {
	if p.xfer.held != e.Call {
		// none pending: a late NOTIFY after the wait for it ran out
		p.logf(Debug, "transfer outcome for "+string(e.Call)+" ignored: no transfer of it pending")
		return
	}
	p.xfer = pendingXfer{}
	held, consult := p.find(e.Call), p.find(e.Consult)
	if held == nil {
		return
	}
	if !e.OK {
		p.transferFailed(held, e.Status, e.Reason)
		return
	}
	to := ""
	if consult != nil {
		to = " to " + displayOf(consult.remote)
	}
	p.logf(Info, "transferred "+displayOf(held.remote)+to)
	p.fire("action_transfer", held, "")
	p.fire("action_attended_transfer", held, "")
	for _, c := range []*call{held, consult} {
		if c == nil || c.state == Ended {
			continue
		}
		p.emit(Hangup{Call: c.id})
		p.end(c, "Transferred")
	}
}

// attendedTransferAccepted starts the wait for the transfer's outcome.
func (p *Phone) attendedTransferAccepted(e AttendedTransferAccepted) {
	if p.xfer.held != e.Call || p.xfer.deadline != 0 {
		return
	}
	p.xfer.deadline = p.ticks + xferNotifyTicks
	if held := p.find(e.Call); held != nil {
		p.logf(Info, "transfer of "+displayOf(held.remote)+" accepted; waiting for its outcome")
	}
}

// attendedTransferDue ends the wait for a transfer's outcome. The
// transferee accepted the REFER (202) but no final NOTIFY came within
// xferNotifyTicks: the phone takes the transfer as done, as snom does
// once the transferee has the call in hand (release_xferred_call_on), and
// releases both calls, so the line is not held forever by a peer that
// never reports. The transfer Action URLs do not fire: the outcome is
// not known. A held call that ended meanwhile ends the wait.
func (p *Phone) attendedTransferDue() {
	if p.xfer.held == "" {
		return
	}
	held, consult := p.find(p.xfer.held), p.find(p.xfer.consult)
	if held == nil || held.state == Ended {
		p.xfer = pendingXfer{}
		return
	}
	if p.xfer.deadline == 0 || p.ticks < p.xfer.deadline {
		return
	}
	p.xfer = pendingXfer{}
	to := ""
	if consult != nil {
		to = " to " + displayOf(consult.remote)
	}
	p.logf(Warning, "transfer of "+displayOf(held.remote)+to+": no final NOTIFY "+
		strconv.FormatInt(xferNotifyTicks/ticksPerSecond, 10)+" s after the REFER was accepted; taken as done, calls released (transfer URLs not fired: outcome unknown)")
	for _, c := range []*call{held, consult} {
		if c == nil || c.state == Ended {
			continue
		}
		p.emit(Hangup{Call: c.id})
		p.end(c, "Transferred (unconfirmed)")
	}
}

// CallReferred is a REFER the other side of Call sent us, already
// accepted (202) by the adapter: call Target. Replaces, when set, is the
// Replaces header value the new INVITE must carry (attended transfer).
type CallReferred struct {
	Call     CallID
	Target   string // a SIP URI, without URI headers
	Replaces string
	By       string // Referred-By, network text made inert
}

func (CallReferred) event() {}

// ReferProgress reports to the party that referred Call how the new call
// went: a NOTIFY with "SIP/2.0 Status Reason" as message/sipfrag; a final
// Status (200 or more) ends the implicit subscription.
type ReferProgress struct {
	Call   CallID
	Status int
	Reason string
}

func (e ReferProgress) OfCall() CallID { return e.Call }
func (ReferProgress) effect()          {}

// referred places the call a REFER asks for. The referred call goes on
// hold (startDialing holds the others) and ends once the new call is
// answered.
func (p *Phone) referred(e CallReferred) {
	c := p.find(e.Call)
	if c == nil || (c.state != Connected && c.state != OnHold) {
		p.emit(ReferProgress{Call: e.Call, Status: 481, Reason: "Call/Transaction Does Not Exist"})
		return
	}
	uri, ok := p.target(e.Target, c.identity, "transfer")
	if !ok {
		p.emit(ReferProgress{Call: e.Call, Status: 400, Reason: "Bad Request"})
		return
	}
	by := displayOf(c.remote)
	p.logf(Info, "transfer: "+by+" refers us to "+uri)
	if p.dialingCall() != nil {
		// the user was typing a number: the transfer takes that appearance
		p.ndigits = 0
	}
	n := p.startDialing()
	if n == nil {
		p.emit(ReferProgress{Call: e.Call, Status: 486, Reason: "Busy Here"})
		return
	}
	n.identity = c.identity
	n.referrer = c.id
	n.remote = Party{URI: uri}
	n.remote.Name = p.s.NameFor(uri)
	n.sipCallID = p.newSIPCallID()
	p.active = n.id
	p.offHook()
	p.emit(Dial{Call: n.id, Target: uri, Identity: n.identity, SIPCallID: n.sipCallID,
		From:     Party{URI: p.localURI(n.identity), Display: p.s.Get("user_realname" + strconv.Itoa(n.identity))},
		Timers:   p.callTimers(),
		Replaces: e.Replaces})
	p.setState(n, Calling)
	p.remember(&p.dialed, n.remote)
	p.changed = true
	p.logf(Info, "calling "+uri+" (transferred by "+by+")")
	p.fire("action_outgoing_url", n, "")
}

// referOutcome tells the referrer how the call its REFER placed went; on
// success the referred call ends.
func (p *Phone) referOutcome(id CallID, status int, reason string) {
	n := p.find(id)
	if n == nil || n.referrer == "" || n.dir != Outgoing || (n.state != Calling && n.state != Ringing && n.state != EarlyMedia) {
		return
	}
	ref := n.referrer
	n.referrer = ""
	p.emit(ReferProgress{Call: ref, Status: status, Reason: reason})
	if status < 200 || status >= 300 {
		return
	}
	if c := p.find(ref); c != nil && c.state != Ended {
		p.emit(Hangup{Call: c.id})
		p.logf(Info, "call with "+displayOf(c.remote)+" ended: transferred")
		p.end(c, "")
	}
}

// replacing takes an INVITE whose Replaces names one of our calls (RFC
// 3891): the new call is answered at once and the old one ends. The
// adapter answered 481 already when the Replaces named no call of ours.
func (p *Phone) replacing(e CallOffered) {
	old := p.find(e.Replaces)
	if old == nil || old.state == Ended || old.state == Dialing {
		p.emit(Reject{Call: e.Call, Status: 481, Reason: "Call/Transaction Does Not Exist"})
		return
	}
	p.logf(Info, "call with "+displayOf(old.remote)+" replaced by "+e.From.URI)
	identity := old.identity
	p.emit(Hangup{Call: old.id})
	p.end(old, "")
	c := p.alloc(e.Call, Incoming)
	if c == nil {
		p.emit(Reject{Call: e.Call, Status: 486, Reason: "Busy Here"})
		return
	}
	c.sipCallID = e.SIPCallID
	c.remote = e.From
	c.remote.Name = p.s.NameFor(e.From.URI)
	c.identity = identity
	c.headers = e.Headers
	c.state = Ringing
	p.assignLineKeys()
	p.answer(c)
}
