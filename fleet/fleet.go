// Package fleet runs many phones in one process from a template, drives
// them with a scenario and records every call (docs/fleet.md).
//
// Each phone is a full device.Device (its own firmware.Phone, loop and
// identity); they share one SIP port (sipua.Host: one socket pair, one
// sipgo stack, requests routed by user), and an idle phone has no timer
// running but the minute of its clock (device's tickless loop).
package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"phonesim/device"
	"phonesim/firmware"
	"phonesim/keypad"
	"phonesim/phonelog"
	"phonesim/provisioning"
	"phonesim/sipua"
)

// Config is a fleet.
type Config struct {
	N         int    // phones in the whole fleet (all shards)
	FirstUser int    // phone i is user FirstUser+i
	FirstMAC  string // phone i has MAC FirstMAC+i
	Shard     int    // this process runs shard Shard of Shards
	Shards    int
	// Settings for every phone, in order; "{user}" and "{mac}" in a
	// value are replaced by the phone's own.
	Settings []provisioning.Entry
	Files    []*provisioning.File // setting files, same replacement
	Ramp     float64              // phones started per second (<= 0: all at once)
	Scenario *Scenario
	Duration time.Duration // 0: until ctx ends
	Results  io.Writer     // JSON lines; nil: none
	Progress io.Writer     // a progress line each second; nil: none
	HTTP     string        // web interface address; "" or "off": none
	// Ready, when set, receives the web interface's address.
	Ready func(httpAddr string)
	// Registrar says the phones register (user_host1 is set): calls
	// go to numbers; without, to sip:user@ip:port directly.
	Registrar bool
	// SIP is the listen address of the phones' shared SIP port
	// ("": 127.0.0.1:0, a free port).
	SIP string
}

// Identity is phone i's user and MAC.
func Identity(firstUser int, firstMAC string, i int) (user, mac string, err error) {
	m, err := ParseMAC(firstMAC)
	if err != nil {
		return "", "", err
	}
	return strconv.Itoa(firstUser + i), FormatMAC(m + uint64(i)), nil
}

// ParseMAC reads a MAC (12 hex digits, ':' or '-' between bytes allowed).
func ParseMAC(s string) (uint64, error) {
	h := strings.NewReplacer(":", "", "-", "").Replace(s)
	if len(h) != 12 {
		return 0, fmt.Errorf("MAC %q: want 12 hex digits", s)
	}
	v, err := strconv.ParseUint(h, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("MAC %q: want 12 hex digits", s)
	}
	return v, nil
}

// FormatMAC writes a MAC as snom does: 12 upper-case hex digits.
func FormatMAC(v uint64) string { return fmt.Sprintf("%012X", v&0xFFFFFFFFFFFF) }

// ShardRange is the phones [lo, hi) of shard i of n in a fleet of total.
func ShardRange(total, i, n int) (lo, hi int) {
	return total * i / n, total * (i + 1) / n
}

// Phone is one phone of the fleet.
type Phone struct {
	Index int
	User  string
	MAC   string
	Dev   *device.Device
	uri   string // how others reach it
	// reg: its first identity is registered, as last seen (registered)
	// or told (its actor's Registered and RegistrationFailed events);
	// change it with setRegistered, which keeps the fleet's count.
	reg atomic.Bool
	f   *Fleet
}

// setRegistered records p's registration state and counts the change.
func (p *Phone) setRegistered(on bool) {
	if p.reg.Swap(on) == on {
		return
	}
	if on {
		p.f.nreg.Add(1)
		return
	}
	p.f.nreg.Add(-1)
	p.f.mu.Lock()
	p.f.unknown = append(p.f.unknown, p) // registered() looks again
	p.f.mu.Unlock()
}

// Fleet is a running fleet.
type Fleet struct {
	cfg     Config
	host    *sipua.Host // the phones' shared SIP port
	rec     *Recorder
	mu      sync.Mutex
	phones  []*Phone
	callees []*Phone
	started atomic.Int64
	wg      sync.WaitGroup
	nreg    atomic.Int64 // phones whose first identity is registered
	unknown []*Phone     // phones not known registered: registered() looks at them (under mu)
}

