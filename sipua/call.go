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

	// A re-INVITE of ours (hold, resume).
	reTx      sip.ClientTransaction
	reInvite  *sip.Request
	reHold    bool
	holdDirty bool // hold changed while a re-INVITE was pending

	// A REFER of ours (blind transfer).
	referTx     sip.ClientTransaction
	referTarget string // where the REFER sends the call
	referOnAck  string
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
			c.logf(firmware.Warning, "re-INVITE got no answer")
			c.reTx = nil
		case res := <-c.referResponses():
			c.onReferResponse(res)
		case <-c.referDone():
			c.logf(firmware.Warning, "transfer: REFER got no answer")
			c.referTx = nil
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

func (c *call) emit(e firmware.Event) { c.u.emit(e) }

// finish releases what the call holds.
func (c *call) finish() {
	c.stopAckWait()
	if c.cancelTimer != nil {
		c.cancelTimer.Stop()
	}
	var last MediaStats
	if s := c.sess.Load(); s != nil {
		s.Close()
		last = s.Stats()
	}
	c.u.unregister(c, last)
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
			c.answer()
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

// shutdown ends the call because the UA closes. No events: the phone is
// going away.
func (c *call) shutdown() {
	switch c.state {
	case offered:
		c.respond(503, "Service Unavailable", nil)
	case answered, confirmed:
		c.sendBye()
	case calling:
		if c.provisional && !c.cancelSent {
			c.sendCancel()
		}
	}
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
		c.reply(r, 200, "OK", nil)
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
	s.Start(c.u.cfg.Media, p, func(d byte) {
		c.emit(firmware.DTMFReceived{Call: c.id, Digit: d})
	})
}

func (c *call) updateMedia(st stream) {
	if s := c.sess.Load(); s != nil {
		s.Update(st.params())
	}
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
