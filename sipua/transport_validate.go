package sipua

import (
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
)

// RFC 3261 §8.2 checks sipgo leaves to us, made before a request reaches
// the phone (RFC 4475 torture messages: badvers, esc02, intmeth,
// mismatch01/02, multi01, mcl01, unkscm, bext01, invut, sdp01).

// supportedOptions are the option tags a Require may name (RFC 4028
// session timers: dialog.go).
var supportedOptions = []string{"timer"}

// screen answers a request that fails a check; others go on to h.
func (u *UA) screen(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if tx == nil || req.IsAck() {
			h(req, tx)
			return
		}
		if status, reason, hdrs := checkRequest(req, u.ip); status != 0 {
			u.refuse(req, tx, status, reason, hdrs...)
			return
		}
		h(req, tx)
	}
}

// refuse answers req in its transaction, as SIP/2.0 whatever version it
// came with (RFC 3261 §8.2.6).
func (u *UA) refuse(req *sip.Request, tx sip.ServerTransaction, status int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, status, reason, nil)
	res.SipVersion = "SIP/2.0"
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	u.decorate(res, nil, nil)
	if err := tx.Respond(res); err != nil {
		u.logf(firmware.Debug, "sip: responding %d to %s: %v", status, req.Method, err)
	}
	u.logf(firmware.Notice, "sip: %s from %s refused: %d %s", inert(string(req.Method), 32), req.Source(), status, reason)
}

// checkRequest returns the answer a request must get instead of being
// handled (0 if none), in RFC 3261 §8.2's order.
func checkRequest(req *sip.Request, host string) (int, string, []sip.Header) {
	if !strings.EqualFold(req.SipVersion, "SIP/2.0") {
		return 505, "Version Not Supported", nil
	}
	inDialog := false
	if to := req.To(); to != nil {
		inDialog = tagOf(to.Params) != ""
	}
	// §8.2.1; within a dialog the dialog's handlers answer (481 or 501).
	if !inDialog && !knownMethod(req.Method) {
		return 501, "Not Implemented", []sip.Header{sip.NewHeader("Allow", Allowed)}
	}
	if name := duplicated(req); name != "" {
		return 400, "Bad Request (more than one " + name + ")", nil
	}
	if cseq := req.CSeq(); cseq != nil && cseq.MethodName != req.Method {
		return 400, "Bad Request (CSeq method differs)", nil
	}
	if cl := req.ContentLength(); cl != nil && int(*cl) != len(req.Body()) {
		return 400, "Bad Request (Content-Length)", nil
	}
	switch strings.ToLower(req.Recipient.Scheme) { // §8.2.2.1
	case "sip", "sips", "tel":
	default:
		return 416, "Unsupported URI Scheme", nil
	}
	if req.Method != sip.CANCEL { // §8.2.2.3
		if bad := unsupported(req); bad != "" {
			return 420, "Bad Extension", []sip.Header{sip.NewHeader("Unsupported", bad)}
		}
	}
	if req.Method == sip.INVITE {
		// §8.2.3: a body we cannot read; the answer names what we can.
		if ct := req.ContentType(); ct != nil && len(req.Body()) > 0 && !isSDP(ct.Value()) {
			return 415, "Unsupported Media Type", []sip.Header{sip.NewHeader("Accept", "application/sdp")}
		}
		// RFC 4475 §3.3.15: our 2xx carries SDP; an Accept without it
		// leaves no answer to give.
		if !acceptsSDP(req) {
			return 406, "Not Acceptable", []sip.Header{sip.NewHeader("Warning", `399 `+host+` "only application/sdp can answer an INVITE"`)}
		}
	}
	return 0, "", nil
}

func knownMethod(m sip.RequestMethod) bool {
	switch m {
	case sip.INVITE, sip.ACK, sip.CANCEL, sip.BYE, sip.OPTIONS, sip.REGISTER, sip.INFO, sip.UPDATE,
		sip.NOTIFY, sip.SUBSCRIBE, sip.REFER, sip.MESSAGE, sip.PRACK, sip.PUBLISH:
		return true
	}
	return false
}

// singular are the headers a request may carry once (RFC 3261 §7.3).
var singular = [...]string{"From", "To", "Call-ID", "CSeq", "Max-Forwards", "Content-Length", "Content-Type"}

// duplicated names a header that may appear only once but appears more
// often (RFC 4475 multi01, mcl01).
func duplicated(req *sip.Request) string {
	var seen [len(singular)]bool
	for _, h := range req.Headers() {
		for i, name := range singular {
			if !strings.EqualFold(h.Name(), name) {
				continue
			}
			if seen[i] {
				return name
			}
			seen[i] = true
		}
	}
	return ""
}

// unsupported lists the Require option tags we do not implement.
func unsupported(req *sip.Request) string {
	var bad []string
	for _, h := range req.Headers() {
		if !strings.EqualFold(h.Name(), "Require") {
			continue
		}
		for tag := range strings.SplitSeq(h.Value(), ",") {
			tag = strings.TrimSpace(tag)
			if tag == "" {
				continue
			}
			ok := false
			for _, s := range supportedOptions {
				ok = ok || strings.EqualFold(tag, s)
			}
			if !ok {
				bad = append(bad, tag)
			}
		}
	}
	return strings.Join(bad, ", ")
}

func isSDP(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/sdp")
}

// acceptsSDP reports whether req's Accept (if any) admits application/sdp.
func acceptsSDP(req *sip.Request) bool {
	found := false
	for _, h := range req.Headers() {
		if !strings.EqualFold(h.Name(), "Accept") {
			continue
		}
		for r := range strings.SplitSeq(h.Value(), ",") {
			mt, _, _ := strings.Cut(r, ";")
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case "application/sdp", "application/*", "*/*":
				return true
			case "":
			default:
				found = true
			}
		}
	}
	return !found
}