// Run starts the fleet and runs it until ctx ends or Duration passes.
func Run(ctx context.Context, cfg Config) error {
	if cfg.N <= 0 {
		return errors.New("fleet: -n must be at least 1")
	}
	if cfg.Shards <= 0 {
		cfg.Shards = 1
	}
	if cfg.Shard < 0 || cfg.Shard >= cfg.Shards {
		return fmt.Errorf("fleet: shard %d of %d", cfg.Shard, cfg.Shards)
	}
	if cfg.Scenario == nil {
		cfg.Scenario = DefaultScenario()
	}
	if cfg.FirstMAC == "" {
		cfg.FirstMAC = "000413000000"
	}
	if cfg.Scenario.RangeHi > 0 && !cfg.Registrar {
		return fmt.Errorf("fleet: call random %d-%d needs a registrar (user_host1): numbers of another fleet are reached through it",
			cfg.Scenario.RangeLo, cfg.Scenario.RangeHi)
	}
	if _, err := ParseMAC(cfg.FirstMAC); err != nil {
		return err
	}
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := &Fleet{cfg: cfg, rec: NewRecorder(cfg.Results, cfg.Shard)}
	lo, hi := ShardRange(cfg.N, cfg.Shard, cfg.Shards)
	if cfg.HTTP != "" && cfg.HTTP != "off" {
		addr, err := f.serve(ctx, cfg.HTTP)
		if err != nil {
			return err
		}
		if cfg.Ready != nil {
			cfg.Ready(addr)
		}
	}
	stats := make(chan struct{})
	go func() { defer close(stats); f.report(ctx, hi-lo) }()

	err := f.startAll(ctx, lo, hi)
	if err == nil && cfg.Scenario.Target != "" {
		f.mu.Lock()
		phones := f.phones
		f.mu.Unlock()
		ncallers := len(phones) * cfg.Scenario.Callers / 100
		for i, p := range phones {
			f.wg.Add(1)
			go f.act(ctx, p, i < ncallers)
		}
	} else if err == nil {
		f.mu.Lock()
		for _, p := range f.phones {
			f.wg.Add(1)
			go f.act(ctx, p, false)
		}
		f.mu.Unlock()
	}
	if err == nil {
		<-ctx.Done()
	}
	cancel()
	f.wg.Wait()
	f.mu.Lock()
	started := f.phones
	f.mu.Unlock()
	for _, p := range started {
		<-p.Dev.Done()
	}
	f.closeHost() // after the phones: their last BYEs leave through it
	<-stats
	if ferr := f.rec.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("results: %w", ferr)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = nil
	}
	return err
}

// openHost starts the phones' shared SIP port, once.
func (f *Fleet) openHost() error {
	if f.host != nil {
		return nil
	}
	addr := f.cfg.SIP
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	h, err := sipua.NewHost(sipua.Config{Listen: addr, UserAgent: "phonesim"})
	if err != nil {
		return err
	}
	// Not on ctx: it closes after the phones (closeHost).
	if err := h.Start(context.Background()); err != nil {
		return fmt.Errorf("SIP port %s: %w", addr, err)
	}
	f.host = h
	return nil
}

func (f *Fleet) closeHost() {
	if f.host != nil {
		f.host.Close()
	}
}

