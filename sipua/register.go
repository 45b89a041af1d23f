package sipua

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
)

// Account is an identity's registration: the user_* settings of one
// identity (1-12).
type Account struct {
	Identity int
	User     string        // user_name: the user part of the address of record
	Host     string        // user_host: the registrar's domain, host[:port]
	AuthUser string        // user_pname; empty: User
	Password string        // user_pass
	Expires  time.Duration // requested registration time; 0: one hour
}

func (a Account) authUser() string {
	if a.AuthUser != "" {
		return a.AuthUser
	}
	return a.User
}

// Registration timing. A registrar that refuses us is asked again after
// a growing pause, never in a loop.
const (
	defaultExpires = time.Hour
	minRefresh     = 5 * time.Second
	firstRetry     = 30 * time.Second
	maxRetry       = 10 * time.Minute
	maxChallenges  = 1 // digest answers per REGISTER; a second 401 fails
)

// registration is one identity's REGISTER loop.
type registration struct {
	u       *UA
	acct    Account
	callID  string
	tag     string
	seq     uint32
	stop    chan struct{}
	done    chan struct{}
	expires time.Duration // last granted; 0 when not registered
}

// Register starts (or restarts with new data) the registration of
// a.Identity, in the background: Registered and RegistrationFailed report
// how it goes. The account's credentials also answer challenges to
// INVITEs dialed for that identity. An account without Host only stops a
// running registration.
func (u *UA) Register(a Account) {
	u.Unregister(a.Identity)
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed || !u.started {
		return
	}
	u.accounts[a.Identity] = a
	if a.Host == "" || a.User == "" {
		return
	}
	r := &registration{u: u, acct: a, callID: randomHex(16), tag: randomHex(8),
		stop: make(chan struct{}), done: make(chan struct{})}
	u.regs[a.Identity] = r
	u.callWG.Add(1)
	go r.run()
}

// Unregister stops an identity's registration and removes its binding at
// the registrar (best effort, in the background).
func (u *UA) Unregister(identity int) {
	u.mu.Lock()
	r := u.regs[identity]
	delete(u.regs, identity)
	delete(u.accounts, identity)
	u.mu.Unlock()
	if r != nil {
		close(r.stop)
	}
}

// account returns the credentials of an identity.
func (u *UA) account(identity int) (Account, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	a, ok := u.accounts[identity]
	return a, ok
}

func (r *registration) logf(level firmware.Level, format string, args ...any) {
	r.u.logf(level, "sip: identity %d: "+format, append([]any{r.acct.Identity}, args...)...)
}

func (r *registration) run() {
	defer r.u.callWG.Done()
	defer close(r.done)
	want := r.acct.Expires
	if want <= 0 {
		want = defaultExpires
	}
	retry := firstRetry
	for {
		granted, status, reason := r.register(want)
		var wait time.Duration
		if granted > 0 {
			if r.expires == 0 {
				r.logf(firmware.Info, "registered at %s for %v", r.acct.Host, granted)
				r.u.emit(firmware.Registered{Identity: r.acct.Identity})
			}
			r.expires = granted
			retry = firstRetry
			wait = max(granted/2, minRefresh)
		} else {
			r.expires = 0
			r.logf(firmware.Notice, "registration failed: %d %s; again in %v", status, reason, retry)
			r.u.emit(firmware.RegistrationFailed{Identity: r.acct.Identity, Status: status, Reason: reason})
			wait = retry
			retry = min(2*retry, maxRetry)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-r.stop:
			t.Stop()
			r.unregister()
			return
		case <-r.u.ctx.Done():
			t.Stop()
			r.unregister()
			return
		}
	}
}

// unregister removes our binding (Expires: 0) if we had one.
func (r *registration) unregister() {
	if r.expires > 0 {
		r.register(0)
	}
}

