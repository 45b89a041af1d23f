package sipua

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

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

// unquotable drops what a quoted display name may not hold as is.
var unquotable = strings.NewReplacer(`"`, "", `\`, "")

// quotable makes our own display name safe inside "...".
func quotable(s string) string {
	return unquotable.Replace(InertDisplay(s))
}

// Session timers (RFC 4028). The dialog is refreshed (re-INVITE or
// UPDATE) by one side, the refresher, every half interval; a session
// nobody refreshed ends with a BYE shortly before it expires.

// minSessionExpires is the smallest session interval RFC 4028 allows
// (Min-SE); the schema keeps session_timer at or above it, only tests go
// lower.
const minSessionExpires = 90

// sessionTimer is a dialog's session timer.
type sessionTimer struct {
	want      int // seconds we ask for (0: we do not support session timers)
	min       int // our Min-SE
	retried   bool
	interval  time.Duration // the negotiated interval; 0: no session timer
	refresher bool          // we refresh
	since     time.Time     // the last refresh
	sent      bool          // our refresh for this interval is out
	timer     *time.Timer   // the next refresh (refresher) or the end
}

// configure sets what we ask for from the core's setting.
func (s *sessionTimer) configure(d time.Duration) {
	if d <= 0 {
		*s = sessionTimer{}
		return
	}
	s.want = int((d + time.Second - 1) / time.Second)
	s.min = min(minSessionExpires, s.want)
}

// start (re)starts the timer after a refresh: interval 0 stops it.
func (s *sessionTimer) start(interval time.Duration, refresher bool) {
	s.stop()
	s.interval, s.refresher, s.sent = interval, refresher, false
	if interval <= 0 {
		return
	}
	s.since = time.Now()
	s.timer = time.NewTimer(s.next())
}

// next is how long until the timer must act: the refresh at half the
// interval, else the end, max(32 s, interval/3) before expiry (RFC 4028
// §10: the BYE goes out before the other side gives up on the session).
func (s *sessionTimer) next() time.Duration {
	at := s.interval - min(32*time.Second, s.interval/3)
	if s.refresher && !s.sent {
		at = s.interval / 2
	}
	return max(0, time.Until(s.since.Add(at)))
}

func (s *sessionTimer) stop() {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
}

// requestHeaders are what an INVITE, re-INVITE or UPDATE of ours carries:
// our support and, when a session timer runs or is wanted, its interval
// with us as refresher of the refresh.
func (s *sessionTimer) requestHeaders(initial bool) []sip.Header {
	if s.want == 0 {
		return nil
	}
	hs := []sip.Header{sip.NewHeader("Supported", "timer")}
	switch {
	case initial:
		hs = append(hs, sip.NewHeader("Session-Expires", strconv.Itoa(s.want)))
	case s.interval > 0:
		refresher := "uac" // the refresh's sender keeps refreshing
		if !s.refresher {
			refresher = "uas"
		}
		hs = append(hs, sip.NewHeader("Session-Expires", strconv.Itoa(int(s.interval/time.Second))+";refresher="+refresher))
	default:
		return hs
	}
	return append(hs, sip.NewHeader("Min-SE", strconv.Itoa(s.min)))
}

// answered reads the Session-Expires of a 2xx to a request of ours
// (INVITE, re-INVITE, UPDATE): we are the UAC, refresher=uac is us. A
// 2xx without it means no session timer.
func (s *sessionTimer) answered(res *sip.Response) {
	if s.want == 0 {
		s.start(0, false)
		return
	}
	secs, refresher, ok := sessionExpires(res)
	if !ok {
		s.start(0, false)
		return
	}
	s.start(time.Duration(secs)*time.Second, refresher != "uas")
}

// answer decides the session timer for a request of the other side (an
// INVITE we accept, a re-INVITE or UPDATE): the headers for our 2xx. We
// may shorten the interval asked for, not below its Min-SE; the
// refresher is the one the request named, else the other side if it
// supports session timers, else us.
func (s *sessionTimer) answer(req *sip.Request) []sip.Header {
	if s.want == 0 {
		return nil
	}
	secs, refresher, ok := sessionExpires(req)
	if !ok {
		secs = s.want
		if s.interval > 0 {
			secs = int(s.interval / time.Second)
		}
	}
	if secs > s.want {
		secs = max(s.want, minSEOf(req))
	}
	if refresher != "uac" && refresher != "uas" {
		refresher = "uas"
		if supports(req, "timer") {
			refresher = "uac"
		}
	}
	s.start(time.Duration(secs)*time.Second, refresher == "uas")
	hs := []sip.Header{
		sip.NewHeader("Supported", "timer"),
		sip.NewHeader("Session-Expires", strconv.Itoa(secs)+";refresher="+refresher),
	}
	if refresher == "uac" {
		hs = append(hs, sip.NewHeader("Require", "timer"))
	}
	return hs
}

// tooSmall reads a 422 (Session Interval Too Small) to a request of
// ours: true when we can ask again with the interval it names.
func (s *sessionTimer) tooSmall(res *sip.Response) bool {
	if res.StatusCode != 422 || s.want == 0 || s.retried {
		return false
	}
	sent := s.want
	if s.interval > 0 {
		sent = int(s.interval / time.Second)
	}
	m := minSEOf(res)
	if m <= sent {
		return false
	}
	s.retried = true
	s.want, s.min = m, max(s.min, m)
	if s.interval > 0 {
		s.interval = time.Duration(m) * time.Second
	}
	return true
}

// sessionExpires reads Session-Expires (compact form x): the seconds and
// the refresher parameter.
func sessionExpires(m sip.Message) (secs int, refresher string, ok bool) {
	h := firstHeader(m, "Session-Expires", "x")
	if h == nil {
		return 0, "", false
	}
	v, params, _ := strings.Cut(h.Value(), ";")
	secs, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || secs <= 0 {
		return 0, "", false
	}
	for p := range strings.SplitSeq(params, ";") {
		if k, val, _ := strings.Cut(p, "="); strings.EqualFold(strings.TrimSpace(k), "refresher") {
			refresher = strings.ToLower(strings.TrimSpace(val))
		}
	}
	return secs, refresher, true
}

// minSEOf reads Min-SE (0 when absent).
func minSEOf(m sip.Message) int {
	h := firstHeader(m, "Min-SE")
	if h == nil {
		return 0
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// supports reports whether a message's Supported (or Require) header
// names option.
func supports(m sip.Message, option string) bool {
	return listHas(m, option, "Supported", "k", "Require")
}

// allows reports whether a message's Allow header names method.
func allows(m sip.Message, method sip.RequestMethod) bool {
	return listHas(m, string(method), "Allow")
}

// firstHeader returns the first header with one of names.
func firstHeader(m sip.Message, names ...string) sip.Header {
	for _, name := range names {
		if hs := m.GetHeaders(name); len(hs) > 0 {
			return hs[0]
		}
	}
	return nil
}

func listHas(m sip.Message, item string, names ...string) bool {
	for _, name := range names {
		for _, h := range m.GetHeaders(name) {
			for v := range strings.SplitSeq(h.Value(), ",") {
				if strings.EqualFold(strings.TrimSpace(v), item) {
					return true
				}
			}
		}
	}
	return false
}
