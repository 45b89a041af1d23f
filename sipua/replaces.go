package sipua

import (
	"net/url"
	"strings"

	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
)

// INVITE with Replaces (RFC 3891): the new call takes the place of one of
// ours; the core answers it and ends the old one.

func init() {
	// A Require: replaces is one we meet.
	supportedOptions = append(supportedOptions, "replaces")
}

// parseReplaces reads "callid;to-tag=x;from-tag=y" (parameter order free,
// early-only allowed).
func parseReplaces(v string) (callID, toTag, fromTag string, ok bool) {
	parts := strings.Split(strings.TrimSpace(v), ";")
	callID = strings.TrimSpace(parts[0])
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "to-tag":
			toTag = strings.TrimSpace(val)
		case "from-tag":
			fromTag = strings.TrimSpace(val)
		}
	}
	return callID, toTag, fromTag, callID != "" && toTag != "" && fromTag != ""
}

// replacedCall finds the call an INVITE's Replaces header names. ok is
// false when the INVITE has a Replaces that names none of our dialogs
// (the INVITE gets 481); id is "" when it has none.
func (u *UA) replacedCall(req *sip.Request) (id firmware.CallID, ok bool) {
	hs := req.GetHeaders("Replaces")
	if len(hs) == 0 {
		return "", true
	}
	if len(hs) > 1 {
		return "", false
	}
	callID, toTag, fromTag, good := parseReplaces(hs[0].Value())
	if !good {
		return "", false
	}
	c := u.callBySIP(callID)
	if c == nil {
		return "", false
	}
	// Our tag is the to-tag, the other end's the from-tag. The tags do not
	// change once the dialog is confirmed (see replaces in refer.go).
	if c.dlg.localTag != toTag || c.dlg.remoteTag != fromTag {
		return "", false
	}
	return c.id, true
}

// splitReferTo reads a Refer-To value: the URI without its headers, and
// the Replaces header among them, percent-decoded.
func splitReferTo(v string) (uri, replaces string, ok bool) {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return "", "", false
		}
		v = v[i+1 : i+j]
	} else if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i] // without <>, parameters belong to the header
	}
	uri, hdrs, _ := strings.Cut(v, "?")
	for _, h := range strings.Split(hdrs, "&") {
		k, val, _ := strings.Cut(h, "=")
		if strings.EqualFold(k, "Replaces") {
			d, err := url.PathUnescape(val)
			if err != nil {
				return "", "", false
			}
			replaces = d
		}
	}
	return uri, replaces, uri != ""
}