// register sends one REGISTER asking for expires, answering at most
// maxChallenges digest challenges. It returns the time granted (0 on
// failure) or the failure's status and reason.
func (r *registration) register(expires time.Duration) (time.Duration, int, string) {
	a := r.acct
	var registrar, aor sip.Uri
	if err := sip.ParseUri("sip:"+a.Host, &registrar); err != nil || registrar.Host == "" {
		return 0, 0, "bad registrar " + inert(a.Host, maxDisplayRunes)
	}
	aor = sip.Uri{Scheme: "sip", User: a.User, Host: registrar.Host, Port: registrar.Port}

	req := sip.NewRequest(sip.REGISTER, registrar)
	from := &sip.FromHeader{Address: aor}
	from.Params.Add("tag", r.tag)
	to := &sip.ToHeader{Address: aor}
	callID := sip.CallIDHeader(r.callID)
	r.seq++
	maxFwd := sip.MaxForwardsHeader(70)
	secs := sip.ExpiresHeader(uint32(expires / time.Second))
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: r.seq, MethodName: sip.REGISTER})
	req.AppendHeader(&maxFwd)
	req.AppendHeader(r.u.contact(a.User, req.Transport()))
	req.AppendHeader(&secs)
	req.AppendHeader(sip.NewHeader("User-Agent", r.u.cfg.UserAgent))
	req.AppendHeader(sip.NewHeader("Allow", Allowed))

	timeout := 64 * sip.T1
	if expires == 0 {
		timeout = 2 * time.Second // on the way out: do not hold up Close
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res, err := r.do(ctx, req, nil)
	for challenges := 0; err == nil && isChallenge(res) && a.Password != "" && challenges < maxChallenges; challenges++ {
		res, err = r.do(ctx, req, res)
	}
	if err != nil {
		r.logf(firmware.Debug, "REGISTER: %v", err)
		if ctx.Err() != nil {
			return 0, 408, "Request Timeout"
		}
		return 0, 0, "transport error"
	}
	if res.StatusCode == 423 && expires > 0 { // Interval Too Brief
		if h := res.GetHeader("Min-Expires"); h != nil {
			if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 && time.Duration(n)*time.Second > expires {
				return r.register(time.Duration(n) * time.Second)
			}
		}
	}
	if !res.IsSuccess() {
		return 0, res.StatusCode, inert(res.Reason, maxDisplayRunes)
	}
	if expires == 0 {
		return 0, 0, ""
	}
	return grantedExpires(res, r.u.ip, r.u.port, expires), 0, ""
}

// do sends req (or, after a challenge, req with credentials) and waits
// for the final answer.
func (r *registration) do(ctx context.Context, req *sip.Request, challenge *sip.Response) (*sip.Response, error) {
	res, seq, err := r.u.finalResponse(ctx, req, challenge, r.acct)
	if seq != 0 {
		r.seq = seq
	}
	return res, err
}

// finalResponse sends req, or after a 401/407 challenge req with the
// account's digest credentials, and waits for the final answer. seq is
// the CSeq the authenticated request went out with (0 without a
// challenge): the caller's next request must count on from it.
func (u *UA) finalResponse(ctx context.Context, req *sip.Request, challenge *sip.Response, a Account) (res *sip.Response, seq uint32, err error) {
	var tx sip.ClientTransaction
	if challenge == nil {
		tx, err = u.client.TransactionRequest(ctx, req, u.reqOpts()...)
	} else {
		tx, err = u.client.TransactionDigestAuth(ctx, req, challenge,
			sipgo.DigestAuth{Username: a.authUser(), Password: a.Password})
		if cseq := req.CSeq(); cseq != nil {
			seq = cseq.SeqNo
		}
	}
	if err != nil {
		return nil, seq, err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res, seq, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, seq, err
			}
			return nil, seq, context.DeadlineExceeded
		case <-ctx.Done():
			return nil, seq, ctx.Err()
		}
	}
}

func isChallenge(res *sip.Response) bool {
	return res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired
}

// grantedExpires reads the registration time the registrar granted: our
// Contact's expires parameter (the binding at ip:port), else the Expires
// header, else what we asked for.
func grantedExpires(res *sip.Response, ip string, port int, asked time.Duration) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		for _, v := range splitAddressList(h.Value()) {
			var u sip.Uri
			params := sip.HeaderParams{}
			if _, err := sip.ParseAddressValue(v, &u, &params); err != nil || u.Host != ip || u.Port != port {
				continue
			}
			if e, ok := params.Get("expires"); ok {
				if n, err := strconv.Atoi(e); err == nil && n > 0 {
					return time.Duration(n) * time.Second
				}
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return asked
}