// startAll starts the phones lo..hi-1 at the ramp's pace.
func (f *Fleet) startAll(ctx context.Context, lo, hi int) error {
	if err := f.openHost(); err != nil {
		return err
	}
	var pace *time.Ticker
	if f.cfg.Ramp > 0 {
		pace = time.NewTicker(time.Duration(float64(time.Second) / f.cfg.Ramp))
		defer pace.Stop()
	}
	ncallers := (hi - lo) * f.cfg.Scenario.Callers / 100
	for i := lo; i < hi; i++ {
		if i > lo && pace != nil {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-pace.C:
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p, err := f.start(ctx, i)
		if err != nil {
			return fmt.Errorf("phone %d: %w", i, err)
		}
		f.mu.Lock()
		f.phones = append(f.phones, p)
		f.unknown = append(f.unknown, p)
		if i-lo >= ncallers || f.cfg.Scenario.Callers == 100 {
			f.callees = append(f.callees, p)
		}
		f.mu.Unlock()
		f.started.Add(1)
	}
	return nil
}

func (f *Fleet) start(ctx context.Context, i int) (*Phone, error) {
	user, mac, err := Identity(f.cfg.FirstUser, f.cfg.FirstMAC, i)
	if err != nil {
		return nil, err
	}
	r := strings.NewReplacer("{user}", user, "{mac}", mac)
	st := provisioning.NewStore()
	for _, file := range f.cfg.Files {
		c := &provisioning.File{Name: file.Name}
		for _, e := range file.Entries {
			e.Value = r.Replace(e.Value)
			c.Entries = append(c.Entries, e)
		}
		if fs := st.AddFile(c); provisioning.HasError(fs) {
			return nil, fmt.Errorf("settings refused:\n%s", provisioning.FormatFindings(fs))
		}
	}
	entries := []provisioning.Entry{{Name: "user_name1", Value: user}, {Name: "mac", Value: mac}}
	for _, e := range f.cfg.Settings {
		e.Value = r.Replace(e.Value)
		entries = append(entries, e)
	}
	if !f.cfg.Scenario.AnswerNever && f.cfg.Scenario.AnswerAfter == 0 {
		entries = append(entries, provisioning.Entry{Name: "user_auto_connect1", Value: "on"})
	}
	if fs := st.SetCommandLine(entries); provisioning.HasError(fs) {
		return nil, fmt.Errorf("settings refused:\n%s", provisioning.FormatFindings(fs))
	}
	log := phonelog.New(50, time.Now)
	log.SetLevel(firmware.Warning)
	rec := f.rec
	sent := func(event string, latency time.Duration, ok bool) {
		rec.ActionURL(URL{User: user, Event: event, T: time.Now().UnixMilli(), Latency: float64(latency.Microseconds()) / 1000, OK: ok})
	}
	d, err := device.New(device.Config{Store: st, SIPHost: f.host, Media: sipua.MediaSilence, Log: log, ActionURLSent: sent})
	if err != nil {
		return nil, err
	}
	if err := d.Start(ctx); err != nil {
		return nil, err
	}
	ip, port := d.SIPAddr()
	p := &Phone{Index: i, User: user, MAC: mac, Dev: d, f: f}
	if f.cfg.Registrar {
		p.uri = user
	} else {
		p.uri = "sip:" + user + "@" + net.JoinHostPort(ip, strconv.Itoa(port))
	}
	return p, nil
}

// registered counts the phones whose first identity is registered. Only
// the phones not known to be registered are looked at (their View), once
// a second; the others are counted as their state changes (a registration
// that fails later is told by the phone's events), so a second's count of
// 10 000 idle phones touches none of them.
func (f *Fleet) registered() (phones, reg int) {
	f.mu.Lock()
	look := f.unknown
	f.unknown = nil
	phones = len(f.phones)
	f.mu.Unlock()
	var still []*Phone
	for _, p := range look {
		if p.reg.Load() {
			continue
		}
		if p.Dev.View().Identity.Registered {
			p.setRegistered(true)
		} else {
			still = append(still, p)
		}
	}
	if len(still) > 0 {
		f.mu.Lock()
		f.unknown = append(f.unknown, still...)
		f.mu.Unlock()
	}
	return phones, int(f.nreg.Load())
}

// report writes the summary line and the progress line once a second.
func (f *Fleet) report(ctx context.Context, want int) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var rel releaser
	line := func(now time.Time) {
		n, reg := f.registered()
		f.rec.Tick(now, n, reg)
		// release.go: quiet after calls, or after the phones started
		// (registering: digest challenges, transactions kept 32 s)
		if rel.due(now, f.rec.Totals().Attempted+int(f.started.Load()), f.rec.InProgress()) {
			release()
		}
		if f.cfg.Progress != nil {
			fmt.Fprintf(f.cfg.Progress, "\r%s   ", Progress(n, reg, f.rec.Totals()))
		}
	}
	for {
		select {
		case <-ctx.Done():
			line(time.Now())
			if f.cfg.Progress != nil {
				fmt.Fprintln(f.cfg.Progress)
			}
			return
		case now := <-t.C:
			line(now)
		}
	}
}

