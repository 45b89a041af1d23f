package sipua

import (
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
	"phonesim/sipua/media"
)

// guard keeps a handler's panic (malformed input we did not foresee)
// from taking the phone down.
func (u *UA) guard(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		defer func() {
			if p := recover(); p != nil {
				u.logf(firmware.Error, "sip: panic handling %s: %v", req.Method, p)
				func() {
					defer func() { _ = recover() }()
					if tx != nil && !req.IsAck() {
						_ = tx.Respond(sip.NewResponseFromRequest(req, 500, "Server Internal Error", nil))
					}
				}()
			}
		}()
		h(req, tx)
	}
}

// respondStateless answers a request outside any call.
func (u *UA) respondStateless(req *sip.Request, tx sip.ServerTransaction, status int, reason string) {
	if tx == nil || req.IsAck() {
		return
	}
	res := sip.NewResponseFromRequest(req, status, reason, nil)
	u.decorate(res, nil, nil)
	if err := tx.Respond(res); err != nil {
		u.logf(firmware.Debug, "sip: responding %d to %s: %v", status, req.Method, err)
	}
}

// onInvite takes a new INVITE: it offers the call to the core, then runs
// the call in this goroutine until the call ends. sipgo wants the
// handler to stay until the final answer; ours stays for the whole call.
func (u *UA) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	from, to, callID, cseq, contact := req.From(), req.To(), req.CallID(), req.CSeq(), req.Contact()
	if from == nil || to == nil || callID == nil || cseq == nil || contact == nil {
		u.respondStateless(req, tx, 400, "Bad Request")
		return
	}
	if tagOf(to.Params) != "" {
		u.onInDialog(req, tx)
		return
	}
	offer := req.Body()
	if len(offer) > 0 {
		if ct := req.ContentType(); ct != nil && !strings.HasPrefix(strings.ToLower(ct.Value()), "application/sdp") {
			u.respondStateless(req, tx, 415, "Unsupported Media Type")
			return
		}
		if err := u.checkOffer(req, offer); err != nil { // callmedia.go: the called identity's codecs
			u.logf(firmware.Notice, "sip: INVITE from %s refused: %v", inert(from.Address.String(), maxHeaderRunes), err)
			u.respondStateless(req, tx, 488, "Not Acceptable Here")
			return
		}
	} else {
		offer = nil
	}
	if u.callBySIP(callID.Value()) != nil {
		u.respondStateless(req, tx, 482, "Loop Detected")
		return
	}
	replaced, status := u.replacedCall(req) // replaces.go
	if status == 486 {
		u.respondStateless(req, tx, 486, "Busy Here") // early-only, and the dialog is confirmed
		return
	} else if status != 0 {
		u.respondStateless(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}

	u.mu.Lock()
	u.incoming++
	id := firmware.CallID(fmt.Sprintf("in-%d", u.incoming))
	u.mu.Unlock()

	c := newCall(u, id, true, callID.Value())
	// Our To tag goes on the request sipgo keeps too: it builds the 487 to
	// a CANCEL from it, and every response must carry the same tag. The
	// call keeps that request, not a copy: from here on nothing writes to
	// it, and sipgo only reads it.
	localTag := randomHex(8)
	req.To().Params.Add("tag", localTag)
	c.invite, c.inviteTx, c.offer, c.state = req, tx, offer, offered
	c.dlg = dialog{
		callID:       callID.Value(),
		localTag:     localTag,
		remoteTag:    tagOf(from.Params),
		local:        *to.Address.Clone(),
		localName:    to.DisplayName,
		remote:       *from.Address.Clone(),
		remoteName:   from.DisplayName,
		remoteTarget: *contact.Address.Clone(),
		routes:       routeSet(req),
		localSeq:     1,
		remoteSeq:    cseq.SeqNo,
		transport:    req.Transport(),
	}
	c.marks.start(false, localTag, c.dlg.remoteTag) // pickup.go
	if !u.register(c) {
		u.respondStateless(req, tx, 486, "Busy Here")
		return
	}
	// The closure holds the channel, not the call: sipgo keeps the
	// transaction (and so its callbacks) 32 s after the call ended.
	canceled := c.canceled
	if !tx.OnCancel(func(r *sip.Request) {
		select {
		case canceled <- r:
		default:
		}
	}) {
		// Canceled or gone before we got here.
		c.state = ended
		c.finish()
		return
	}
	c.respond(100, "Trying", nil)

	c.emit(firmware.CallOffered{
		Call:      id,
		SIPCallID: inert(callID.Value(), maxHeaderRunes),
		From:      firmware.Party{URI: inert(from.Address.String(), maxHeaderRunes), Display: InertDisplay(from.DisplayName)},
		To:        inert(req.Recipient.User, maxDisplayRunes),
		Headers:   headerMap(req),
		Source:    req.Source(),
		Replaces:  replaced,
	})
	c.logf(firmware.Info, "INVITE from %s", inert(from.Address.String(), maxHeaderRunes))
	if note := cutNote(from.DisplayName, callID.Value(), from.Address.String(), req.Headers()); note != "" {
		c.logf(firmware.Notice, "INVITE values over their cap were cut: %s", note)
	}
	c.run()
}

