package sipua

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
	"phonesim/sipua/media"
)

// MediaMode is what the phone sends in a call.
type MediaMode = media.Mode

const (
	MediaTone    = media.Tone    // a 400 Hz PCMU/PCMA tone
	MediaSilence = media.Silence // silence frames
	MediaEcho    = media.Echo    // every received payload, sent back (the echo phone)
)

// MediaStats counts a call's RTP packets.
type MediaStats = media.Stats

// Config configures a UA.
type Config struct {
	Listen    string // host:port for UDP and TCP alike; port 0 picks a free port (the same for both)
	UserAgent string // User-Agent header, e.g. "phonesim/dev"
	Media     MediaMode
	Logf      func(level firmware.Level, format string, args ...any) // may be nil
	// LogEnabled reports whether the log keeps a line at level by default
	// (phonelog.Log.Enabled; nil: every level). Lines it refuses are
	// never formatted: the SIP stack's debug records cost nothing unless
	// the log is at debug.
	LogEnabled func(level firmware.Level) bool
	// TransactionTimeout bounds how long a request of ours within a call
	// waits for a final answer (0: 64·T1, 32 s, as RFC 3261 Timer B).
	TransactionTimeout time.Duration
	// Connections others open to our TCP port: closed after
	// TCPIdleTimeout with nothing read or written and no call on them
	// (0: 64·T1, 32 s); at most TCPMaxConns open (0: 256), and
	// TCPMaxConnsPerIP from one address (0: 64); more are closed at once.
	TCPIdleTimeout   time.Duration
	TCPMaxConns      int
	TCPMaxConnsPerIP int
	// Host, when set, is the SIP port this UA shares with others (a
	// fleet's phones: host.go); Listen and the TCP limits are then the
	// host's, and the UA binds nothing of its own.
	Host *Host
}

// Allowed is our Allow header.
const Allowed = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, NOTIFY, REFER"

// ErrClosed is returned by Start after Close.
var ErrClosed = errors.New("sipua: closed")

var quietSipgo sync.Once

// keptStats is how many ended calls' statistics Stats remembers.
const keptStats = 32

// UA is one phone's SIP user agent.
type UA struct {
	cfg    Config
	events chan<- firmware.Event

	ip     string // advertised in Contact, Via and SDP
	bindIP string // where RTP sockets bind
	port   int
	udp    net.PacketConn
	tcp    *tcpListener

	sua    *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client

	handlers  map[sip.RequestMethod]sipgo.RequestHandler // what each request of ours meets (handlers)
	host      *UA                                        // the shared port's UA when Config.Host; nil: our own
	hosted    *hostTable                                 // on a Host's UA: the UAs sharing it, by user
	traceStop func()                                     // trace.go: off the wire tap, at the end of Close
	unwatch   func() bool                                // stops Start's ctx watch (Close)

	ctx    context.Context // canceled by Close: calls end
	cancel context.CancelFunc

	mu         sync.Mutex
	started    bool
	closed     bool
	calls      map[firmware.CallID]*call
	bySIP      map[string]*call // SIP Call-ID → call
	ended      map[firmware.CallID]MediaStats
	endedOrder []firmware.CallID
	incoming   int
	accounts   map[int]Account
	regs       map[int]*registration
	subs       subTable   // subscribe.go: SUBSCRIBE/NOTIFY (BLF, MWI)
	media      mediaState // callmedia.go: media settings in force

	callWG  sync.WaitGroup // call goroutines
	bgWG    sync.WaitGroup // goroutines waiting on BYE/CANCEL answers
	serveWG sync.WaitGroup // transport readers

	seen     seenInvites    // INVITEs handed to the core, for retransmissions
	tcpCalls map[string]int // TCP source address → incoming calls in progress

	out      outbox
	pumpStop chan struct{}
	pumpDone chan struct{}
}

// New makes a UA that sends its events on events. Nothing is bound until
// Start.
func New(cfg Config, events chan<- firmware.Event) (*UA, error) {
	if events == nil {
		return nil, errors.New("sipua: nil events channel")
	}
	if cfg.Listen == "" {
		cfg.Listen = ":5060"
	}
	// A few sipgo paths log through its package logger, not ours (TCP
	// reference counts at WARN): keep them off stderr and the terminal.
	quietSipgo.Do(func() { sip.SetDefaultLogger(slog.New(slog.DiscardHandler)) })
	if cfg.UserAgent == "" {
		cfg.UserAgent = "phonesim"
	}
	ctx, cancel := context.WithCancel(context.Background())
	u := &UA{
		cfg:      cfg,
		events:   events,
		ctx:      ctx,
		cancel:   cancel,
		calls:    map[firmware.CallID]*call{},
		bySIP:    map[string]*call{},
		ended:    map[firmware.CallID]MediaStats{},
		accounts: map[int]Account{},
		regs:     map[int]*registration{},
		out:      outbox{wake: make(chan struct{}, 1)},
		pumpStop: make(chan struct{}),
		pumpDone: make(chan struct{}),
	}
	u.handlers = u.requestHandlers()
	return u, nil
}

