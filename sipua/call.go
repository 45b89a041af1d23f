package sipua

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
	"phonesim/sipua/media"
)

// callState is where a call is in its INVITE dialog.
type callState uint8

const (
	offered   callState = iota // incoming: INVITE received, no final answer yet
	calling                    // outgoing: INVITE sent, no final answer yet
	answered                   // incoming: 200 sent, waiting for the ACK
	confirmed                  // the call is up
	ended
)

func (s callState) String() string {
	return [...]string{"offered", "calling", "answered", "confirmed", "ended"}[s]
}

// inRequest is a request sipgo handed to us for a call. The call's
// goroutine answers it and closes handled.
type inRequest struct {
	req     *sip.Request
	tx      sip.ServerTransaction // nil for ACK
	handled chan struct{}
}

// ackWait is a 2xx to an INVITE of the other side that waits for its
// ACK; over UDP we send it again, T1, 2T1, ... up to T2 (RFC 3261
// §13.3.1.4).
type ackWait struct {
	res      *sip.Response
	tx       sip.ServerTransaction
	seq      uint32
	offered  bool // our 2xx carried an offer: the answer comes in the ACK
	every    time.Duration
	resend   *time.Timer
	deadline *time.Timer
}

// call is one call. Everything but the channels, done and sess is owned
// by the goroutine running run.
type call struct {
	u         *UA
	id        firmware.CallID
	incoming  bool
	sipCallID string

	effects  chan firmware.Effect
	requests chan *inRequest
	canceled chan *sip.Request // the caller's CANCEL, from sipgo's callback
	done     chan struct{}
	sess     atomic.Pointer[media.Session]

	state callState
	dlg   dialog
	marks dialogMarks // pickup.go: the dialog's tags, for Replaces matched from other goroutines
	sdp   localSDP
	held  bool // we put the call on hold

	// Incoming.
	invite   *sip.Request // the INVITE, with our To tag
	inviteTx sip.ServerTransaction
	offer    []byte // the caller's offer; nil: we offer in the 200
	ringing  bool
	ack      *ackWait
	byeOnAck bool

	// Outgoing.
	identity     int // whose credentials answer challenges
	authTried    bool
	outInvite    *sip.Request
	outTx        sip.ClientTransaction
	outOpen      bool // outTx has not had its final answer
	provisional  bool
	cancelWanted bool
	cancelSent   bool
	cancelTimer  *time.Timer

	// A re-INVITE of ours (hold, resume, session refresh).
	reTx      sip.ClientTransaction
	reInvite  *sip.Request
	reTimer   *time.Timer // bounds the wait for its answer (Config.TransactionTimeout)
	reHold    bool
	holdDirty bool // hold changed while a re-INVITE was pending

	// An UPDATE of ours (session refresh).
	updTx    sip.ClientTransaction
	updTimer *time.Timer

	// What ends a call whose other side vanished: the session timer
	// (RFC 4028) and RTP inactivity.
	timers      firmware.CallTimers
	st          sessionTimer
	peerUpdate  bool // the other side takes UPDATE (its Allow)
	rtpTick     *time.Ticker
	rtpCount    uint64    // packets received at the last check
	rtpAt       time.Time // when the count last moved (or counting resumed)
	remoteSends bool      // the other side's SDP says it sends to us

	// A REFER of ours (blind transfer).
	referTx     sip.ClientTransaction
	referTarget string // where the REFER sends the call
	referOnAck  string
	xfer        *attendedXfer // refer.go: the REFER is an attended transfer's
	referIn     bool          // refer.go: a REFER of the other side's is in progress
}

func newCall(u *UA, id firmware.CallID, incoming bool, sipCallID string) *call {
	return &call{
		u:         u,
		id:        id,
		incoming:  incoming,
		sipCallID: sipCallID,
		effects:   make(chan firmware.Effect, 32),
		requests:  make(chan *inRequest),
		canceled:  make(chan *sip.Request, 1),
		done:      make(chan struct{}),
		sdp:       localSDP{ip: u.ip, session: uint64(time.Now().UnixNano() & 0x7fffffffffff)},
	}
}

func (c *call) logf(level firmware.Level, format string, args ...any) {
	c.u.logf(level, "sip: call %s: "+format, append([]any{c.id}, args...)...)
}

func (c *call) stats() MediaStats {
	if s := c.sess.Load(); s != nil {
		return s.Stats()
	}
	return MediaStats{}
}