// target picks whom p calls.
func (f *Fleet) target(p *Phone) (uri, user string) {
	sc := f.cfg.Scenario
	t := sc.Target
	if t != "random" {
		return t, t
	}
	if sc.RangeHi > 0 { // any number of the range but our own, evenly
		n := sc.RangeHi - sc.RangeLo + 1 // at least 2 (the parser)
		own, err := strconv.Atoi(p.User)
		if err == nil && own >= sc.RangeLo && own <= sc.RangeHi && strconv.Itoa(own) == p.User {
			r := sc.RangeLo + rand.IntN(n-1)
			if r >= own {
				r++
			}
			u := strconv.Itoa(r)
			return u, u
		}
		u := strconv.Itoa(sc.RangeLo + rand.IntN(n))
		return u, u
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cfg.Registrar && f.cfg.Scenario.Callers == 100 {
		// any phone of the whole fleet, across shards
		for range 8 {
			i := rand.IntN(f.cfg.N)
			if u := strconv.Itoa(f.cfg.FirstUser + i); u != p.User {
				return u, u
			}
		}
	}
	if len(f.callees) == 0 {
		return "", ""
	}
	for range 8 {
		c := f.callees[rand.IntN(len(f.callees))]
		if c != p {
			return c.uri, c.User
		}
	}
	return "", ""
}

// act runs the scenario for one phone until ctx ends: a caller on a
// goroutine of its own, a callee (which only answers) without one.
func (f *Fleet) act(ctx context.Context, p *Phone, caller bool) {
	defer f.wg.Done()
	if !caller {
		f.answer(ctx, p)
		return
	}
	a := newActor(ctx, f, p)
	defer a.stop()
	sc := f.cfg.Scenario
	// callers start at a random point of their period, so calls spread out
	next := time.Now().Add(time.Duration(rand.Int64N(int64(sc.Every))))
	for ctx.Err() == nil {
		if !a.wait(next, nil) {
			return
		}
		next = next.Add(sc.Every)
		if now := time.Now(); next.Before(now) {
			next = now.Add(sc.Every) // we fell behind: do not catch up in a burst
		}
		a.call()
	}
}

type actor struct {
	f       *Fleet
	p       *Phone
	ctx     context.Context
	events  chan firmware.Event // the phone's, from device.Tap
	stop    func()
	answers map[firmware.CallID]time.Time // incoming calls to answer, and when
	// the outgoing call under way
	dialing bool
	call_   firmware.CallID
	result  string // "", answered, failed, ended
	status  int
	reason  string
}

// wait handles notices until deadline (zero: until ctx ends) or until
// done returns true; false when ctx ended.
func (a *actor) wait(deadline time.Time, done func() bool) bool {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if done != nil && done() {
			return true
		}
		now := time.Now()
		next := deadline
		for c, at := range a.answers {
			if !at.After(now) {
				delete(a.answers, c)
				_ = a.p.Dev.Post(firmware.KeyPressed{Key: keypad.Enter})
				continue
			}
			if next.IsZero() || at.Before(next) {
				next = at
			}
		}
		if !deadline.IsZero() && !deadline.After(now) {
			return true
		}
		var tc <-chan time.Time
		if !next.IsZero() {
			timer.Reset(next.Sub(now))
			tc = timer.C
		}
		select {
		case <-a.ctx.Done():
			return false
		case <-a.p.Dev.Done():
			return false
		case ev := <-a.events:
			a.event(ev)
		case <-tc:
		}
	}
}

