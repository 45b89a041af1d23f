package sipua

import (
	"context"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
)

// An attended transfer of ours (RFC 5589 §7): the REFER goes to the party
// on hold, its Refer-To names the consultation call's other end with a
// Replaces of that dialog; the transferee reports the new call's progress
// in NOTIFYs (message/sipfrag) and its final answer decides.
type attendedXfer struct {
	consult firmware.CallID
	// finished: a NOTIFY brought the outcome before the REFER's own
	// answer (sipgo may hand them over in either order); that answer then
	// changes nothing.
	finished bool
}

// replaces returns where to reach the other end of c's dialog and the
// Replaces value (RFC 3891) naming that dialog as the other end sees it:
// its to-tag is the other end's tag, its from-tag ours. Read from another
// call's goroutine: the fields read do not change once the dialog is
// confirmed, and the core hands the transfer over only after that (the
// CallAnswered it saw happened after they were set).
func (c *call) replaces() (target, value string, ok bool) {
	d := &c.dlg
	if d.callID == "" || d.localTag == "" || d.remoteTag == "" || d.remoteTarget.Host == "" {
		return "", "", false
	}
	value = d.callID + ";to-tag=" + d.remoteTag + ";from-tag=" + d.localTag
	return d.remoteTarget.String(), value, true
}

// escapeHeaderValue percent-encodes a URI header value (RFC 3261 hvalue):
// everything but the unreserved characters.
func escapeHeaderValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9',
			strings.IndexByte("-_.!~*'()", ch) >= 0:
			b.WriteByte(ch)
		default:
			b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(ch)|0x100, 16)[1:]))
		}
	}
	return b.String()
}

// attendedTransfer sends the REFER of an attended transfer in c's dialog
// (c is the transferee, on hold).
func (c *call) attendedTransfer(e firmware.AttendedTransfer) {
	fail := func(status int, reason string) {
		c.emit(firmware.AttendedTransferDone{Call: c.id, Consult: e.Consult, Status: status, Reason: reason})
	}
	if (c.state != confirmed && c.state != answered) || c.referTx != nil || c.xfer != nil {
		c.logf(firmware.Notice, "transfer: call not connected")
		fail(0, "call not connected")
		return
	}
	c.u.mu.Lock()
	other := c.u.calls[e.Consult]
	c.u.mu.Unlock()
	if other == nil || other == c {
		fail(0, "no consultation call")
		return
	}
	target, repl, ok := other.replaces()
	if !ok {
		fail(0, "consultation call not connected")
		return
	}
	tx, err := c.sendRefer(sip.NewHeader("Refer-To", "<"+target+"?Replaces="+escapeHeaderValue(repl)+">"))
	if err != nil {
		c.logf(firmware.Warning, "transfer: %v", err)
		fail(0, "transport error")
		return
	}
	c.referTx, c.referTarget = tx, target
	c.xfer = &attendedXfer{consult: e.Consult}
	c.logf(firmware.Info, "REFER to %s with Replaces", inert(target, maxHeaderRunes))
}

// attendedFailed ends an attended transfer that did not work: the calls
// stay.
func (c *call) attendedFailed(status int, reason string) {
	x := c.xfer
	c.xfer = nil
	if x.finished {
		return
	}
	c.logf(firmware.Notice, "attended transfer failed: %d %s", status, reason)
	c.emit(firmware.AttendedTransferDone{Call: c.id, Consult: x.consult, Status: status, Reason: inert(reason, maxHeaderRunes)})
}

// onAttendedReferResponse is the answer to an attended transfer's REFER.
func (c *call) onAttendedReferResponse(res *sip.Response) {
	if res.IsProvisional() {
		return
	}
	c.referTx.Terminate()
	c.referTx = nil
	if !res.IsSuccess() || c.xfer.finished {
		c.attendedFailed(res.StatusCode, res.Reason)
		return
	}
	// accepted: the outcome comes by NOTIFY; the core waits for it a
	// bounded time (firmware's xferNotifyTicks) and decides if none comes
	c.emit(firmware.AttendedTransferAccepted{Call: c.id, Consult: c.xfer.consult})
}

// attendedDone reports the outcome a NOTIFY brought.
func (c *call) attendedDone(ok bool, status int, reason string) {
	x := c.xfer
	if c.referTx != nil {
		x.finished = true // the REFER's answer is still to come
	} else {
		c.xfer = nil
	}
	if ok {
		c.logf(firmware.Info, "attended transfer done: %d", status)
	} else {
		c.logf(firmware.Notice, "attended transfer failed: %d %s", status, reason)
	}
	c.emit(firmware.AttendedTransferDone{Call: c.id, Consult: x.consult, OK: ok, Status: status, Reason: inert(reason, maxHeaderRunes)})
}

// onNotify answers a NOTIFY in the dialog; one about our REFER (Event:
// refer) carries the new call's progress as message/sipfrag.
func (c *call) onNotify(r *inRequest) {
	c.reply(r, 200, "OK", nil)
	if c.xfer == nil || c.xfer.finished {
		return
	}
	if ev := r.req.GetHeader("Event"); ev == nil || !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ev.Value())), "refer") {
		return
	}
	status, reason, ok := sipfragStatus(r.req.Body())
	switch {
	case ok && status >= 200 && status < 300:
		c.attendedDone(true, status, "")
	case ok && status >= 300:
		c.attendedDone(false, status, reason)
	default:
		if st := r.req.GetHeader("Subscription-State"); st != nil && strings.HasPrefix(strings.ToLower(strings.TrimSpace(st.Value())), "terminated") {
			c.attendedDone(false, 0, "no final answer reported")
		}
	}
}