// run is the call's goroutine: it waits on everything that can happen to
// the call until the call ends.
func (c *call) run() {
	defer c.finish()
	for c.state != ended {
		select {
		case e := <-c.effects:
			c.onEffect(e)
		case r := <-c.requests:
			c.onRequest(r)
			close(r.handled)
		case r := <-c.canceled:
			c.onCancel(r)
		case <-c.inviteTxDone():
			c.onInviteTxGone()
		case res := <-c.outResponses():
			c.onResponse(res)
		case <-c.outDone():
			c.onOutTxGone()
		case res := <-c.reResponses():
			c.onReinviteResponse(res)
		case <-c.reDone():
			c.onReinviteGone()
		case <-timerC(c.reTimer):
			c.onReinviteGone()
		case res := <-c.updResponses():
			c.onUpdateResponse(res)
		case <-c.updDone():
			c.onUpdateGone()
		case <-timerC(c.updTimer):
			c.onUpdateGone()
		case <-timerC(c.st.timer):
			c.onSessionTimer()
		case <-tickerC(c.rtpTick):
			c.checkRTP()
		case res := <-c.referResponses():
			c.onReferResponse(res)
		case <-c.referDone():
			c.logf(firmware.Warning, "transfer: REFER got no answer")
			c.referTx = nil
			if c.xfer != nil {
				c.attendedFailed(408, "no answer to REFER")
				break
			}
			c.emit(firmware.CallTransferred{Call: c.id, Target: c.referTarget, Status: 408, Reason: "no answer to REFER"})
		case <-timerC(c.ackResend()):
			c.resend2xx()
		case <-timerC(c.ackDeadline()):
			c.onNoAck()
		case <-timerC(c.cancelTimer):
			c.logf(firmware.Warning, "no answer to CANCEL")
			c.emit(firmware.CallFailed{Call: c.id, Status: sip.StatusRequestTerminated, Reason: "Request Terminated"})
			c.state = ended
		case <-c.u.ctx.Done():
			c.shutdown()
		}
	}
}

// Channels the loop waits on; nil (never ready) when not applicable.

func (c *call) inviteTxDone() <-chan struct{} {
	if c.state == offered && c.inviteTx != nil {
		return c.inviteTx.Done()
	}
	return nil
}

func (c *call) outResponses() <-chan *sip.Response {
	if c.outOpen {
		return c.outTx.Responses()
	}
	return nil
}

func (c *call) outDone() <-chan struct{} {
	if c.outOpen {
		return c.outTx.Done()
	}
	return nil
}

func (c *call) reResponses() <-chan *sip.Response {
	if c.reTx != nil {
		return c.reTx.Responses()
	}
	return nil
}

func (c *call) reDone() <-chan struct{} {
	if c.reTx != nil {
		return c.reTx.Done()
	}
	return nil
}

func (c *call) updResponses() <-chan *sip.Response {
	if c.updTx != nil {
		return c.updTx.Responses()
	}
	return nil
}

func (c *call) updDone() <-chan struct{} {
	if c.updTx != nil {
		return c.updTx.Done()
	}
	return nil
}

func (c *call) referResponses() <-chan *sip.Response {
	if c.referTx != nil {
		return c.referTx.Responses()
	}
	return nil
}

func (c *call) referDone() <-chan struct{} {
	if c.referTx != nil {
		return c.referTx.Done()
	}
	return nil
}

func (c *call) ackResend() *time.Timer {
	if c.ack != nil {
		return c.ack.resend
	}
	return nil
}

func (c *call) ackDeadline() *time.Timer {
	if c.ack != nil {
		return c.ack.deadline
	}
	return nil
}

func timerC(t *time.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C
}

func tickerC(t *time.Ticker) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C
}

func (c *call) emit(e firmware.Event) { c.u.emit(e) }

// finish releases what the call holds.
func (c *call) finish() {
	c.stopAckWait()
	if c.cancelTimer != nil {
		c.cancelTimer.Stop()
	}
	c.st.stop()
	c.clearReinvite()
	c.clearUpdate()
	if c.rtpTick != nil {
		c.rtpTick.Stop()
	}
	var last MediaStats
	if s := c.sess.Load(); s != nil {
		s.Close()
		last = s.Stats()
	}
	c.u.unregister(c, last)
	// Whatever still holds the ended call for a while (a transaction's
	// callbacks) must not hold its media: sockets' buffers, jitter buffer.
	c.sess.Store(nil)
	close(c.done)
	c.u.callWG.Done()
}

