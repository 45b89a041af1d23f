package sipua

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"phonesim/trace"
)

// The SIP wire tap: every SIP message a UA's sockets send or receive goes
// to its trace.Recorder (--sip-trace, --pcap, /ladder.htm).
//
// The tap point is sipgo's own: with sip.SIPDebug on, its UDP and TCP
// connections hand each datagram written or read, and each TCP write and
// read, with the transport and both addresses, to the tracer set with
// sip.SIPDebugTracer, after the socket call and on the goroutine that
// made it. That sees exactly what goes on the wire, for the listening
// UDP socket (which the client shares: WithClientConnectionAddr), the TCP
// connections accepted, and the TCP connections sipgo dials for our
// requests, which no socket wrapper of ours could reach (sipgo dials them
// with its own net.Dialer).
//
// Both settings are sipgo globals, so they are set once, here, before
// any goroutine reads them, and the tracer finds the UA by the local
// address: a UA's listening port (UDP, accepted TCP), else a connection
// it dialed, known by the top Via of the first request written on it
// (ours: WithClientHostname and WithClientPort put the UA's address
// there) or of the first answer read on it. Messages of no UA (another
// sipgo user in the process) are dropped. A write is reported after it
// returned, so an answer can be reported first: the recorder puts it back
// after what it answers (trace/order.go). Without any output a message
// costs a copy, a map look-up and, for a call's, its place in the ladder.
func init() {
	sip.SIPDebugTracer(wireTap{})
	sip.SIPDebug = true
}

// SetRecorder makes r the recorder of u's SIP traffic; call it before
// Start. Without one, Start makes a recorder that keeps only the ladder.
//
// A UA on a Host records nothing of its own: the host's recorder has its
// traffic (Host.SetRecorder).
func (u *UA) SetRecorder(r *trace.Recorder) {
	if r != nil && u.cfg.Host == nil {
		recorders.Store(u, r)
	}
}

// Recorder is u's recorder (its ladder: Recorder().Calls()), nil before
// Start without SetRecorder and once u is closed.
func (u *UA) Recorder() *trace.Recorder {
	u.mu.Lock()
	h := u.host
	u.mu.Unlock()
	if h != nil {
		return h.ownRecorder() // a shared port has one trace
	}
	return u.ownRecorder()
}

// ownRecorder is the recorder of u's own sockets (no lock: Start calls
// it holding u.mu).
func (u *UA) ownRecorder() *trace.Recorder {
	if r, ok := recorders.Load(u); ok {
		return r.(*trace.Recorder)
	}
	return nil
}

// recorders holds each UA's recorder from SetRecorder or Start until the
// UA is closed.
var recorders sync.Map // *UA → *trace.Recorder

// uaTap is a started UA as the wire tap knows it.
type uaTap struct {
	rec   *trace.Recorder
	ip    netip.Addr // advertised (Via, Contact, SDP)
	bind  netip.Addr // bound; unspecified when on all interfaces
	port  uint16
	conns []connKey // connections it dialed, oldest first
}

// connKey names a connection as sipgo's tracer does.
type connKey struct{ transport, laddr, raddr string }

// maxDialed is how many dialed connections a UA's tap remembers; a
// forgotten one is found again by its next request's Via.
const maxDialed = 64

var taps struct {
	mu     sync.RWMutex
	byPort map[uint16][]*uaTap
	conns  map[connKey]*uaTap
	n      atomic.Int32 // UAs on the tap: none (a fleet) skips all the work per message
}

