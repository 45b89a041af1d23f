package sipua

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
)

// sendTimeout bounds how long sending one request may take (TCP dial).
const sendTimeout = 5 * time.Second

// dial starts an outgoing call: the INVITE leaves from the call's own
// goroutine.
func (u *UA) dial(e firmware.Dial) {
	u.mu.Lock()
	_, exists := u.calls[e.Call]
	u.mu.Unlock()
	if exists {
		u.logf(firmware.Warning, "sip: Dial: call %s exists", e.Call)
		return
	}
	callID := e.SIPCallID
	if callID == "" {
		callID = randomHex(16)
	}
	c := newCall(u, e.Call, false, callID)
	c.state = calling
	c.identity = e.Identity
	if !u.register(c) {
		u.emit(firmware.CallFailed{Call: e.Call, Status: 0, Reason: "cannot place a call now"})
		return
	}
	go func() {
		if c.invite0(e) {
			c.run()
		} else {
			c.finish()
		}
	}()
}

// invite0 sends the initial INVITE; false when the call failed at once
// (CallFailed already sent).
func (c *call) invite0(e firmware.Dial) bool {
	fail := func(reason string) bool {
		c.logf(firmware.Warning, "dial %s: %s", e.Target, reason)
		c.emit(firmware.CallFailed{Call: c.id, Status: 0, Reason: reason})
		c.state = ended
		return false
	}
	if err := firmware.CheckSIPURI(e.Target); err != nil { // the core checked it too
		return fail("bad target: " + err.Error())
	}
	var target sip.Uri
	if err := sip.ParseUri(e.Target, &target); err != nil || target.Host == "" ||
		(target.Scheme != "sip" && target.Scheme != "sips") {
		return fail("bad target")
	}
	var from sip.Uri
	if err := sip.ParseUri(e.From.URI, &from); err != nil || from.Host == "" {
		from = sip.Uri{Scheme: "sip", User: "phonesim", Host: c.u.ip}
	}
	sess, err := c.listenMedia() // callmedia.go: RTP/RTCP sockets, codecs, microphone, recording
	if err != nil {
		return fail("media: " + err.Error())
	}
	c.sess.Store(sess)
	c.sdp.port = sess.Port()

	to := sip.Uri{Scheme: target.Scheme, User: target.User, Host: target.Host, Port: target.Port}
	c.dlg = dialog{
		callID:       c.sipCallID,
		localTag:     randomHex(8),
		local:        from,
		localName:    quotable(e.From.Display),
		remote:       to,
		remoteTarget: target,
		localSeq:     0,
	}
	c.marks.start(true, c.dlg.localTag, "") // pickup.go
	c.timers = e.Timers
	c.st.configure(e.Timers.SessionExpires)
	req := c.dlg.request(sip.INVITE, 0)
	c.dlg.transport = req.Transport()
	req.AppendHeader(c.contact())
	req.AppendHeader(sip.NewHeader("User-Agent", c.u.cfg.UserAgent))
	req.AppendHeader(sip.NewHeader("Allow", Allowed))
	if e.Replaces != "" { // a call placed by a REFER with Replaces (refer.go)
		req.AppendHeader(sip.NewHeader("Replaces", e.Replaces))
	}
	for _, h := range c.st.requestHeaders(true) {
		req.AppendHeader(h)
	}
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(c.sdp.offer(sendRecv))

	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	tx, err := c.u.client.TransactionRequest(ctx, req, c.u.reqOpts()...)
	if err != nil {
		c.logf(firmware.Notice, "INVITE: %v", err)
		return fail("transport error")
	}
	c.outInvite, c.outTx, c.outOpen = req, tx, true
	c.emit(firmware.CallSent{Call: c.id, SIPCallID: c.sipCallID})
	c.logf(firmware.Info, "INVITE to %s", e.Target)
	return true
}