func (c *call) onEffect(e firmware.Effect) {
	switch e := e.(type) {
	case firmware.Ring:
		if c.incoming && c.state == offered {
			c.ringing = true
			c.respond(sip.StatusRinging, "Ringing", nil)
		}
	case firmware.Answer:
		if c.incoming && c.state == offered {
			c.answer(e.Timers)
		}
	case firmware.Reject:
		if c.incoming && c.state == offered {
			status, reason := e.Status, e.Reason
			if status < 300 || status > 699 {
				status = 486
			}
			if reason == "" {
				reason = reasonPhrase(status)
			}
			c.respond(status, reason, nil)
			c.state = ended
		}
	case firmware.Redirect:
		if c.incoming && c.state == offered {
			c.redirect(e)
		}
	case firmware.Hangup:
		c.hangup()
	case firmware.HoldCall:
		c.setHold(true)
	case firmware.ResumeCall:
		c.setHold(false)
	case firmware.MuteCall:
		if s := c.sess.Load(); s != nil {
			s.SetMuted(e.Muted)
		}
	case firmware.SendDTMF:
		c.sendDTMF(e.Digits)
	case firmware.TransferCall:
		c.transfer(e.Target)
	case firmware.AttendedTransfer:
		c.attendedTransfer(e)
	case firmware.ReferProgress:
		c.notifyRefer(e)
	case firmware.Conference:
		c.conference(e) // conference.go
	case firmware.SplitConference:
		c.splitConference(e)
	}
}

// hangup ends the call in whatever way its state allows.
func (c *call) hangup() {
	switch c.state {
	case offered: // the core rejects ringing calls; a hangup declines
		c.respond(603, "Decline", nil)
		c.state = ended
	case answered:
		c.byeOnAck = true // BYE once the ACK is in (RFC 3261 §15)
	case confirmed:
		c.sendBye()
		c.state = ended
	case calling:
		c.cancelWanted = true
		if c.provisional && !c.cancelSent {
			c.sendCancel()
		}
		if c.cancelTimer == nil {
			c.cancelTimer = time.NewTimer(64 * sip.T1)
		}
	}
}

// shutdownGrace bounds how long a call waits, as the UA closes, for the
// answer to its BYE or CANCEL: the other side must hear that the call is
// over before the transport goes, or it keeps the call for ever.
const shutdownGrace = 2 * time.Second

// shutdown ends the call because the UA closes: BYE on a confirmed
// dialog, CANCEL on a pending INVITE (and ACK and BYE if a 2xx crosses
// it), 480 to a ringing call; then it waits, at most shutdownGrace, for
// the answers. No events: the phone is going away.
func (c *call) shutdown() {
	grace := time.NewTimer(shutdownGrace)
	defer grace.Stop()
	var reply <-chan struct{}
	switch c.state {
	case offered:
		c.respond(480, "Temporarily Unavailable", nil)
	case answered, confirmed:
		reply = c.sendBye()
	case calling:
		reply = c.shutdownCalling(grace.C)
	}
	for reply != nil {
		select {
		case <-reply:
			reply = nil
		case r := <-c.requests:
			c.onClosingRequest(r)
			close(r.handled)
		case <-grace.C:
			c.logf(firmware.Notice, "closing without an answer to our BYE or CANCEL")
			reply = nil
		}
	}
	c.state = ended
}

// onClosingRequest answers a request that reaches a call closing with
// the UA. A BYE crossing ours (both ends closing at once) gets 200: the
// dialog ends either way, and the other side must not wait out its
// retransmissions for a 481. Anything else gets 481: the dialog is gone.
func (c *call) onClosingRequest(r *inRequest) {
	switch {
	case r.req.IsAck():
	case r.req.Method == sip.BYE && c.matches(r.req):
		c.reply(r, 200, "OK", nil)
	default:
		c.reply(r, 481, "Call/Transaction Does Not Exist", nil)
	}
}

// shutdownCalling cancels our pending INVITE and waits for its final
// answer (a CANCEL may only follow a provisional answer): a 2xx that
// crosses the CANCEL is ACKed and BYEd. It returns the BYE's answer to
// wait for, if one was sent.
func (c *call) shutdownCalling(grace <-chan time.Time) <-chan struct{} {
	c.cancelWanted = true
	if c.provisional && !c.cancelSent {
		c.sendCancel()
	}
	for c.outOpen {
		select {
		case res := <-c.outTx.Responses():
			switch {
			case res.IsProvisional():
				c.provisional = true
				if !c.cancelSent {
					c.sendCancel()
				}
			case res.IsSuccess():
				c.outOpen = false
				if c.confirm(res) {
					c.sendAck()
					return c.sendBye()
				}
			default:
				c.outOpen = false
			}
		case <-c.outTx.Done():
			c.outOpen = false
		case r := <-c.requests:
			c.onClosingRequest(r)
			close(r.handled)
		case <-grace:
			return nil
		}
	}
	return nil
}