// sipfragStatus reads the status line of a message/sipfrag body
// ("SIP/2.0 200 OK").
func sipfragStatus(body []byte) (int, string, bool) {
	line, _, _ := strings.Cut(string(body), "\n")
	line = strings.TrimSpace(line)
	rest, ok := strings.CutPrefix(line, "SIP/2.0 ")
	if !ok {
		return 0, "", false
	}
	code, reason, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(code)
	if err != nil || n < 100 || n > 699 {
		return 0, "", false
	}
	return n, reason, true
}

// onRefer takes a REFER from the other side (RFC 3515): a SIP URI is
// accepted (202) and handed to the core as CallReferred, which places the
// call; NOTIFYs report its progress (100 Trying now, the final answer when
// the core knows it). Anything else gets its error code and changes
// nothing.
func (c *call) onRefer(r *inRequest) {
	if c.state != confirmed && c.state != answered { // a REFER may overtake the ACK
		c.reply(r, 403, "Forbidden", nil)
		return
	}
	hs := r.req.GetHeaders("Refer-To")
	if len(hs) != 1 {
		c.reply(r, 400, "Bad Request", nil)
		return
	}
	uri, repl, ok := splitReferTo(hs[0].Value())
	if !ok {
		c.reply(r, 400, "Bad Request", nil)
		return
	}
	scheme, _, _ := strings.Cut(uri, ":")
	if s := strings.ToLower(scheme); s != "sip" && s != "sips" {
		c.logf(firmware.Notice, "REFER to a %s URI refused", inert(scheme, 16))
		c.reply(r, 403, "Forbidden", nil)
		return
	}
	var to sip.Uri
	if err := sip.ParseUri(uri, &to); err != nil || to.Host == "" || firmware.CheckSIPURI(uri) != nil {
		c.reply(r, 400, "Bad Request", nil)
		return
	}
	if repl != "" {
		if _, _, _, ok := parseReplaces(repl); !ok {
			c.reply(r, 400, "Bad Request", nil)
			return
		}
	}
	if c.referIn {
		c.reply(r, 491, "Request Pending", nil)
		return
	}
	c.reply(r, 202, "Accepted", nil)
	c.referIn = true
	by := ""
	if h := r.req.GetHeader("Referred-By"); h != nil {
		by = inert(h.Value(), maxHeaderRunes)
	}
	c.logf(firmware.Info, "REFER to %s accepted", inert(uri, maxHeaderRunes))
	c.sendReferNotify(100, "Trying")
	c.emit(firmware.CallReferred{Call: c.id, Target: inert(uri, maxHeaderRunes), Replaces: repl, By: by})
}

// notifyRefer carries out the core's ReferProgress.
func (c *call) notifyRefer(e firmware.ReferProgress) {
	if !c.referIn || (c.state != confirmed && c.state != answered) {
		return
	}
	reason := e.Reason
	if reason == "" {
		reason = reasonPhrase(e.Status)
	}
	c.sendReferNotify(e.Status, reason)
}

// sendReferNotify sends one NOTIFY of the implicit refer subscription; a
// final status ends it.
func (c *call) sendReferNotify(status int, reason string) {
	state := "active;expires=60"
	if status >= 200 {
		state = "terminated;reason=noresource"
		c.referIn = false
	}
	req := c.dlg.request(sip.NOTIFY, 0)
	req.AppendHeader(c.contact())
	req.AppendHeader(sip.NewHeader("Event", "refer"))
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("User-Agent", c.u.cfg.UserAgent))
	req.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.SetBody([]byte("SIP/2.0 " + strconv.Itoa(status) + " " + inert(reason, maxHeaderRunes) + "\r\n"))
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	tx, err := c.u.client.TransactionRequest(ctx, req, c.u.reqOpts()...)
	if err != nil {
		c.logf(firmware.Warning, "NOTIFY: %v", err)
		return
	}
	// Its answer changes nothing here; wait for it apart, so the
	// transaction ends.
	go func() {
		defer tx.Terminate()
		for {
			select {
			case res, ok := <-tx.Responses():
				if !ok || !res.IsProvisional() {
					return
				}
			case <-tx.Done():
				return
			}
		}
	}()
}

// xferOnBye: the transferee hung up while our attended transfer was under
// way. Transferees that end the old call themselves once the new one is
// up (phonesim does, as many phones do) may have their BYE overtake the
// NOTIFY that says so: the transfer is taken as done.
func (c *call) xferOnBye() {
	if c.xfer == nil || c.xfer.finished {
		return
	}
	x := c.xfer
	c.xfer = nil
	c.logf(firmware.Info, "attended transfer: the transferee hung up, taken as done")
	c.emit(firmware.AttendedTransferDone{Call: c.id, Consult: x.consult, OK: true, Status: 200, Reason: "transferee hung up"})
}

// sendRefer sends a REFER in the call's dialog with referTo (blind or
// with Replaces) and Referred-By; its answers come on the transaction.
func (c *call) sendRefer(referTo sip.Header) (sip.ClientTransaction, error) {
	req := c.dlg.request(sip.REFER, 0)
	req.AppendHeader(c.contact())
	req.AppendHeader(referTo)
	req.AppendHeader(&sip.ReferredByHeader{Address: *c.dlg.local.Clone()})
	req.AppendHeader(sip.NewHeader("User-Agent", c.u.cfg.UserAgent))
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	return c.u.client.TransactionRequest(ctx, req, c.u.reqOpts()...)
}
