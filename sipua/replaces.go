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

// replacedCall finds the call an INVITE's Replaces header names (RFC
// 3891 §3, see pickup.go). status is 0 when it names one it may replace
// (id "" when the INVITE has no Replaces), 481 when it names none of our
// dialogs (or one ringing here), 486 when early-only names a confirmed
// one: the INVITE gets that status.
func (u *UA) replacedCall(req *sip.Request) (id firmware.CallID, status int) {
	hs := req.GetHeaders("Replaces")
	if len(hs) == 0 {
		return "", 0
	}
	if len(hs) > 1 {
		return "", 481
	}
	callID, toTag, fromTag, good := parseReplaces(hs[0].Value())
	if !good {
		return "", 481
	}
	c := u.callBySIP(callID)
	if c == nil {
		return "", 481
	}
	// Our tag is the to-tag, the other end's the from-tag.
	if status := c.marks.match(toTag, fromTag, earlyOnly(hs[0].Value())); status != 0 {
		return "", status
	}
	return c.id, 0
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