// endDialog ends a call the core did not hang up, because the dialog or
// the media died: BYE, and CallEnded with why, so the core frees the
// appearance.
func (c *call) endDialog(why string) {
	c.logf(firmware.Warning, "%s: ending the call", why)
	c.sendBye()
	c.emit(firmware.CallEnded{Call: c.id, Reason: why})
	c.state = ended
}

// onRequest handles a request within the call's dialog (or early dialog).
func (c *call) onRequest(r *inRequest) {
	req := r.req
	if !c.matches(req) {
		if !req.IsAck() {
			c.reply(r, 481, "Call/Transaction Does Not Exist", nil)
		}
		return
	}
	switch req.Method {
	case sip.ACK:
		c.onAck(req)
	case sip.BYE:
		c.reply(r, 200, "OK", nil)
		if c.state == offered { // the caller ended an early dialog
			c.respond(sip.StatusRequestTerminated, "Request Terminated", nil)
			c.emit(firmware.CallCanceled{Call: c.id, Reason: "bye"})
		} else {
			c.xferOnBye() // refer.go
			c.emit(firmware.CallEnded{Call: c.id, Reason: "bye"})
		}
		c.state = ended
	case sip.INVITE:
		c.onReinvite(r)
	case sip.UPDATE:
		c.onUpdate(r)
	case sip.INFO:
		c.onInfo(r)
	case sip.NOTIFY:
		c.onNotify(r) // refer.go
	case sip.REFER:
		c.onRefer(r) // refer.go
	default:
		c.reply(r, 501, "Not Implemented", nil)
	}
}

// matches checks a request's tags against the dialog.
func (c *call) matches(req *sip.Request) bool {
	from, to := req.From(), req.To()
	if from == nil || to == nil {
		return false
	}
	if tagOf(to.Params) != c.dlg.localTag {
		return false
	}
	return c.dlg.remoteTag == "" || tagOf(from.Params) == c.dlg.remoteTag
}

// reply answers an in-dialog request.
func (c *call) reply(r *inRequest, status int, reason string, body []byte, hdrs ...sip.Header) {
	if r.tx == nil {
		return
	}
	res := sip.NewResponseFromRequest(r.req, status, reason, body)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	c.u.decorate(res, c.contact(), body)
	if err := r.tx.Respond(res); err != nil {
		c.logf(firmware.Debug, "responding %d to %s: %v", status, r.req.Method, err)
	}
}

func (c *call) onCancel(r *sip.Request) {
	if c.state != offered {
		return
	}
	// sipgo has answered the CANCEL with 200 and the INVITE with 487.
	reason := ""
	if h := r.GetHeader("Reason"); h != nil {
		reason = inert(h.Value(), maxHeaderRunes)
	}
	c.emit(firmware.CallCanceled{Call: c.id, Reason: reason})
	c.state = ended
}

func (c *call) onInviteTxGone() {
	select {
	case r := <-c.canceled: // a CANCEL can end the transaction quickly (TCP)
		c.onCancel(r)
		return
	default:
	}
	c.logf(firmware.Notice, "INVITE transaction ended before an answer: %v", c.inviteTx.Err())
	c.emit(firmware.CallEnded{Call: c.id, Reason: "transaction failed"})
	c.state = ended
}

// setHold puts the call on hold or takes it back: local media at once,
// then a re-INVITE with a=sendonly / a=sendrecv.
func (c *call) setHold(hold bool) {
	if c.state != confirmed && c.state != answered {
		return
	}
	if c.held == hold {
		return
	}
	c.held = hold
	c.rtpAt = time.Now() // RTP inactivity counts afresh
	if s := c.sess.Load(); s != nil {
		s.SetHeld(hold)
	}
	if c.reTx != nil || c.state == answered {
		c.holdDirty = true
		return
	}
	c.sendReinvite()
}

func (c *call) sendDTMF(digits string) {
	s := c.sess.Load()
	if s == nil || (c.state != confirmed && c.state != answered) {
		return
	}
	if err := s.SendDTMF(digits); errors.Is(err, media.ErrNoDTMF) {
		c.sendInfoDTMF(digits)
	}
}

// startMedia starts the session with the negotiated stream.
func (c *call) startMedia(st stream) {
	s := c.sess.Load()
	if s == nil {
		return
	}
	p := st.params()
	c.remoteSends = st.dir.sends() && st.remote != nil
	s.Start(c.u.cfg.Media, p, func(d byte) {
		c.emit(firmware.DTMFReceived{Call: c.id, Digit: d})
	})
}