// traceStart puts u on the wire tap once its sockets are bound (Start
// calls it, holding u.mu); u leaves it when Close has finished.
func (u *UA) traceStart() {
	rec := u.ownRecorder()
	if rec == nil {
		rec, _ = trace.NewRecorder(trace.Options{}) // the ladder only: cannot fail
		recorders.Store(u, rec)
	}
	ip, _ := netip.ParseAddr(u.ip)
	bind := netip.IPv4Unspecified()
	if u.bindIP != "" {
		bind, _ = netip.ParseAddr(u.bindIP)
	}
	t := &uaTap{rec: rec, ip: ip.Unmap(), bind: bind.Unmap(), port: uint16(u.port)}
	taps.mu.Lock()
	if taps.byPort == nil {
		taps.byPort = map[uint16][]*uaTap{}
		taps.conns = map[connKey]*uaTap{}
	}
	taps.byPort[t.port] = append(taps.byPort[t.port], t)
	taps.n.Add(1)
	taps.mu.Unlock()

	u.traceStop = func() { // at the very end of Close
		taps.mu.Lock()
		list := taps.byPort[t.port]
		for i, x := range list {
			if x == t {
				list = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(taps.byPort, t.port)
		} else {
			taps.byPort[t.port] = list
		}
		for _, k := range t.conns {
			if taps.conns[k] == t {
				delete(taps.conns, k)
			}
		}
		taps.n.Add(-1)
		taps.mu.Unlock()
		recorders.Delete(u)
	}
}

// wireTap is sipgo's tracer (sip.SIPTracer).
type wireTap struct{}

func (wireTap) SIPTraceRead(transport, laddr, raddr string, msg []byte) {
	tapSIP(trace.Received, transport, laddr, raddr, msg)
}

func (wireTap) SIPTraceWrite(transport, laddr, raddr string, msg []byte) {
	tapSIP(trace.Sent, transport, laddr, raddr, msg)
}

func tapSIP(dir trace.Direction, transport, laddr, raddr string, msg []byte) {
	if len(msg) == 0 || taps.n.Load() == 0 {
		return
	}
	now := time.Now()
	la, err := netip.ParseAddrPort(laddr)
	if err != nil {
		return
	}
	ra, err := netip.ParseAddrPort(raddr)
	if err != nil {
		return
	}
	la = netip.AddrPortFrom(la.Addr().Unmap(), la.Port())
	t := findTap(connKey{transport, laddr, raddr}, la, msg)
	if t == nil {
		return
	}
	if la.Addr().IsUnspecified() { // the listening socket on all interfaces
		la = netip.AddrPortFrom(t.ip, la.Port())
	}
	t.rec.SIP(trace.Packet{Time: now, Dir: dir, Transport: transport, Local: la,
		Remote: netip.AddrPortFrom(ra.Addr().Unmap(), ra.Port()), Data: msg})
}

// findTap finds the UA of a message: by the listening port, by a
// connection it dialed, or, on a connection not known yet, by the top Via
// of the message: the first request written on a connection sipgo dialed
// for us, or the first answer read on it (its write may be reported after
// the answer's read, see trace/order.go) carries our Via.
func findTap(k connKey, la netip.AddrPort, msg []byte) *uaTap {
	taps.mu.RLock()
	none := len(taps.byPort) == 0 // nobody records (a fleet): nothing to look for
	t := taps.conns[k]
	if t == nil {
		t = byAddr(la.Addr(), la.Port())
	}
	taps.mu.RUnlock()
	if t != nil || none {
		return t
	}
	via, ok := trace.SentBy(msg)
	if !ok {
		return nil
	}
	taps.mu.Lock()
	defer taps.mu.Unlock()
	t = byAddr(via.Addr(), via.Port())
	if t == nil {
		return nil
	}
	taps.conns[k] = t
	t.conns = append(t.conns, k)
	if len(t.conns) > maxDialed {
		if taps.conns[t.conns[0]] == t {
			delete(taps.conns, t.conns[0])
		}
		t.conns = t.conns[1:]
	}
	return t
}

// byAddr finds the UA listening on ip:port (ip its bound or advertised
// address, or any when it is bound to all interfaces). Holds taps.mu.
func byAddr(ip netip.Addr, port uint16) *uaTap {
	for _, t := range taps.byPort[port] {
		if t.bind.IsUnspecified() || ip.IsUnspecified() || t.bind == ip || t.ip == ip {
			return t
		}
	}
	return nil
}
