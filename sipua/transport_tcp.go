package sipua

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
)

// Limits on the TCP connections others open to us (connections we dial
// are sipgo's and not limited). Without them, idle connections were never
// closed and one failed accept() ended SIP over TCP for good.
const (
	defaultTCPMaxConns = 256
	defaultTCPMaxPerIP = 64
	tcpWriteTimeout    = 10 * time.Second // a peer that does not read cannot block a call
	acceptBackoffMin   = 10 * time.Millisecond
	acceptBackoffMax   = time.Second
	refusedLogEvery    = time.Second
)

// tcpListener wraps the SIP TCP listener: it retries a failed accept()
// with back-off instead of returning (sipgo's loop would end), refuses
// connections over the caps, and closes connections idle for too long.
type tcpListener struct {
	net.Listener
	u            *UA
	idle         time.Duration
	maxConns     int
	maxPerIP     int
	closed       chan struct{}
	closeOnce    sync.Once
	mu           sync.Mutex
	open         int
	perIP        map[string]int
	refused      int
	lastRefusLog time.Time
}

func newTCPListener(u *UA, l net.Listener) *tcpListener {
	tl := &tcpListener{Listener: l, u: u, closed: make(chan struct{}),
		idle: u.cfg.TCPIdleTimeout, maxConns: u.cfg.TCPMaxConns, maxPerIP: u.cfg.TCPMaxConnsPerIP}
	if tl.idle <= 0 {
		tl.idle = 64 * sip.T1 // 32 s, as long as a transaction
	}
	if tl.maxConns <= 0 {
		tl.maxConns = defaultTCPMaxConns
	}
	if tl.maxPerIP <= 0 {
		tl.maxPerIP = defaultTCPMaxPerIP
	}
	return tl
}

func (l *tcpListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

func (l *tcpListener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			select {
			case <-l.closed:
				return nil, net.ErrClosed
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			delay = min(max(2*delay, acceptBackoffMin), acceptBackoffMax)
			l.u.logf(firmware.Warning, "sip: TCP accept: %v (again in %v)", err, delay)
			select {
			case <-time.After(delay):
			case <-l.closed:
				return nil, net.ErrClosed
			}
			continue
		}
		delay = 0
		if tc := l.admit(c); tc != nil {
			return tc, nil
		}
		c.Close()
	}
}

// admit counts c in, or refuses it (nil) when over a cap.
func (l *tcpListener) admit(c net.Conn) net.Conn {
	ip := ""
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ip = a.IP.String()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open >= l.maxConns || l.perIP[ip] >= l.maxPerIP {
		l.refused++
		if now := time.Now(); now.Sub(l.lastRefusLog) >= refusedLogEvery {
			l.u.logf(firmware.Notice, "sip: TCP connection from %s refused: %d open (%d from it); %d refused", ip, l.open, l.perIP[ip], l.refused)
			l.lastRefusLog, l.refused = now, 0
		}
		return nil
	}
	if l.perIP == nil {
		l.perIP = map[string]int{}
	}
	l.open++
	l.perIP[ip]++
	tc := &tcpConn{Conn: c, l: l, ip: ip, raddr: c.RemoteAddr().String()}
	tc.lastWrite.Store(time.Now().UnixNano())
	return tc
}

func (l *tcpListener) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.perIP[ip]--; l.perIP[ip] <= 0 {
		delete(l.perIP, ip)
	}
}

// tcpConn is an accepted connection. It ends (EOF to sipgo) after idle
// with nothing read or written, unless a call that came in over it is
// still going: its answers and BYE go back over it.
type tcpConn struct {
	net.Conn
	l         *tcpListener
	ip, raddr string
	lastWrite atomic.Int64 // unix ns
	closeOnce sync.Once
}

func (c *tcpConn) Read(b []byte) (int, error) {
	deadline := time.Now().Add(c.l.idle)
	for {
		if err := c.Conn.SetReadDeadline(deadline); err != nil {
			return 0, err
		}
		n, err := c.Conn.Read(b)
		var ne net.Error
		if n > 0 || err == nil || !errors.As(err, &ne) || !ne.Timeout() {
			return n, err
		}
		now := time.Now()
		if deadline = time.Unix(0, c.lastWrite.Load()).Add(c.l.idle); deadline.After(now) {
			continue // written to since
		}
		if c.l.u.tcpInUse(c.raddr) {
			deadline = now.Add(c.l.idle)
			continue
		}
		c.l.u.logf(firmware.Debug, "sip: closing TCP connection from %s: idle for %v", c.raddr, c.l.idle)
		return 0, io.EOF
	}
}

func (c *tcpConn) Write(b []byte) (int, error) {
	c.lastWrite.Store(time.Now().UnixNano())
	if err := c.Conn.SetWriteDeadline(time.Now().Add(tcpWriteTimeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

func (c *tcpConn) Close() error {
	c.closeOnce.Do(func() { c.l.release(c.ip) })
	return c.Conn.Close()
}

// serveTCP runs sipgo's TCP loop on l until the UA closes, starting it
// again (same socket) should it return.
func (u *UA) serveTCP(l *tcpListener) {
	var delay time.Duration
	for {
		err := u.srv.ServeTCP(l)
		select {
		case <-l.closed:
			return
		default:
		}
		delay = min(max(2*delay, acceptBackoffMin), acceptBackoffMax)
		u.logf(firmware.Warning, "sip: TCP listener stopped: %v (again in %v)", err, delay)
		select {
		case <-time.After(delay):
		case <-l.closed:
			return
		}
	}
}

// tcpInUse reports whether a call in progress came in over the TCP
// connection from raddr.
// countTCPCall counts a call in progress over the TCP connection from src
// (u.mu held); on a shared port, in the host's count, which its TCP
// listener asks (a host's lock after a UA's, never before).
func (u *UA) countTCPCall(src string, n int) {
	owner := u
	if u.host != nil {
		owner = u.host
		owner.mu.Lock()
		defer owner.mu.Unlock()
	}
	if owner.tcpCalls == nil {
		owner.tcpCalls = map[string]int{}
	}
	if owner.tcpCalls[src] += n; owner.tcpCalls[src] <= 0 {
		delete(owner.tcpCalls, src)
	}
}

func (u *UA) tcpInUse(raddr string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.tcpCalls[raddr] > 0
}