// noRoute keys the handler of methods sipgo has no route for.
const noRoute sip.RequestMethod = ""

// requestHandlers is how each request method is met; screen: RFC 3261
// §8.2 checks (transport_validate.go).
func (u *UA) requestHandlers() map[sip.RequestMethod]sipgo.RequestHandler {
	return map[sip.RequestMethod]sipgo.RequestHandler{
		sip.INVITE:  u.guard(u.screen(u.absorbRetransmissions(u.onInvite))),
		sip.ACK:     u.guard(u.onAck),
		sip.CANCEL:  u.guard(u.screen(u.onStrayCancel)),
		sip.BYE:     u.guard(u.screen(u.onInDialog)),
		sip.INFO:    u.guard(u.screen(u.onInDialog)),
		sip.UPDATE:  u.guard(u.screen(u.onInDialog)),
		sip.NOTIFY:  u.guard(u.screen(u.onNotify)), // subscribe.go; the rest on to onInDialog
		sip.REFER:   u.guard(u.screen(u.onInDialog)),
		sip.OPTIONS: u.guard(u.screen(u.onOptions)),
		noRoute:     u.guard(u.screen(u.onOther)),
	}
}

func (u *UA) logf(level firmware.Level, format string, args ...any) {
	if u.logEnabled(level) {
		u.cfg.Logf(level, format, args...)
	}
}

// logEnabled is the cheap check made before a line is formatted.
func (u *UA) logEnabled(level firmware.Level) bool {
	return u.cfg.Logf != nil && (u.cfg.LogEnabled == nil || u.cfg.LogEnabled(level))
}

// Start binds the UDP and TCP sockets, starts serving and sends
// NetworkUp. It returns once listening. When ctx ends, the UA closes.
func (u *UA) Start(ctx context.Context) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return ErrClosed
	}
	if u.started {
		return errors.New("sipua: already started")
	}
	if u.cfg.Host != nil {
		return u.startHosted(ctx) // host.go
	}
	if err := u.bind(); err != nil {
		return err
	}
	if err := u.setupSIP(); err != nil {
		u.udp.Close()
		u.tcp.Close()
		return err
	}
	u.started = true
	if u.hosted == nil || u.ownRecorder() != nil {
		// trace.go: SIP on u's sockets to its recorder (--sip-trace,
		// --pcap, /ladder.htm); off again after Close. A Host (a fleet)
		// records only when given a recorder: a ladder of every phone's
		// calls would cost each call more than the phone does.
		u.traceStart()
	}

	u.serveWG.Add(2)
	go func() {
		defer u.serveWG.Done()
		_ = u.srv.ServeUDP(u.udp)
	}()
	go func() {
		defer u.serveWG.Done()
		u.serveTCP(u.tcp)
	}()
	go u.pump()
	if err := u.awaitListener(); err != nil {
		u.mu.Unlock()
		u.Close()
		u.mu.Lock()
		return err
	}
	u.unwatch = context.AfterFunc(ctx, func() { u.Close() })

	u.logf(firmware.Info, "sip: listening on %s:%d (udp, tcp)", u.ip, u.port)
	u.emit(firmware.NetworkUp{IP: u.ip, Port: u.port})
	return nil
}

// awaitListener waits until sipgo has registered the UDP socket: until
// then a request would not find it and would try to bind the port again.
func (u *UA) awaitListener() error {
	addr := u.udp.LocalAddr().String()
	for deadline := time.Now().Add(2 * time.Second); ; {
		if c, err := u.sua.TransportLayer().GetConnection("udp", addr); err == nil {
			_, _ = c.TryClose() // GetConnection took a reference
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("sipua: UDP transport did not start")
		}
		time.Sleep(time.Millisecond)
	}
}

// bind opens UDP and TCP on one port. With port 0, it retries until the
// port UDP got is free for TCP too.
func (u *UA) bind() error {
	host, portStr, err := net.SplitHostPort(u.cfg.Listen)
	if err != nil {
		return fmt.Errorf("sipua: listen address %q: %w", u.cfg.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("sipua: listen port %q: %w", portStr, err)
	}
	for attempt := 0; ; attempt++ {
		udp, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return fmt.Errorf("sipua: %w", err)
		}
		got := udp.LocalAddr().(*net.UDPAddr).Port
		tcp, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(got)))
		if err != nil {
			udp.Close()
			if port == 0 && attempt < 20 {
				continue
			}
			return fmt.Errorf("sipua: %w", err)
		}
		u.udp, u.tcp, u.port = udp, newTCPListener(u, tcp), got
		break
	}
	// Advertise the address actually bound ("localhost" is 127.0.0.1);
	// on all interfaces, the one a peer can most likely reach.
	bound := u.udp.LocalAddr().(*net.UDPAddr).IP
	u.bindIP, u.ip = bound.String(), bound.String()
	if bound.IsUnspecified() {
		u.bindIP, u.ip = "", outboundIP()
	}
	return nil
}

