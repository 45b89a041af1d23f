package interop

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	portsMu sync.Mutex
	issued  = map[int]bool{}
)

// FreePort returns a port on 127.0.0.1 that is free for both UDP and TCP
// (SIP listens on both) and that this process has not handed out before.
// Another process may still take it before the peer binds it; tests start
// their peers right away.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 100 {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		portsMu.Lock()
		fresh := !issued[port]
		issued[port] = true
		portsMu.Unlock()
		if fresh {
			return port
		}
	}
	t.Fatal("interop: no free port on 127.0.0.1")
	return 0
}

func freePort() (int, error) {
	for range 100 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		l.Close()
		if err != nil {
			continue // UDP side taken: try another
		}
		u.Close()
		return port, nil
	}
	return 0, fmt.Errorf("interop: no port free for both UDP and TCP")
}

// FreeSIPPortPair returns a port free for UDP and TCP whose next port is
// free for TCP too: baresip binds its SIP/TLS transport on SIP port + 1.
func FreeSIPPortPair(t testing.TB) int {
	t.Helper()
	for range 100 {
		port := FreePort(t)
		l, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+1)))
		if err != nil {
			continue
		}
		l.Close()
		portsMu.Lock()
		fresh := !issued[port+1]
		issued[port+1] = true
		portsMu.Unlock()
		if fresh {
			return port
		}
	}
	t.Fatal("interop: no free SIP port pair on 127.0.0.1")
	return 0
}

// FreePortRange returns the first of n consecutive ports on 127.0.0.1 that
// are free for UDP (RTP port ranges).
func FreePortRange(t testing.TB, n int) int {
	t.Helper()
	for range 100 {
		base := FreePort(t)
		ok := true
		var held []net.PacketConn
		for p := base; p < base+n && ok; p++ {
			c, err := net.ListenPacket("udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if ok {
			portsMu.Lock()
			for p := base; p < base+n; p++ {
				issued[p] = true
			}
			portsMu.Unlock()
			return base
		}
	}
	t.Fatalf("interop: no %d consecutive free UDP ports", n)
	return 0
}

// WaitUDPBound waits up to d until some process has a UDP socket bound to
// port on 127.0.0.1 or on any address (read from /proc/net/udp). It is how a
// test knows a peer that logs nothing on start, like a sipp callee, is ready.
func WaitUDPBound(t testing.TB, port int, d time.Duration) {
	t.Helper()
	if err := poll(d, func() (bool, error) { return udpBound(port) }); err != nil {
		t.Fatalf("UDP port %d not bound: %v", port, err)
	}
}

func udpBound(port int) (bool, error) {
	f, err := os.Open("/proc/net/udp")
	if err != nil {
		return false, err
	}
	defer f.Close()
	want := []string{
		fmt.Sprintf("0100007F:%04X", port), // 127.0.0.1
		fmt.Sprintf("00000000:%04X", port), // 0.0.0.0
	}
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) > 1 && (fields[1] == want[0] || fields[1] == want[1]) {
			return true, nil
		}
	}
	return false, s.Err()
}

// WaitSIP waits up to d until a SIP UA answers an OPTIONS on UDP addr
// (any response counts).
func WaitSIP(t testing.TB, addr string, d time.Duration) {
	t.Helper()
	if err := poll(d, func() (bool, error) { return optionsAnswered(addr), nil }); err != nil {
		t.Fatalf("no SIP answer from %s: %v", addr, err)
	}
}

func optionsAnswered(addr string) bool {
	c, err := net.Dial("udp4", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	local := c.LocalAddr().String()
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	req := "OPTIONS sip:" + addr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK" + id + ";rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:probe@" + local + ">;tag=" + id + "\r\n" +
		"To: <sip:" + addr + ">\r\n" +
		"Call-ID: " + id + "@interop\r\n" +
		"CSeq: 1 OPTIONS\r\n" +
		"Content-Length: 0\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		return false
	}
	_ = c.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	return err == nil && strings.HasPrefix(string(buf[:n]), "SIP/2.0 ")
}