func (c *call) updateMedia(st stream) {
	if s := c.sess.Load(); s != nil {
		c.remoteSends = st.dir.sends() && st.remote != nil
		c.rtpAt = time.Now()
		s.Update(st.params())
	}
}

// watchRTP starts the RTP inactivity check of a call that is up.
func (c *call) watchRTP() {
	if c.timers.RTPTimeout <= 0 || c.rtpTick != nil {
		return
	}
	every := min(max(c.timers.RTPTimeout/4, 20*time.Millisecond), time.Second)
	c.rtpTick = time.NewTicker(every)
	c.rtpAt = time.Now()
}

// checkRTP ends a confirmed call that is not on hold when no RTP came
// for RTPTimeout while the other side's SDP says it sends.
func (c *call) checkRTP() {
	s := c.sess.Load()
	if s == nil {
		return
	}
	now := time.Now()
	n := s.Stats().PacketsReceived
	if n != c.rtpCount || c.state != confirmed || c.held || !c.remoteSends {
		c.rtpCount, c.rtpAt = n, now
		return
	}
	if now.Sub(c.rtpAt) >= c.timers.RTPTimeout {
		c.endDialog("no RTP received for " + seconds(c.timers.RTPTimeout))
	}
}

// seconds writes a duration as snom's logs do: "60 s", "0.5 s".
func seconds(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%d s", d/time.Second)
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// onSessionTimer: as refresher, time to refresh; otherwise (or when our
// refresh got nowhere) the session expired.
func (c *call) onSessionTimer() {
	c.st.timer = nil
	switch c.state {
	case answered: // not before the ACK (which is due long before)
		c.st.timer = time.NewTimer(100 * time.Millisecond)
		return
	case confirmed:
	default:
		return
	}
	if c.st.refresher && !c.st.sent {
		c.st.sent = true
		c.st.timer = time.NewTimer(c.st.next())
		c.refresh()
		return
	}
	c.endDialog("session expired")
}

// refresh refreshes the session: UPDATE when the other side takes it,
// else re-INVITE with the current offer. A pending re-INVITE of ours
// refreshes it when answered.
func (c *call) refresh() {
	if c.reTx != nil || c.updTx != nil {
		return
	}
	c.logf(firmware.Debug, "session refresh")
	if c.peerUpdate {
		c.sendUpdate()
		return
	}
	c.sendReinvite()
}

// txTimeout bounds a request of ours within a call.
func (u *UA) txTimeout() time.Duration {
	if u.cfg.TransactionTimeout > 0 {
		return u.cfg.TransactionTimeout
	}
	return 64 * sip.T1
}

// localDirection is what we want to do with audio now.
func (c *call) localDirection() direction {
	if c.held {
		return sendOnly
	}
	return sendRecv
}

// contact is our Contact for this call.
func (c *call) contact() *sip.ContactHeader {
	return c.u.contact(c.dlg.local.User, c.dlg.transport)
}

func reasonPhrase(status int) string {
	switch status {
	case 302:
		return "Moved Temporarily"
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 603:
		return "Decline"
	}
	if status >= 600 {
		return "Global Failure"
	}
	if status >= 500 {
		return "Server Error"
	}
	if status >= 400 {
		return "Request Failed"
	}
	return "Redirect"
}

// contact builds a Contact header for user over transport.
func (u *UA) contact(user, transport string) *sip.ContactHeader {
	h := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: u.ip, Port: u.port}}
	if t := strings.ToLower(transport); t != "" && t != "udp" {
		h.Address.UriParams = sip.HeaderParams{}
		h.Address.UriParams.Add("transport", t)
	}
	return h
}

// decorate adds the headers every response of ours carries.
func (u *UA) decorate(res *sip.Response, contact *sip.ContactHeader, body []byte) {
	if contact != nil && res.Contact() == nil && res.StatusCode > 100 && res.StatusCode < 300 {
		res.AppendHeader(contact)
	}
	res.AppendHeader(sip.NewHeader("User-Agent", u.cfg.UserAgent))
	if res.StatusCode >= 200 && res.StatusCode < 300 || res.StatusCode == 405 {
		res.AppendHeader(sip.NewHeader("Allow", Allowed))
	}
	if len(body) > 0 {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
}

func statusError(res *sip.Response) error {
	return fmt.Errorf("%d %s", res.StatusCode, res.Reason)
}
