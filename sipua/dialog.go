package sipua

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// dialog is the state RFC 3261 §12 keeps for a call: who is who, where
// in-dialog requests go, and the sequence numbers.
type dialog struct {
	callID       string
	localTag     string
	remoteTag    string
	local        sip.Uri
	localName    string
	remote       sip.Uri
	remoteName   string
	remoteTarget sip.Uri
	routes       []sip.Uri // route set, in the order requests carry it
	localSeq     uint32
	remoteSeq    uint32
	transport    string // "UDP", "TCP"
}

// request builds an in-dialog request. ACK reuses seq (the INVITE's);
// other methods take the next local sequence number.
func (d *dialog) request(method sip.RequestMethod, seq uint32) *sip.Request {
	req := sip.NewRequest(method, *d.remoteTarget.Clone())
	if method != sip.ACK && method != sip.CANCEL {
		d.localSeq++
		seq = d.localSeq
	}
	from := &sip.FromHeader{DisplayName: d.localName, Address: *d.local.Clone()}
	from.Params.Add("tag", d.localTag)
	to := &sip.ToHeader{DisplayName: d.remoteName, Address: *d.remote.Clone()}
	if d.remoteTag != "" {
		to.Params.Add("tag", d.remoteTag)
	}
	callID := sip.CallIDHeader(d.callID)
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
	req.AppendHeader(&maxFwd)
	for _, r := range d.routes {
		req.AppendHeader(&sip.RouteHeader{Address: *r.Clone()})
	}
	if d.transport != "" {
		req.SetTransport(d.transport)
	}
	return req
}

// tagOf returns a From/To tag.
func tagOf(p sip.HeaderParams) string {
	v, _ := p.Get("tag")
	return v
}

// routeSet reads Record-Route headers (each may hold several entries) in
// message order.
func routeSet(m sip.Message) []sip.Uri {
	var out []sip.Uri
	for _, h := range m.GetHeaders("Record-Route") {
		for _, v := range splitAddressList(h.Value()) {
			var u sip.Uri
			if _, err := sip.ParseAddressValue(v, &u, nil); err == nil {
				out = append(out, u)
			}
		}
	}
	return out
}

// splitAddressList splits a header value at the commas outside <> and
// quotes.
func splitAddressList(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			depth++
		case c == '>':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(v[start:i]))
			start = i + 1
		}
	}
	if s := strings.TrimSpace(v[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

func reversed(us []sip.Uri) []sip.Uri {
	out := make([]sip.Uri, len(us))
	for i, u := range us {
		out[len(us)-1-i] = u
	}
	return out
}

// randomHex returns n random bytes in hex: tags, Call-IDs.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// quotable makes our own display name safe inside "...".
func quotable(s string) string {
	return strings.NewReplacer(`"`, "", `\`, "").Replace(InertDisplay(s))
}
