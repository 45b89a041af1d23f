package sipua

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
)

// Subscriptions (RFC 6665) for the busy-lamp field (RFC 4235, Event:
// dialog) and message waiting (RFC 3842, Event: message-summary).
//
// The core asks with firmware.Subscribe; each subscription is one
// goroutine that SUBSCRIBEs (answering one digest challenge with the
// identity's credentials, as REGISTER does), refreshes at half the
// granted time, and after a failure tries again after a growing pause
// (subFirstRetry doubling up to subMaxRetry), with a new dialog. NOTIFYs
// are matched to a subscription by Call-ID: answered 200 and turned into
// DialogStateChanged / MessageSummary; one for no subscription gets 481,
// except message-summary, which is accepted unsolicited (200). A NOTIFY
// body over maxNotifyBody (413) or that does not parse (400: malformed
// XML, a DTD, an entity reference) reaches the core not at all.

// Subscription timing, variables so tests can shorten them.
var (
	subExpires    = time.Hour
	subFirstRetry = 30 * time.Second
	subMaxRetry   = 10 * time.Minute
)

// maxNotifyBody caps the body of a NOTIFY we parse.
const maxNotifyBody = 64 << 10

// subTable is the UA's subscriptions, by the core's ID and by Call-ID.
type subTable struct {
	mu       sync.Mutex
	byID     map[string]*subscription
	byCallID map[string]*subscription
}

func (t *subTable) get(callID string) *subscription {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byCallID[callID]
}

type subscription struct {
	u    *UA
	eff  firmware.Subscribe
	stop chan struct{}
	kick chan bool // a NOTIFY terminated the subscription; true: as a failure

	mu        sync.Mutex // guards the dialog fields and the state below
	callID    string
	tag       string
	seq       uint32
	remoteTag string
	target    sip.Uri // request URI of refreshes: the notifier's Contact
	route     []sip.Uri
	dialogs   map[string]dialogEntry // by dialog id (dialog package)
	reported  *firmware.DialogStateChanged
}

// subscribe starts (or replaces) the subscription e.ID.
func (u *UA) subscribe(e firmware.Subscribe) {
	u.mu.Lock()
	ok := u.started && !u.closed
	u.mu.Unlock()
	if !ok {
		return
	}
	t := &u.subs
	t.mu.Lock()
	if t.byID == nil {
		t.byID, t.byCallID = map[string]*subscription{}, map[string]*subscription{}
	}
	if old := t.byID[e.ID]; old != nil {
		if old.eff == e {
			t.mu.Unlock()
			return
		}
		delete(t.byID, e.ID)
		delete(t.byCallID, old.callIDNow())
		close(old.stop)
	}
	s := &subscription{u: u, eff: e, stop: make(chan struct{}), kick: make(chan bool, 1)}
	s.newDialog()
	t.byID[e.ID] = s
	t.byCallID[s.callID] = s
	t.mu.Unlock()
	u.callWG.Add(1)
	go s.run()
}

// unsubscribe ends the subscription id (SUBSCRIBE with Expires: 0).
func (u *UA) unsubscribe(id string) {
	t := &u.subs
	t.mu.Lock()
	s := t.byID[id]
	if s != nil {
		delete(t.byID, id)
		delete(t.byCallID, s.callIDNow())
		close(s.stop)
	}
	t.mu.Unlock()
}

func (s *subscription) callIDNow() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callID
}

// newDialog starts over: a new Call-ID and tag, no remote tag.
func (s *subscription) newDialog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callID, s.tag, s.seq, s.remoteTag = randomHex(16), randomHex(8), 0, ""
	s.target, s.route, s.dialogs = sip.Uri{}, nil, nil
}

// redial moves the subscription to a new dialog in the table.
func (s *subscription) redial() {
	t := &s.u.subs
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byID[s.eff.ID] != s {
		return
	}
	delete(t.byCallID, s.callIDNow())
	s.newDialog()
	t.byCallID[s.callIDNow()] = s
}

func (s *subscription) logf(level firmware.Level, format string, args ...any) {
	s.u.logf(level, "sip: subscription %s (%s): "+format, append([]any{s.eff.ID, s.eff.Event}, args...)...)
}

func (s *subscription) fail(status int, reason string) {
	s.u.emit(firmware.SubscriptionFailed{Sub: s.eff.ID, Status: status, Reason: reason})
}

func (s *subscription) run() {
	defer s.u.callWG.Done()
	retry := subFirstRetry
	for {
		granted, status, reason := s.send(subExpires)
		if granted == 0 && status == 481 {
			// the notifier forgot us: a new dialog at once
			s.redial()
			granted, status, reason = s.send(subExpires)
		}
		var wait time.Duration
		if granted > 0 {
			retry = subFirstRetry
			wait = max(granted/2, minRefresh)
			s.logf(firmware.Debug, "active for %v", granted)
		} else {
			s.logf(firmware.Notice, "failed: %d %s; again in %v", status, reason, retry)
			s.fail(status, reason)
			s.redial()
			wait = retry
			retry = min(2*retry, subMaxRetry)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case failed := <-s.kick:
			t.Stop()
			s.redial()
			if failed {
				pause := time.NewTimer(retry)
				retry = min(2*retry, subMaxRetry)
				select {
				case <-pause.C:
				case <-s.stop:
					pause.Stop()
					return
				case <-s.u.ctx.Done():
					pause.Stop()
					return
				}
			}
		case <-s.stop:
			t.Stop()
			s.end()
			return
		case <-s.u.ctx.Done():
			t.Stop()
			return
		}
	}
}