// onResponse takes a response to our INVITE. Responses may come out of
// order or not at all (sipgo #306): each is reported as it comes.
func (c *call) onResponse(res *sip.Response) {
	switch {
	case res.IsProvisional():
		c.provisional = true
		if c.cancelWanted {
			if !c.cancelSent {
				c.sendCancel()
			}
			return
		}
		if res.StatusCode > 100 {
			if to := res.To(); to != nil {
				c.marks.provisional(tagOf(to.Params)) // pickup.go: an early dialog we initiated
			}
			c.earlyMedia(res)
			c.emit(firmware.CallProgressed{Call: c.id, Status: res.StatusCode})
		}
	case res.IsSuccess():
		c.outOpen = false
		c.established(res)
	case res.StatusCode >= 300 && res.StatusCode < 400 && res.Contact() != nil:
		// the core decides whether to follow (it caps the hops)
		c.outOpen = false
		target := inert(res.Contact().Address.String(), maxHeaderRunes)
		c.logf(firmware.Info, "INVITE redirected: %d to %s", res.StatusCode, target)
		c.emit(firmware.CallRedirected{Call: c.id, Status: res.StatusCode, Target: target})
		c.state = ended
	case isChallenge(res) && !c.cancelWanted && c.authenticate(res):
		// sent again with credentials; the call goes on
	case res.StatusCode == 422 && !c.cancelWanted && c.st.tooSmall(res) && c.inviteAgain():
		// sent again with the session interval the other side wants
	default:
		c.outOpen = false
		status, reason := res.StatusCode, inert(res.Reason, maxDisplayRunes)
		c.logf(firmware.Info, "INVITE failed: %d %s", status, reason)
		c.emit(firmware.CallFailed{Call: c.id, Status: status, Reason: reason})
		c.state = ended
	}
}

// authenticate answers a 401/407 to our INVITE once, with the dialing
// identity's credentials; false when it cannot.
func (c *call) authenticate(res *sip.Response) bool {
	if c.authTried {
		return false
	}
	c.authTried = true
	a, ok := c.u.account(c.identity)
	if !ok || a.Password == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	tx, err := c.u.client.TransactionDigestAuth(ctx, c.outInvite, res,
		sipgo.DigestAuth{Username: a.authUser(), Password: a.Password})
	if err != nil {
		c.logf(firmware.Warning, "INVITE with credentials: %v", err)
		return false
	}
	c.outTx, c.outOpen, c.provisional = tx, true, false
	c.dlg.localSeq = c.outInvite.CSeq().SeqNo
	c.logf(firmware.Info, "INVITE sent again with credentials of identity %d", c.identity)
	return true
}

// inviteAgain sends our INVITE again with the session interval a 422
// asked for (RFC 4028 §7.4); false when it cannot.
func (c *call) inviteAgain() bool {
	req := c.outInvite.Clone()
	req.RemoveHeader("Via")
	for _, name := range []string{"Supported", "Session-Expires", "Min-SE"} {
		req.RemoveHeader(name)
	}
	for _, h := range c.st.requestHeaders(true) {
		req.AppendHeader(h)
	}
	req.CSeq().SeqNo++
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	tx, err := c.u.client.TransactionRequest(ctx, req, c.u.reqOpts()...)
	if err != nil {
		c.logf(firmware.Warning, "INVITE again after 422: %v", err)
		return false
	}
	c.outInvite, c.outTx, c.outOpen, c.provisional = req, tx, true, false
	c.dlg.localSeq = req.CSeq().SeqNo
	c.logf(firmware.Info, "INVITE sent again with Session-Expires %d (422)", c.st.want)
	return true
}

// earlyMedia starts media on a provisional answer with SDP (183
// Session Progress): the ring-back or announcement the other side plays.
func (c *call) earlyMedia(res *sip.Response) {
	if len(res.Body()) == 0 {
		return
	}
	st, err := parseAnswer(res.Body())
	if err != nil {
		c.logf(firmware.Notice, "early media SDP: %v", err)
		return
	}
	c.startMedia(st)
	c.updateMedia(st)
}

// confirm takes the dialog's remote half from a 2xx to our INVITE;
// false when the answer names no one (no To).
func (c *call) confirm(res *sip.Response) bool {
	to := res.To()
	if to == nil {
		return false
	}
	c.dlg.remoteTag = tagOf(to.Params)
	c.marks.confirm(c.dlg.remoteTag) // pickup.go
	if ct := res.Contact(); ct != nil {
		c.dlg.remoteTarget = *ct.Address.Clone()
	}
	c.dlg.routes = reversed(routeSet(res))
	return true
}