// answer makes p a callee: it answers each call after the scenario's
// delay (at once: user_auto_connect1) and keeps its registration state,
// from its events, on the phone's loop. A fleet of idle callees then has
// no goroutine of the fleet's per phone.
func (f *Fleet) answer(ctx context.Context, p *Phone) {
	sc := f.cfg.Scenario
	type answerAt struct {
		t  *time.Timer
		at time.Time
	}
	pending := map[firmware.CallID]answerAt{} // calls to answer; only the loop touches it
	forget := func(id firmware.CallID) {
		if p, ok := pending[id]; ok {
			p.t.Stop()
			delete(pending, id)
		}
	}
	stop := p.Dev.TapFunc(func(ev firmware.Event) {
		switch e := ev.(type) {
		case firmware.Registered:
			if e.Identity == 1 {
				p.setRegistered(true)
			}
		case firmware.RegistrationFailed:
			if e.Identity == 1 {
				p.setRegistered(false)
			}
		case firmware.CallOffered:
			if sc.AnswerNever || sc.AnswerAfter <= 0 || ctx.Err() != nil {
				break // at once: user_auto_connect1 answers
			}
			now := time.Now()
			for id, a := range pending { // answered already (the timer ran)
				if now.After(a.at) {
					delete(pending, id)
				}
			}
			pending[e.Call] = answerAt{at: now.Add(sc.AnswerAfter), t: time.AfterFunc(sc.AnswerAfter, func() {
				_ = p.Dev.Post(firmware.KeyPressed{Key: keypad.Enter}) // off the loop: Post waits for it
			})}
		case firmware.CallCanceled:
			forget(e.Call)
		case firmware.CallEnded:
			forget(e.Call)
		}
	})
	context.AfterFunc(ctx, stop)
}

// tapDepth is an actor's event queue: a phone in a scenario has a few
// events per call; a full queue drops (device.Dropped counts them).
const tapDepth = 64

func newActor(ctx context.Context, f *Fleet, p *Phone) *actor {
	a := &actor{f: f, p: p, ctx: ctx, events: make(chan firmware.Event, tapDepth), answers: map[firmware.CallID]time.Time{}}
	a.stop = p.Dev.Tap(a.events)
	return a
}

// event follows the phone's calls (typed events, no notice to decode).
func (a *actor) event(ev firmware.Event) {
	sc := a.f.cfg.Scenario
	switch e := ev.(type) {
	case firmware.Registered:
		if e.Identity == 1 {
			a.p.setRegistered(true)
		}
	case firmware.RegistrationFailed:
		if e.Identity == 1 {
			a.p.setRegistered(false)
		}
	case firmware.CallOffered:
		if !sc.AnswerNever && sc.AnswerAfter > 0 {
			a.answers[e.Call] = time.Now().Add(sc.AnswerAfter)
		}
	case firmware.CallCanceled:
		delete(a.answers, e.Call)
	case firmware.CallSent:
		if a.dialing && a.call_ == "" {
			a.call_ = e.Call
		}
	case firmware.CallAnswered: // the remote side answered our INVITE
		if e.Call == a.call_ && a.result == "" {
			a.result = "answered"
		}
	case firmware.CallFailed:
		if e.Call == a.call_ && a.call_ != "" {
			a.result, a.status, a.reason = "failed", e.Status, e.Reason
		}
	case firmware.CallEnded:
		delete(a.answers, e.Call)
		if e.Call == a.call_ && a.call_ != "" {
			if a.result == "answered" {
				a.result = "ended"
			} else if a.result == "" {
				a.result, a.reason = "failed", e.Reason
			}
		}
	}
}