// outboundIP picks the address to advertise when listening on all
// interfaces: the first non-loopback IPv4 address, else loopback.
func outboundIP() string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

func (u *UA) setupSIP() error {
	logger := slog.New(logHandler{u: u})
	sua, err := sipgo.NewUA(
		sipgo.WithUserAgent(u.cfg.UserAgent),
		sipgo.WithUserAgentHostname(u.ip),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(logger),
			sip.WithTransactionLayerUnhandledResponseHandler(func(r *sip.Response) {
				u.logf(firmware.Debug, "sip: stray response %d %s", r.StatusCode, r.Reason)
			}),
		),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(logger),
			sip.WithTransportLayerReadFilter(u.screenDatagram)), // transport_udp.go
	)
	if err != nil {
		return fmt.Errorf("sipua: %w", err)
	}
	srv, err := sipgo.NewServer(sua, sipgo.WithServerLogger(logger))
	if err != nil {
		sua.Close()
		return fmt.Errorf("sipua: %w", err)
	}
	client, err := sipgo.NewClient(sua,
		sipgo.WithClientLogger(logger),
		sipgo.WithClientHostname(u.ip),
		sipgo.WithClientPort(u.port),
		// Requests leave from the listening socket, so the other side's
		// answers and in-dialog requests come back to it.
		sipgo.WithClientConnectionAddr(u.udp.LocalAddr().String()),
		sipgo.WithClientNAT(),
	)
	if err != nil {
		sua.Close()
		return fmt.Errorf("sipua: %w", err)
	}
	u.sua, u.srv, u.client = sua, srv, client

	for m := range u.handlers {
		h := u.handlers[m]
		if u.hosted != nil {
			h = u.hosted.dispatch(u, m) // host.go: the UA the request names
		}
		if m == noRoute {
			srv.OnNoRoute(h)
		} else {
			srv.OnRequest(m, h)
		}
	}
	return nil
}

// reqOpts builds outgoing requests: sipgo's defaults (Via, missing
// headers, the listening socket as source), except that a request over a
// connection-oriented transport gets its own connection: sipgo would pick
// any accepted TCP connection on our listening address.
func (u *UA) reqOpts() []sipgo.ClientRequestOption {
	return []sipgo.ClientRequestOption{
		sipgo.ClientRequestBuild,
		func(_ *sipgo.Client, req *sip.Request) error {
			if sip.IsReliable(req.Transport()) {
				req.Laddr = sip.Addr{}
			}
			return nil
		},
	}
}

// Addr is the advertised address and the SIP port (0 before Start).
func (u *UA) Addr() (ip string, port int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.ip, u.port
}

// Do carries out an effect. SIP effects go to their call's goroutine;
// others (Render, FetchURL, Log, SetLED) are ignored. Do never blocks on
// the network.
func (u *UA) Do(e firmware.Effect) {
	var id firmware.CallID
	switch e := e.(type) {
	case firmware.Dial:
		u.dial(e)
		return
	case firmware.Register:
		u.Register(Account{Identity: e.Identity, User: e.User, Host: e.Host, AuthUser: e.AuthUser,
			Password: e.Password, Expires: time.Duration(e.Expires) * time.Second})
		return
	case firmware.Subscribe:
		u.subscribe(e) // subscribe.go
		return
	case firmware.Unsubscribe:
		u.unsubscribe(e.ID)
		return
	case firmware.MulticastListen, firmware.MulticastPlay:
		u.multicast(e) // multicast.go
		return
	case firmware.CallEffect:
		id = e.OfCall()
	default:
		return
	}
	u.mu.Lock()
	c := u.calls[id]
	u.mu.Unlock()
	if c == nil {
		u.logf(firmware.Debug, "sip: %T for unknown call %s", e, id)
		return
	}
	select {
	case c.effects <- e:
	case <-c.done:
	default:
		u.logf(firmware.Warning, "sip: call %s: too many effects queued, dropped %T", id, e)
	}
}

// Stats reports a call's RTP counters; for an ended call, its last
// counters (the most recent calls only).
func (u *UA) Stats(id firmware.CallID) MediaStats {
	u.mu.Lock()
	c := u.calls[id]
	s, ok := u.ended[id]
	u.mu.Unlock()
	if c != nil {
		return c.stats()
	}
	if ok {
		return s
	}
	return MediaStats{}
}