// established confirms the dialog of a 2xx: ACK, media, CallAnswered.
func (c *call) established(res *sip.Response) {
	if !c.confirm(res) {
		c.logf(firmware.Warning, "2xx without To")
		c.emit(firmware.CallFailed{Call: c.id, Status: 0, Reason: "bad answer"})
		c.state = ended
		return
	}
	to := res.To()
	c.sendAck()
	if c.cancelWanted { // answered while we were canceling
		c.sendBye()
		c.emit(firmware.CallFailed{Call: c.id, Status: sip.StatusRequestTerminated, Reason: "Request Terminated"})
		c.state = ended
		return
	}
	st, err := parseAnswer(res.Body())
	if err != nil {
		c.logf(firmware.Warning, "answer SDP: %v", err)
		c.sendBye()
		c.emit(firmware.CallFailed{Call: c.id, Status: 488, Reason: "Not Acceptable Here"})
		c.state = ended
		return
	}
	c.startMedia(st)
	c.updateMedia(st) // when early media started it
	c.state = confirmed
	c.peerUpdate = allows(res, sip.UPDATE)
	c.st.answered(res)
	c.watchRTP()
	c.emit(firmware.CallAnswered{Call: c.id, Remote: firmware.Party{
		URI:     inert(to.Address.String(), maxHeaderRunes),
		Display: InertDisplay(to.DisplayName),
	}})
	c.logf(firmware.Info, "answered")
}

// onOutTxGone: our INVITE's transaction ended without a final answer.
func (c *call) onOutTxGone() {
	c.outOpen = false
	err := c.outTx.Err()
	status, reason := 0, "transport error"
	if errors.Is(err, sip.ErrTransactionTimeout) {
		status, reason = 408, "Request Timeout"
	}
	if c.cancelWanted {
		status, reason = sip.StatusRequestTerminated, "Request Terminated"
	}
	c.logf(firmware.Notice, "INVITE: %v", err)
	c.emit(firmware.CallFailed{Call: c.id, Status: status, Reason: reason})
	c.state = ended
}

// sendAck acknowledges a 2xx to our INVITE, and again for each
// retransmitted 2xx.
func (c *call) sendAck() {
	ack := c.dlg.request(sip.ACK, c.outInvite.CSeq().SeqNo)
	if err := c.u.client.WriteRequest(ack, c.u.reqOpts()...); err != nil {
		c.logf(firmware.Warning, "ACK: %v", err)
		return
	}
	again := ack.Clone()
	c.outTx.OnRetransmission(func(r *sip.Response) {
		if r.IsSuccess() {
			_ = c.u.client.WriteRequest(again.Clone(), c.u.reqOpts()...)
		}
	})
}

// sendBye ends an established dialog. The answer is awaited in the
// background (logged only); the channel closes when it came (or the
// transaction ended).
func (c *call) sendBye() <-chan struct{} {
	bye := c.dlg.request(sip.BYE, 0)
	bye.AppendHeader(sip.NewHeader("User-Agent", c.u.cfg.UserAgent))
	return c.transact(bye, "BYE")
}