// end removes the subscription at the notifier, best effort.
func (s *subscription) end() {
	s.mu.Lock()
	active := s.remoteTag != ""
	s.mu.Unlock()
	if active {
		s.send(0)
	}
}

// send sends one SUBSCRIBE asking for expires; it returns the time
// granted (0 on failure) or the failure's status and reason.
func (s *subscription) send(expires time.Duration) (time.Duration, int, string) {
	a, ok := s.u.account(s.eff.Identity)
	if !ok || a.Host == "" {
		return 0, 0, "identity " + strconv.Itoa(s.eff.Identity) + " has no registrar"
	}
	var target, registrar sip.Uri
	if err := sip.ParseUri(s.eff.Target, &target); err != nil || target.Host == "" {
		return 0, 0, "bad target " + inert(s.eff.Target, maxDisplayRunes)
	}
	if err := sip.ParseUri("sip:"+a.Host, &registrar); err != nil || registrar.Host == "" {
		return 0, 0, "bad registrar " + inert(a.Host, maxDisplayRunes)
	}
	aor := sip.Uri{Scheme: "sip", User: a.User, Host: registrar.Host, Port: registrar.Port}

	s.mu.Lock()
	ruri := target
	if s.remoteTag != "" && s.target.Host != "" {
		ruri = s.target
	}
	req := sip.NewRequest(sip.SUBSCRIBE, ruri)
	for _, r := range s.route {
		req.AppendHeader(&sip.RouteHeader{Address: r})
	}
	from := &sip.FromHeader{Address: aor}
	from.Params.Add("tag", s.tag)
	to := &sip.ToHeader{Address: target}
	if s.remoteTag != "" {
		to.Params.Add("tag", s.remoteTag)
	}
	callID := sip.CallIDHeader(s.callID)
	s.seq++
	seq := s.seq
	s.mu.Unlock()

	maxFwd := sip.MaxForwardsHeader(70)
	secs := sip.ExpiresHeader(uint32(expires / time.Second))
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: sip.SUBSCRIBE})
	req.AppendHeader(&maxFwd)
	req.AppendHeader(s.u.contact(a.User, req.Transport()))
	req.AppendHeader(sip.NewHeader("Event", s.eff.Event))
	if s.eff.Accept != "" {
		req.AppendHeader(sip.NewHeader("Accept", s.eff.Accept))
	}
	req.AppendHeader(&secs)
	req.AppendHeader(sip.NewHeader("User-Agent", s.u.cfg.UserAgent))
	req.AppendHeader(sip.NewHeader("Allow", Allowed))

	timeout := 64 * sip.T1
	if expires == 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res, err := s.do(ctx, req, nil, a)
	for challenges := 0; err == nil && isChallenge(res) && a.Password != "" && challenges < maxChallenges; challenges++ {
		res, err = s.do(ctx, req, res, a)
	}
	if err != nil {
		s.logf(firmware.Debug, "SUBSCRIBE: %v", err)
		if ctx.Err() != nil {
			return 0, 408, "Request Timeout"
		}
		return 0, 0, "transport error"
	}
	if res.StatusCode == 423 && expires > 0 {
		if h := res.GetHeader("Min-Expires"); h != nil {
			if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 && time.Duration(n)*time.Second > expires && n <= 86400 {
				return s.send(time.Duration(n) * time.Second)
			}
		}
	}
	if !res.IsSuccess() {
		return 0, res.StatusCode, inert(res.Reason, maxDisplayRunes)
	}
	if expires == 0 {
		return 0, 0, ""
	}
	s.mu.Lock()
	if t := res.To(); t != nil {
		if tag := tagOf(t.Params); tag != "" {
			s.remoteTag = tag
		}
	}
	if c := res.Contact(); c != nil && c.Address.Host != "" {
		s.target = c.Address
	}
	s.route = s.route[:0]
	rr := res.GetHeaders("Record-Route")
	for i := len(rr) - 1; i >= 0; i-- {
		for _, v := range splitAddressList(rr[i].Value()) {
			var uri sip.Uri
			params := sip.HeaderParams{}
			if _, err := sip.ParseAddressValue(v, &uri, &params); err == nil {
				s.route = append(s.route, uri)
			}
		}
	}
	s.mu.Unlock()
	granted := expires
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n >= 0 {
			granted = time.Duration(n) * time.Second
		}
	}
	if granted == 0 {
		return 0, res.StatusCode, "granted no time"
	}
	return granted, 0, ""
}

