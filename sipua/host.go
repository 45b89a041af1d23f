package sipua

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
	"phonesim/trace"
)

// A Host is one SIP port — a UDP socket and a TCP listener on one port,
// one sipgo stack — that many UAs share (Config.Host): a fleet of phones
// in one process then costs one socket pair, one read buffer and two
// reader goroutines in all, not per phone.
//
// A request goes to the UA whose identity the Request-URI's user names
// (SetUsers: the phone's user_nameN): each UA's Contact is
// sip:<user>@<host's address>, so a registrar's INVITE, a direct call to
// sip:<user>@host:port and every in-dialog request carry it. A request
// for a user no UA has is answered 404 (481 for a CANCEL or within a
// dialog; an ACK is dropped). Responses find their transaction in the
// shared stack, whoever sent the request. The SIP trace and the ladder
// are the host's, for all its UAs (Host.SetRecorder).
//
// Close the UAs before their host: a UA's calls end over the host's port.
type Host struct{ u *UA }

// TransactionLinger is how long the SIP stack keeps a completed
// transaction, to absorb retransmissions (RFC 3261 Timers J and L, 64·T1):
// a call's memory is free only that long after it ended.
// It is read when used: sip.T1 is sipgo's to set.
func TransactionLinger() time.Duration { return 64 * sip.T1 }

// NewHost makes a shared port; Listen, UserAgent, Logf and the TCP limits
// of cfg are used (Host is not).
func NewHost(cfg Config) (*Host, error) {
	cfg.Host = nil
	u, err := New(cfg, make(chan firmware.Event)) // a host emits nothing (emit)
	if err != nil {
		return nil, err
	}
	u.hosted = &hostTable{users: map[string]*UA{}, byUA: map[*UA][]string{}}
	return &Host{u: u}, nil
}

// SetRecorder makes r the recorder of the port's SIP traffic, for all its
// UAs (--sip-trace, --pcap, the ladder); call it before Start. Without
// one a host records nothing (a ladder of every phone's calls would cost
// each call more than the phone does).
func (h *Host) SetRecorder(r *trace.Recorder) { h.u.SetRecorder(r) }

// Start binds the port and serves it until ctx ends or Close.
func (h *Host) Start(ctx context.Context) error { return h.u.Start(ctx) }

// Close closes the port.
func (h *Host) Close() error { return h.u.Close() }

// Addr is the advertised address and the port.
func (h *Host) Addr() (ip string, port int) { return h.u.Addr() }

// Users is how many users the host routes requests to.
func (h *Host) Users() int {
	h.u.hosted.mu.RLock()
	defer h.u.hosted.mu.RUnlock()
	return len(h.u.hosted.users)
}

// hostTable is a host's UAs by user.
type hostTable struct {
	mu    sync.RWMutex
	users map[string]*UA
	byUA  map[*UA][]string // the users each UA asked for (drop needs no scan)
}

// startHosted is Start for a UA on a Host (u.mu held): the host's port
// and stack become u's.
func (u *UA) startHosted(ctx context.Context) error {
	hu := u.cfg.Host.u
	hu.mu.Lock()
	ready := hu.started && !hu.closed
	u.ip, u.bindIP, u.port = hu.ip, hu.bindIP, hu.port
	u.udp, u.tcp, u.sua, u.srv, u.client = hu.udp, hu.tcp, hu.sua, hu.srv, hu.client
	hu.mu.Unlock()
	if !ready {
		return errors.New("sipua: the shared SIP port is not started")
	}
	u.host = hu
	u.started = true
	go u.pump()
	u.unwatch = context.AfterFunc(ctx, func() { u.Close() })
	u.emit(firmware.NetworkUp{IP: u.ip, Port: u.port})
	return nil
}

// SetUsers says which users' requests a UA on a Host gets: its
// identities' user names, all of them each time they change. Two UAs
// with one user: the later gets its requests (a fleet's template gives
// each phone its own). Without a Host it does nothing.
func (u *UA) SetUsers(users []string) {
	// u.mu held throughout: Close (closed, then leave) cannot slip in
	// between and leave u routed. A UA's lock before the table's.
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.host == nil || u.closed {
		return
	}
	t := u.host.hosted
	t.mu.Lock()
	defer t.mu.Unlock()
	t.drop(u)
	for _, user := range users {
		if user != "" {
			t.users[user] = u
			t.byUA[u] = append(t.byUA[u], user)
		}
	}
}

// leave stops routing anything to u (Close).
func (t *hostTable) leave(u *UA) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.drop(u)
}

// drop removes u's users (t.mu held); a user another UA took since is
// that UA's.
func (t *hostTable) drop(u *UA) {
	for _, user := range t.byUA[u] {
		if t.users[user] == u {
			delete(t.users, user)
		}
	}
	delete(t.byUA, u)
}

// dispatch is the host's handler of method m: that of the UA the
// Request-URI names.
func (t *hostTable) dispatch(host *UA, m sip.RequestMethod) sipgo.RequestHandler {
	return host.guard(func(req *sip.Request, tx sip.ServerTransaction) {
		t.mu.RLock()
		u := t.users[req.Recipient.User]
		t.mu.RUnlock()
		if u != nil {
			u.handlers[m](req, tx)
			return
		}
		if req.IsAck() || tx == nil {
			return
		}
		status, reason := 404, "Not Found"
		if to := req.To(); req.IsCancel() || (to != nil && tagOf(to.Params) != "") {
			// a CANCEL, or a request within a dialog nobody here has
			// (RFC 3261 §12.2.2)
			status, reason = 481, "Call/Transaction Does Not Exist"
		}
		host.refuse(req, tx, status, reason)
	})
}