// call places one call and plays the scenario's part of the caller.
func (a *actor) call() {
	sc := a.f.cfg.Scenario
	uri, callee := a.f.target(a.p)
	if uri == "" {
		return
	}
	a.dialing, a.call_, a.result, a.status, a.reason = true, "", "", 0, ""
	defer func() { a.dialing, a.call_ = false, "" }()
	start := time.Now()
	a.f.rec.Attempt()
	c := Call{Caller: a.p.User, Callee: callee, Start: start.UnixMilli()}
	if a.p.Dev.Post(firmware.NumberDialed{Number: uri}) != nil {
		return
	}
	ok := a.wait(start.Add(sc.Timeout), func() bool { return a.result != "" })
	c.SetupMS = time.Since(start).Milliseconds()
	switch {
	case !ok:
		c.Outcome = "stopped"
		a.drop()
		a.f.rec.Add(c)
		return
	case a.result == "":
		c.Outcome = "timeout"
		a.hangup()
		a.f.rec.Add(c)
		return
	case a.result == "failed":
		c.Outcome, c.Status, c.Reason = "failed", a.status, a.reason
		a.f.rec.Add(c)
		return
	}
	connected := time.Now()
	c.Outcome = "answered"
	ended := func() bool { return a.result != "answered" }
	if sc.DTMF != "" && ok {
		for _, d := range sc.DTMF {
			_ = a.p.Dev.Post(firmware.KeyPressed{Key: keypad.Key(string(d))})
		}
	}
	if sc.Hold > 0 && ok && !ended() {
		_ = a.p.Dev.Post(firmware.KeyPressed{Key: keypad.Hold})
		ok = a.wait(time.Now().Add(sc.Hold), ended)
		if ok && !ended() {
			_ = a.p.Dev.Post(firmware.KeyPressed{Key: keypad.Hold})
		}
	}
	if ok && !ended() {
		ok = a.wait(time.Now().Add(sc.Talk), ended)
	}
	c.Duration = time.Since(connected).Milliseconds()
	switch {
	case !ok:
		c.Outcome = "stopped"
		a.drop()
	case ended():
		c.Outcome, c.Reason = "ended", a.reason
	default:
		a.hangup()
	}
	a.f.rec.Add(c)
}

// drop ends the call under way when the scenario stops: the phones may
// live on (idle), and a call left up would talk on for ever.
func (a *actor) drop() {
	a.end()
}

// end hangs up the actor's own call by its ID. X would end the active
// call, and a phone that answered a call during its own has that one
// active (its own on hold); with a call ringing in, X declines that one.
func (a *actor) end() {
	if a.call_ == "" { // not sent yet: X ends the dialing
		_ = a.p.Dev.Post(firmware.KeyPressed{Key: keypad.Cancel})
		return
	}
	_ = a.p.Dev.Post(firmware.HangUpRequested{Call: a.call_})
}

// hangup ends the call under way and waits (bounded) until it ended.
func (a *actor) hangup() {
	a.end()
	a.wait(time.Now().Add(2*time.Second), func() bool {
		for _, c := range a.p.Dev.View().Calls {
			if c.ID == a.call_ && c.State != firmware.Ended {
				return false
			}
		}
		return true
	})
}

// PhoneState is one phone in /api/state.
type PhoneState struct {
	Index      int    `json:"index"`
	User       string `json:"user"`
	MAC        string `json:"mac"`
	SIP        string `json:"sip"`
	Registered bool   `json:"registered"`
	RegError   string `json:"reg_error,omitempty"`
	Calls      int    `json:"calls"`
	State      string `json:"state"` // the first call's state, or "idle"
}

func (f *Fleet) state() any {
	f.mu.Lock()
	ps := f.phones
	f.mu.Unlock()
	out := struct {
		Shard  int          `json:"shard"`
		Shards int          `json:"shards"`
		Totals Totals       `json:"totals"`
		Phones []PhoneState `json:"phones"`
	}{Shard: f.cfg.Shard, Shards: f.cfg.Shards, Totals: f.rec.Totals(), Phones: []PhoneState{}}
	for _, p := range ps {
		v := p.Dev.View()
		ip, port := p.Dev.SIPAddr()
		s := PhoneState{Index: p.Index, User: p.User, MAC: p.MAC, SIP: net.JoinHostPort(ip, strconv.Itoa(port)),
			Registered: v.Identity.Registered, RegError: v.Identity.RegError, Calls: len(v.Calls), State: "idle"}
		if len(v.Calls) > 0 {
			s.State = v.Calls[0].State.String()
		}
		out.Phones = append(out.Phones, s)
	}
	return out
}

// serve starts the fleet's web interface: / (a table) and /api/state.
func (f *Fleet) serve(ctx context.Context, addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("--http %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/state", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(f.state())
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><title>phonesim fleet</title><h1>phonesim fleet</h1><pre>")
		st := f.state().(interface{})
		b, _ := json.MarshalIndent(st, "", "  ")
		fmt.Fprint(w, htmlEscape(string(b)))
		fmt.Fprint(w, "</pre>")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() { <-ctx.Done(); _ = srv.Close() }()
	return ln.Addr().String(), nil
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