// do sends req (or, after a challenge, req with credentials) and waits
// for the final answer.
func (s *subscription) do(ctx context.Context, req *sip.Request, challenge *sip.Response, a Account) (*sip.Response, error) {
	res, seq, err := s.u.finalResponse(ctx, req, challenge, a)
	if seq != 0 {
		s.mu.Lock()
		s.seq = seq
		s.mu.Unlock()
	}
	return res, err
}

// eventPackage is a request's Event header (or its compact form o),
// without parameters, in lower case.
func eventPackage(req *sip.Request) string {
	h := req.GetHeader("Event")
	if h == nil {
		h = req.GetHeader("o")
	}
	if h == nil {
		return ""
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	return strings.ToLower(strings.TrimSpace(v))
}

// onNotify takes the NOTIFYs of our subscriptions and unsolicited
// message summaries; the others (a REFER's progress) go on to the calls.
func (u *UA) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	ev := eventPackage(req)
	s := u.subs.get(callIDOf(req))
	if s == nil {
		switch ev {
		case "message-summary":
			u.unsolicitedMWI(req, tx)
		case "dialog", "presence":
			u.respondStateless(req, tx, 481, "Subscription Does Not Exist")
		default:
			u.onInDialog(req, tx)
		}
		return
	}
	if ev != strings.ToLower(s.eff.Event) {
		u.respondStateless(req, tx, 489, "Bad Event")
		return
	}
	body := req.Body()
	if len(body) > maxNotifyBody {
		s.logf(firmware.Warning, "NOTIFY body of %d bytes refused (at most %d)", len(body), maxNotifyBody)
		u.respondStateless(req, tx, 413, "Request Entity Too Large")
		return
	}
	var summary firmware.MessageSummary
	var info *dialogInfo
	var err error
	if len(body) > 0 {
		switch ev {
		case "dialog":
			info, err = parseDialogInfo(body)
		case "message-summary":
			summary, err = parseMessageSummary(body)
		}
	}
	if err != nil {
		s.logf(firmware.Warning, "NOTIFY refused: %s", inert(err.Error(), maxDisplayRunes))
		u.respondStateless(req, tx, 400, "Bad Request")
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	u.decorate(res, nil, nil)
	if err := tx.Respond(res); err != nil {
		s.logf(firmware.Debug, "responding to NOTIFY: %v", err)
	}

	s.mu.Lock()
	if from := req.From(); from != nil && s.remoteTag == "" {
		s.remoteTag = tagOf(from.Params)
	}
	if c := req.Contact(); c != nil && c.Address.Host != "" {
		s.target = c.Address
	}
	var changed *firmware.DialogStateChanged
	if info != nil {
		e := s.apply(info)
		if s.reported == nil || *s.reported != e {
			s.reported = &e
			changed = &e
		}
	}
	s.mu.Unlock()
	if changed != nil {
		u.emit(*changed)
	}
	if len(body) > 0 && ev == "message-summary" {
		summary.Identity = s.eff.Identity
		u.emit(summary)
	}

	state := ""
	if h := req.GetHeader("Subscription-State"); h != nil {
		state = strings.ToLower(h.Value())
	}
	if v, params, _ := strings.Cut(state, ";"); strings.TrimSpace(v) == "terminated" {
		reason := ""
		for _, p := range strings.Split(params, ";") {
			if k, val, ok := strings.Cut(strings.TrimSpace(p), "="); ok && k == "reason" {
				reason = strings.TrimSpace(val)
			}
		}
		failed := reason == "rejected" || reason == "noresource" || reason == "giveup" || reason == "probation"
		s.logf(firmware.Info, "terminated by the notifier (reason %s)", inert(reason, 64))
		if failed {
			s.fail(0, "terminated: "+inert(reason, 64))
		}
		select {
		case s.kick <- failed:
		default:
		}
	}
}

// unsolicitedMWI accepts a message-summary NOTIFY outside any
// subscription (RFC 3842 §3.2 allows it in practice: many PBXs send them).
func (u *UA) unsolicitedMWI(req *sip.Request, tx sip.ServerTransaction) {
	body := req.Body()
	if len(body) > maxNotifyBody {
		u.respondStateless(req, tx, 413, "Request Entity Too Large")
		return
	}
	summary, err := parseMessageSummary(body)
	if err != nil {
		u.logf(firmware.Warning, "sip: message-summary NOTIFY refused: %s", inert(err.Error(), maxDisplayRunes))
		u.respondStateless(req, tx, 400, "Bad Request")
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	u.decorate(res, nil, nil)
	if err := tx.Respond(res); err != nil {
		u.logf(firmware.Debug, "sip: responding to NOTIFY: %v", err)
	}
	summary.Identity = u.identityFor(req.Recipient.User)
	u.logf(firmware.Info, "sip: unsolicited message summary for identity %d", summary.Identity)
	u.emit(summary)
}

// identityFor is the identity whose user is user; else the lowest one
// with an account; else 1.
func (u *UA) identityFor(user string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	best := 0
	for i, a := range u.accounts {
		if a.User == user && user != "" {
			return i
		}
		if best == 0 || i < best {
			best = i
		}
	}
	if best == 0 {
		best = 1
	}
	return best
}