// sendCancel cancels our pending INVITE (RFC 3261 §9.1): same Request-URI,
// top Via, From, To, Call-ID and CSeq number as the INVITE.
func (c *call) sendCancel() {
	c.cancelSent = true
	inv := c.outInvite
	req := sip.NewRequest(sip.CANCEL, *inv.Recipient.Clone())
	req.AppendHeader(sip.HeaderClone(inv.Via()))
	for _, h := range inv.GetHeaders("Route") {
		req.AppendHeader(sip.HeaderClone(h))
	}
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	req.AppendHeader(sip.HeaderClone(inv.From()))
	req.AppendHeader(sip.HeaderClone(inv.To()))
	req.AppendHeader(sip.HeaderClone(inv.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	req.SetTransport(inv.Transport())
	req.Laddr = inv.Laddr
	c.transact(req, "CANCEL")
}

// transact sends a request whose answer only gets logged. The channel
// closes once the final answer came, or the transaction ended without
// one.
func (c *call) transact(req *sip.Request, what string) <-chan struct{} {
	answered := make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	tx, err := c.u.client.TransactionRequest(ctx, req, c.u.reqOpts()...)
	if err != nil {
		c.logf(firmware.Warning, "%s: %v", what, err)
		close(answered)
		return answered
	}
	c.u.bgWG.Add(1)
	go func() {
		defer c.u.bgWG.Done()
		defer close(answered)
		defer tx.Terminate()
		// Close waits for this goroutine: once the UA closes, the answer
		// has shutdownGrace more to come. On a shared port the stack
		// outlives the UA, and an unanswered request would otherwise
		// hold Close for its transaction's 32 s (Timer F).
		closing := c.u.ctx.Done()
		var grace <-chan time.Time
		for {
			select {
			case res := <-tx.Responses():
				if res.IsProvisional() {
					continue
				}
				c.logf(firmware.Debug, "%s: %d %s", what, res.StatusCode, inert(res.Reason, maxDisplayRunes))
				return
			case <-tx.Done():
				c.logf(firmware.Debug, "%s: %v", what, tx.Err())
				return
			case <-closing:
				closing = nil
				t := time.NewTimer(shutdownGrace)
				defer t.Stop()
				grace = t.C
			case <-grace:
				c.logf(firmware.Notice, "%s: no answer before closing", what)
				return
			}
		}
	}()
	return answered
}

// sendReinvite offers the current hold state: a=sendonly on hold,
// a=sendrecv otherwise.
func (c *call) sendReinvite() {
	req := c.dlg.request(sip.INVITE, 0)
	req.AppendHeader(c.contact())
	req.AppendHeader(sip.NewHeader("User-Agent", c.u.cfg.UserAgent))
	req.AppendHeader(sip.NewHeader("Allow", Allowed))
	for _, h := range c.st.requestHeaders(false) {
		req.AppendHeader(h)
	}
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(c.sdp.offer(c.localDirection()))
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	tx, err := c.u.client.TransactionRequest(ctx, req, c.u.reqOpts()...)
	if err != nil {
		c.logf(firmware.Warning, "re-INVITE: %v", err)
		return
	}
	c.reTx, c.reInvite, c.reHold = tx, req, c.held
	c.reTimer = time.NewTimer(c.u.txTimeout())
	c.logf(firmware.Info, "re-INVITE (hold=%v)", c.held)
}

// clearReinvite forgets our re-INVITE (its answer came, or never will).
func (c *call) clearReinvite() {
	if c.reTimer != nil {
		c.reTimer.Stop()
		c.reTimer = nil
	}
	c.reTx, c.reInvite = nil, nil
}

// onReinviteGone: our re-INVITE got no final answer in time. As a 408
// (RFC 3261 §14.1, §12.2.1.2), the dialog is over: BYE, CallEnded.
func (c *call) onReinviteGone() {
	tx := c.reTx
	c.clearReinvite()
	if tx != nil {
		tx.Terminate()
	}
	c.endDialog("no answer to re-INVITE")
}

// dialogGone reports whether a final answer to a request of ours within
// the dialog says the dialog is gone (RFC 3261 §12.2.1.2: 481, 408).
func dialogGone(res *sip.Response) bool {
	return res.StatusCode == 481 || res.StatusCode == 408
}

func (c *call) onReinviteResponse(res *sip.Response) {
	if res.IsProvisional() {
		return
	}
	tx, req := c.reTx, c.reInvite
	c.clearReinvite()
	switch {
	case dialogGone(res):
		tx.Terminate()
		c.endDialog(fmt.Sprintf("re-INVITE answered %d %s", res.StatusCode, inert(res.Reason, maxDisplayRunes)))
		return
	case c.st.tooSmall(res):
		c.sendReinvite()
		return
	}
	if res.IsSuccess() {
		ack := c.dlg.request(sip.ACK, req.CSeq().SeqNo)
		if err := c.u.client.WriteRequest(ack, c.u.reqOpts()...); err != nil {
			c.logf(firmware.Warning, "ACK to re-INVITE: %v", err)
		}
		again := ack.Clone()
		tx.OnRetransmission(func(r *sip.Response) {
			if r.IsSuccess() {
				_ = c.u.client.WriteRequest(again.Clone(), c.u.reqOpts()...)
			}
		})
		if ct := res.Contact(); ct != nil {
			c.dlg.remoteTarget = *ct.Address.Clone()
		}
		if st, err := parseAnswer(res.Body()); err == nil {
			c.updateMedia(st)
		}
		c.st.answered(res) // a re-INVITE refreshes the session
	} else {
		c.logf(firmware.Notice, "re-INVITE refused: %v (local hold state kept)", statusError(res))
	}
	if c.holdDirty || c.reHold != c.held {
		c.holdDirty = false
		if c.state == confirmed {
			c.sendReinvite()
		}
	}
}

// sendUpdate refreshes the session with an UPDATE without a body (RFC
// 3311, RFC 4028 §7.4).
func (c *call) sendUpdate() {
	req := c.dlg.request(sip.UPDATE, 0)
	req.AppendHeader(c.contact())
	req.AppendHeader(sip.NewHeader("User-Agent", c.u.cfg.UserAgent))
	for _, h := range c.st.requestHeaders(false) {
		req.AppendHeader(h)
	}
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	tx, err := c.u.client.TransactionRequest(ctx, req, c.u.reqOpts()...)
	if err != nil {
		c.logf(firmware.Warning, "UPDATE: %v", err)
		return
	}
	c.updTx, c.updTimer = tx, time.NewTimer(c.u.txTimeout())
}

func (c *call) clearUpdate() {
	if c.updTimer != nil {
		c.updTimer.Stop()
		c.updTimer = nil
	}
	if c.updTx != nil {
		c.updTx.Terminate()
		c.updTx = nil
	}
}

func (c *call) onUpdateResponse(res *sip.Response) {
	if res.IsProvisional() {
		return
	}
	c.clearUpdate()
	switch {
	case res.IsSuccess():
		c.st.answered(res)
	case dialogGone(res):
		c.endDialog(fmt.Sprintf("UPDATE answered %d %s", res.StatusCode, inert(res.Reason, maxDisplayRunes)))
	case c.st.tooSmall(res):
		c.sendUpdate()
	case res.StatusCode == 405 || res.StatusCode == 501:
		c.peerUpdate = false // refresh by re-INVITE from now on
		c.sendReinvite()
	default:
		c.logf(firmware.Notice, "session refresh refused: %v", statusError(res))
	}
}

// onUpdateGone: our UPDATE got no final answer in time: as a 408, the
// dialog is over.
func (c *call) onUpdateGone() {
	c.clearUpdate()
	c.endDialog("no answer to UPDATE")
}

// sendInfoDTMF sends digits as SIP INFO (application/dtmf-relay) when
// the other side did not offer telephone-event.
func (c *call) sendInfoDTMF(digits string) {
	for i := range len(digits) {
		if _, ok := dtmfEvent(digits[i]); !ok {
			continue
		}
		req := c.dlg.request(sip.INFO, 0)
		req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
		req.SetBody([]byte("Signal=" + string(digits[i]) + "\r\nDuration=160\r\n"))
		c.transact(req, "INFO")
	}
}

func dtmfEvent(d byte) (byte, bool) {
	switch {
	case d >= '0' && d <= '9', d == '*', d == '#', d >= 'A' && d <= 'D', d >= 'a' && d <= 'd':
		return d, true
	}
	return 0, false
}

// transfer asks the other side to call target instead (blind transfer,
// RFC 3515). Once the REFER is accepted we hang up: the NOTIFYs about the
// new call are not awaited.
func (c *call) transfer(target string) {
	if c.state == answered { // after the ACK
		c.referOnAck = target
		return
	}
	refused := func(reason string) {
		c.emit(firmware.CallTransferred{Call: c.id, Target: target, Reason: reason})
	}
	if c.state != confirmed || c.referTx != nil {
		c.logf(firmware.Notice, "transfer: call not connected")
		refused("call not connected")
		return
	}
	var to sip.Uri
	if err := sip.ParseUri(target, &to); err != nil || to.Host == "" || firmware.CheckSIPURI(target) != nil {
		c.logf(firmware.Warning, "transfer: bad target %q", target)
		refused("bad target")
		return
	}
	tx, err := c.sendRefer(&sip.ReferToHeader{Address: to})
	if err != nil {
		c.logf(firmware.Warning, "transfer: %v", err)
		refused("transport error")
		return
	}
	c.referTx, c.referTarget = tx, target
	c.logf(firmware.Info, "REFER to %s", inert(target, maxHeaderRunes))
}

func (c *call) onReferResponse(res *sip.Response) {
	if c.xfer != nil {
		c.onAttendedReferResponse(res) // refer.go
		return
	}
	if res.IsProvisional() {
		return
	}
	c.referTx.Terminate()
	c.referTx = nil
	if !res.IsSuccess() {
		c.logf(firmware.Notice, "transfer refused: %v", statusError(res))
		c.emit(firmware.CallTransferred{Call: c.id, Target: c.referTarget, Status: res.StatusCode, Reason: inert(res.Reason, maxHeaderRunes)})
		return
	}
	c.emit(firmware.CallTransferred{Call: c.id, Target: c.referTarget, OK: true, Status: res.StatusCode})
	c.sendBye()
	c.emit(firmware.CallEnded{Call: c.id, Reason: "transferred"})
	c.state = ended
}