// Close ends all calls (BYE, CANCEL or 503, without waiting for
// answers), stops every goroutine and closes the sockets.
func (u *UA) Close() error {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return nil
	}
	u.closed = true
	started := u.started
	u.mu.Unlock()
	u.cancel()
	if u.unwatch != nil {
		u.unwatch() // the caller's context holds u no longer
	}
	u.shutPager() // multicast.go
	if !started {
		return nil
	}

	calls := make(chan struct{})
	go func() { u.callWG.Wait(); close(calls) }()
	select {
	case <-calls:
	case <-time.After(3 * time.Second):
		u.logf(firmware.Warning, "sip: calls did not end in time")
	}

	if u.host != nil {
		u.host.hosted.leave(u) // host.go: the port is the host's, and stays
	} else {
		u.udp.Close()
		u.tcp.Close()
		u.sua.Close() // terminates transactions, closes connections
		u.serveWG.Wait()
	}
	u.bgWG.Wait()
	<-calls
	close(u.pumpStop)
	<-u.pumpDone
	if u.traceStop != nil {
		u.traceStop()
	}
	return nil
}

// maxCalls bounds the calls in progress: an INVITE flood must not grow
// goroutines and sockets without end.
const maxCalls = 32

// register adds a call; false when the UA is closing or full.
func (u *UA) register(c *call) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed || !u.started || len(u.calls) >= maxCalls {
		return false
	}
	u.calls[c.id] = c
	u.bySIP[c.sipCallID] = c
	if src := tcpSource(c); src != "" {
		u.countTCPCall(src, 1)
	}
	u.callWG.Add(1)
	return true
}

// tcpSource is where an incoming call's INVITE came from over TCP ("":
// not incoming, not TCP).
func tcpSource(c *call) string {
	if !c.incoming || c.invite == nil || !sip.IsReliable(c.invite.Transport()) {
		return ""
	}
	return c.invite.Source()
}

func (u *UA) unregister(c *call, last MediaStats) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.calls[c.id] == c {
		delete(u.calls, c.id)
		if src := tcpSource(c); src != "" {
			u.countTCPCall(src, -1)
		}
	}
	if u.bySIP[c.sipCallID] == c {
		delete(u.bySIP, c.sipCallID)
	}
	if _, ok := u.ended[c.id]; !ok {
		u.endedOrder = append(u.endedOrder, c.id)
	}
	u.ended[c.id] = last
	for len(u.endedOrder) > keptStats {
		delete(u.ended, u.endedOrder[0])
		u.endedOrder = u.endedOrder[1:]
	}
}

func (u *UA) callBySIP(callID string) *call {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.bySIP[callID]
}

// outbox queues events for the core in order; emit never blocks.
type outbox struct {
	mu   sync.Mutex
	q    []firmware.Event
	wake chan struct{}
}

func (u *UA) emit(e firmware.Event) {
	if u.hosted != nil {
		return // a Host has no core
	}
	u.out.mu.Lock()
	u.out.q = append(u.out.q, e)
	u.out.mu.Unlock()
	select {
	case u.out.wake <- struct{}{}:
	default:
	}
}

func (u *UA) pump() {
	defer close(u.pumpDone)
	for {
		u.out.mu.Lock()
		q := u.out.q
		u.out.q = nil
		u.out.mu.Unlock()
		for _, e := range q {
			select {
			case u.events <- e:
			case <-u.pumpStop:
				return
			}
		}
		select {
		case <-u.out.wake:
		case <-u.pumpStop:
			return
		}
	}
}

// logHandler sends sipgo's slog records to Logf: errors as warnings,
// the rest (its debug, info and warning records) as debug lines. Enabled
// asks the log first, so below the log's level sipgo builds no record
// and nothing is formatted.
type logHandler struct {
	u     *UA
	attrs []slog.Attr
}

// sipgoLevel is the phone log level of a sipgo record.
func sipgoLevel(l slog.Level) firmware.Level {
	if l >= slog.LevelError {
		return firmware.Warning
	}
	return firmware.Debug
}

func (h logHandler) Enabled(_ context.Context, l slog.Level) bool {
	return h.u.logEnabled(sipgoLevel(l))
}

func (h logHandler) Handle(_ context.Context, r slog.Record) error {
	level := sipgoLevel(r.Level)
	if !h.u.logEnabled(level) {
		return nil
	}
	msg := r.Message
	for _, a := range h.attrs {
		a.Value = a.Value.Resolve()
		msg += " " + a.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		a.Value = a.Value.Resolve()
		msg += " " + a.String()
		return true
	})
	h.u.logf(level, "sipgo: %s", inert(msg, 512))
	return nil
}

func (h logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{u: h.u, attrs: append(append([]slog.Attr{}, h.attrs...), attrs...)}
}

func (h logHandler) WithGroup(string) slog.Handler { return h }

// active counts the calls in progress.
func (u *UA) active() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.calls)
}