// respond answers the call's INVITE.
func (c *call) respond(status int, reason string, body []byte, hdrs ...sip.Header) *sip.Response {
	res := sip.NewResponseFromRequest(c.invite, status, reason, body)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	c.u.decorate(res, c.contact(), body)
	if err := c.inviteTx.Respond(res); err != nil {
		c.logf(firmware.Debug, "responding %d: %v", status, err)
		return nil
	}
	return res
}

// answer accepts the call: 200 with our SDP (and the session timer),
// media on, wait for the ACK.
func (c *call) answer(timers firmware.CallTimers) {
	c.timers = timers
	c.st.configure(timers.SessionExpires)
	sess, err := c.listenMedia() // callmedia.go: RTP/RTCP sockets, codecs, microphone, recording
	if err != nil {
		c.logf(firmware.Error, "RTP socket: %v", err)
		c.respond(500, "Server Internal Error", nil)
		c.emit(firmware.CallEnded{Call: c.id, Reason: "media error"})
		c.state = ended
		return
	}
	c.sess.Store(sess)
	c.sdp.port = sess.Port()

	var body []byte
	st := stream{payloadType: media.PayloadPCMU, dir: sendRecv}
	if c.offer != nil {
		body, st, err = c.sdp.answer(c.offer, c.localDirection())
		if err != nil {
			c.logf(firmware.Notice, "SDP answer: %v", err)
			c.respond(488, "Not Acceptable Here", nil)
			c.emit(firmware.CallEnded{Call: c.id, Reason: "488 Not Acceptable Here"})
			c.state = ended
			return
		}
	} else {
		body = c.sdp.offer(c.localDirection())
		st.dir = recvOnly // nothing to send to until the ACK's answer
	}
	c.marks.confirm("") // pickup.go: confirmed once our 2xx leaves
	res := c.respond(200, "OK", body, c.st.answer(c.invite)...)
	if res == nil {
		select {
		case r := <-c.canceled: // the CANCEL won the race with our 200
			c.onCancel(r)
		default:
			c.emit(firmware.CallEnded{Call: c.id, Reason: "transport error"})
			c.state = ended
		}
		return
	}
	c.startMedia(st)
	c.waitAck(res, c.inviteTx, c.dlg.remoteSeq, c.offer == nil)
	c.state = answered
	c.peerUpdate = allows(c.invite, sip.UPDATE)
	c.watchRTP()
	c.logf(firmware.Info, "answered")
}

// waitAck starts the 2xx retransmissions and the ACK deadline.
func (c *call) waitAck(res *sip.Response, tx sip.ServerTransaction, seq uint32, offered bool) {
	c.stopAckWait()
	c.ack = &ackWait{res: res, tx: tx, seq: seq, offered: offered, every: sip.T1,
		deadline: time.NewTimer(64 * sip.T1)}
	if !sip.IsReliable(c.dlg.transport) {
		c.ack.resend = time.NewTimer(sip.T1)
	}
}

func (c *call) stopAckWait() {
	if c.ack == nil {
		return
	}
	if c.ack.resend != nil {
		c.ack.resend.Stop()
	}
	c.ack.deadline.Stop()
	c.ack = nil
}

func (c *call) resend2xx() {
	if err := c.ack.tx.Respond(c.ack.res); err != nil {
		c.logf(firmware.Debug, "resending 2xx: %v", err)
	}
	c.ack.every = min(2*c.ack.every, sip.T2)
	c.ack.resend.Reset(c.ack.every)
}

func (c *call) onNoAck() {
	c.logf(firmware.Warning, "no ACK for our 2xx")
	c.stopAckWait()
	c.sendBye()
	if !c.byeOnAck {
		c.emit(firmware.CallEnded{Call: c.id, Reason: "no ACK"})
	}
	c.state = ended
}

func (c *call) onAck(req *sip.Request) {
	if c.ack == nil || req.CSeq() == nil || req.CSeq().SeqNo != c.ack.seq {
		return // a retransmission, or an ACK for a non-2xx (the transaction's)
	}
	offered := c.ack.offered
	c.stopAckWait()
	if offered {
		if st, err := parseAnswer(req.Body()); err == nil {
			c.updateMedia(st)
		} else {
			c.logf(firmware.Notice, "no usable answer in ACK: %v", err)
		}
	}
	if c.state == answered {
		c.state = confirmed
		if c.byeOnAck {
			c.sendBye()
			c.state = ended
			return
		}
		if c.holdDirty {
			c.holdDirty = false
			c.sendReinvite()
		}
		if t := c.referOnAck; t != "" {
			c.referOnAck = ""
			c.transfer(t)
		}
	}
}

// onReinvite answers the other side's re-INVITE (hold, resume, new
// address).
func (c *call) onReinvite(r *inRequest) {
	req := r.req
	if c.state != confirmed || c.ack != nil {
		c.reply(r, 500, "Server Internal Error", nil, sip.NewHeader("Retry-After", "1"))
		return
	}
	if c.reTx != nil {
		c.reply(r, 491, "Request Pending", nil)
		return
	}
	if cseq := req.CSeq(); cseq.SeqNo <= c.dlg.remoteSeq {
		c.reply(r, 500, "Server Internal Error", nil)
		return
	} else {
		c.dlg.remoteSeq = cseq.SeqNo
	}
	if ct := req.Contact(); ct != nil {
		c.dlg.remoteTarget = *ct.Address.Clone()
	}
	var body []byte
	offered := len(req.Body()) == 0
	if offered {
		body = c.sdp.offer(c.localDirection())
	} else {
		ans, st, err := c.sdp.answer(req.Body(), c.localDirection())
		if err != nil {
			c.reply(r, 488, "Not Acceptable Here", nil)
			return
		}
		body = ans
		c.updateMedia(st)
		c.logf(firmware.Info, "re-INVITE: remote %s", st.dir)
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	for _, h := range c.st.answer(req) { // the re-INVITE refreshes the session
		res.AppendHeader(h)
	}
	c.u.decorate(res, c.contact(), body)
	if err := r.tx.Respond(res); err != nil {
		c.logf(firmware.Debug, "responding to re-INVITE: %v", err)
		return
	}
	c.waitAck(res, r.tx, req.CSeq().SeqNo, offered)
}

// onUpdate answers UPDATE: session refresh, or an offer.
func (c *call) onUpdate(r *inRequest) {
	refresh := func() []sip.Header {
		if c.state != confirmed {
			return nil
		}
		return c.st.answer(r.req)
	}
	if len(r.req.Body()) == 0 {
		c.reply(r, 200, "OK", nil, refresh()...)
		return
	}
	ans, st, err := c.sdp.answer(r.req.Body(), c.localDirection())
	if err != nil {
		c.reply(r, 488, "Not Acceptable Here", nil)
		return
	}
	c.updateMedia(st)
	c.reply(r, 200, "OK", ans, refresh()...)
}

// onInfo takes DTMF sent as SIP INFO (application/dtmf-relay,
// application/dtmf).
func (c *call) onInfo(r *inRequest) {
	ct := ""
	if h := r.req.ContentType(); h != nil {
		ct = strings.ToLower(h.Value())
	}
	body := string(r.req.Body())
	var digit string
	switch {
	case strings.HasPrefix(ct, "application/dtmf-relay"):
		for _, line := range strings.Split(body, "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				digit = strings.TrimSpace(v)
			}
		}
	case strings.HasPrefix(ct, "application/dtmf"):
		digit = strings.TrimSpace(body)
	}
	c.reply(r, 200, "OK", nil)
	if len(digit) == 1 && strings.IndexByte("0123456789*#ABCDabcd", digit[0]) >= 0 {
		c.emit(firmware.DTMFReceived{Call: c.id, Digit: strings.ToUpper(digit)[0]})
	}
}

// redirect answers 3xx with the target as Contact.
func (c *call) redirect(e firmware.Redirect) {
	status := e.Status
	if status < 300 || status > 399 {
		status = 302
	}
	var target sip.Uri
	if err := sip.ParseUri(e.Target, &target); err != nil || target.Host == "" || firmware.CheckSIPURI(e.Target) != nil {
		c.logf(firmware.Warning, "redirect target %q: not a SIP URI", e.Target)
		c.respond(480, "Temporarily Unavailable", nil)
		c.state = ended
		return
	}
	c.respond(status, reasonPhrase(status), nil, &sip.ContactHeader{Address: target})
	c.state = ended
}

// dispatch hands an in-dialog request to its call, or answers 481.
func (u *UA) dispatch(req *sip.Request, tx sip.ServerTransaction) {
	callID := req.CallID()
	if callID == nil || req.From() == nil || req.To() == nil || req.CSeq() == nil {
		u.respondStateless(req, tx, 400, "Bad Request")
		return
	}
	c := u.callBySIP(callID.Value())
	if c == nil {
		u.respondStateless(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	r := &inRequest{req: req, tx: tx, handled: make(chan struct{})}
	select {
	case c.requests <- r:
		<-r.handled
	case <-c.done:
		u.respondStateless(req, tx, 481, "Call/Transaction Does Not Exist")
	}
}

func (u *UA) onInDialog(req *sip.Request, tx sip.ServerTransaction) {
	to := req.To()
	if to != nil && tagOf(to.Params) == "" && req.Method != sip.NOTIFY {
		// Outside a dialog: we take INVITE and OPTIONS only.
		u.respondStateless(req, tx, 405, "Method Not Allowed")
		return
	}
	u.dispatch(req, tx)
}

func (u *UA) onAck(req *sip.Request, _ sip.ServerTransaction) {
	u.dispatch(req, nil)
}

// onStrayCancel answers a CANCEL that matched no INVITE transaction
// (sipgo handles the ones that do).
func (u *UA) onStrayCancel(req *sip.Request, tx sip.ServerTransaction) {
	u.respondStateless(req, tx, 481, "Call/Transaction Does Not Exist")
}

func (u *UA) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && tagOf(to.Params) != "" && u.callBySIP(callIDOf(req)) == nil {
		u.respondStateless(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	u.decorate(res, nil, nil)
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	if err := tx.Respond(res); err != nil {
		u.logf(firmware.Debug, "sip: responding to OPTIONS: %v", err)
	}
}

// onOther answers methods we do not handle: 481 within an unknown
// dialog, 501 within a known one, 405 outside dialogs.
func (u *UA) onOther(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && tagOf(to.Params) != "" {
		if u.callBySIP(callIDOf(req)) == nil {
			u.respondStateless(req, tx, 481, "Call/Transaction Does Not Exist")
			return
		}
		u.respondStateless(req, tx, 501, "Not Implemented")
		return
	}
	u.respondStateless(req, tx, 405, "Method Not Allowed")
}

func callIDOf(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}
