package sipua

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
)

// recvStatus reads responses until one with status, failing on anything
// final that is not it.
func (r *raw) recvStatus(status int) *sip.Response {
	r.t.Helper()
	for {
		res, ok := r.recv().(*sip.Response)
		if !ok {
			continue
		}
		if res.StatusCode == status {
			return res
		}
		if res.StatusCode >= 200 {
			r.t.Fatalf("got %d %s, want %d", res.StatusCode, res.Reason, status)
		}
	}
}

// A response over 1300 bytes still goes back over UDP (RFC 3261
// §18.2.2: only requests change transport by size), and the INVITE's
// retransmissions are absorbed: one attempt, one call.
func TestLargeResponsesOverUDP(t *testing.T) {
	long := strings.Repeat("A", 1000)
	routes := func(r *raw) []string {
		var rr []string
		for i := range 9 { // all via r, so the BYE comes to it
			rr = append(rr, fmt.Sprintf("Record-Route: <sip:127.0.0.1:%d;lr;hop=%d;ftag=%s;did=%s>", r.port, i, strings.Repeat("f", 40), strings.Repeat("d", 60)))
		}
		return rr
	}
	for _, tc := range []struct {
		name  string
		from  string
		extra func(*raw) []string
	}{
		{"display name", `"` + long + `" <sip:raw@127.0.0.1>`, func(*raw) []string { return nil }},
		{"record-route", "<sip:raw@127.0.0.1>", routes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := startPhone(t, "B", MediaTone)
			r := newRaw(t)
			callID := "big-" + strings.ReplaceAll(tc.name, " ", "-")
			extra := tc.extra(r)
			inv := r.invite(b.port, callID, tc.from, sdpOffer, extra...)
			r.send(inv)
			off := expectOnly[firmware.CallOffered](b)
			trying := r.recvStatus(100)
			if trying.Transport() != "UDP" {
				t.Fatalf("100 over %s", trying.Transport())
			}
			// Retransmissions while it rings: absorbed, no second call.
			r.send(inv)
			b.ua.Do(firmware.Ring{Call: off.Call})
			ringing := r.recvStatus(180)
			if len(ringing.String()) <= 1300 {
				t.Fatalf("180 is only %d bytes: the test does not test", len(ringing.String()))
			}
			if got := len(ringing.GetHeaders("Record-Route")); got != len(extra) {
				t.Fatalf("180 has %d Record-Route, want %d", got, len(extra))
			}
			r.send(inv)
			b.ua.Do(firmware.Answer{Call: off.Call})
			ok := r.final()
			if ok.StatusCode != 200 {
				t.Fatalf("got %d", ok.StatusCode)
			}
			r.send(inv) // after the 2xx: still the same call
			time.Sleep(100 * time.Millisecond)
			r.send(fmt.Sprintf("ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-ack-%s\r\nMax-Forwards: 70\r\n"+
				"From: %s;tag=rawtag\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
				ok.Contact().Address.String(), r.port, callID, tc.from, ok.To().Value(), callID))
			assertQuiet(t, b)
			if n := b.ua.active(); n != 1 {
				t.Fatalf("%d calls, want 1", n)
			}
			b.ua.Do(firmware.Hangup{Call: off.Call})
			bye := r.request(sip.BYE)
			r.send(response(bye, 200, "OK", "", nil, ""))
			eventually(t, "call gone", func() bool { return b.ua.active() == 0 })
			assertQuiet(t, b)
		})
	}
}

// Once sipgo's INVITE transaction is gone, a retransmission reaches the
// handler again: it must not become a second call.
func TestInviteRetransmissionWithoutTransaction(t *testing.T) {
	u, err := New(Config{}, make(chan firmware.Event, 1))
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	h := u.absorbRetransmissions(func(*sip.Request, sip.ServerTransaction) { calls++ })
	parse := func(branch string) *sip.Request {
		m, err := sip.ParseMessage([]byte("INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5;branch=" + branch +
			"\r\nFrom: <sip:a@127.0.0.1>;tag=f\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: rt\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		return m.(*sip.Request)
	}
	h(parse("z9hG4bK-1"), nil)
	h(parse("z9hG4bK-1"), nil) // after the call ended: still a retransmission
	if calls != 1 {
		t.Fatalf("handler ran %d times, want 1", calls)
	}
	h(parse("z9hG4bK-2"), nil) // a new transaction
	if calls != 2 {
		t.Fatalf("new branch: handler ran %d times, want 2", calls)
	}
	// Forgotten after 64·T1, and then nothing is kept.
	later := time.Now().Add(64*sip.T1 + time.Second)
	if fresh, _ := u.seen.begin(inviteKey(parse("z9hG4bK-1")), later); !fresh {
		t.Fatal("still remembered after 64·T1")
	}
	u.seen.end(inviteKey(parse("z9hG4bK-1")), later.Add(-64*sip.T1))
	u.seen.forget(later)
	if u.seen.m != nil || u.seen.ended != nil {
		t.Fatalf("memory kept: %d, %d", len(u.seen.m), len(u.seen.ended))
	}
	// A flood cannot grow the memory without end.
	for i := range 2 * maxSeenInvites {
		h(parse(fmt.Sprintf("z9hG4bK-flood%d", i)), nil)
	}
	if n := len(u.seen.m); n > maxSeenInvites {
		t.Fatalf("%d INVITEs remembered", n)
	}
}

// tcpOptions sends an OPTIONS over conn and returns the answer's status
// line.
func tcpOptions(t *testing.T, conn net.Conn, port int, callID string) string {
	t.Helper()
	local := conn.LocalAddr().(*net.TCPAddr)
	fmt.Fprintf(conn, "OPTIONS sip:bob@127.0.0.1:%d;transport=tcp SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:%d;branch=z9hG4bK-%s\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:raw@127.0.0.1>;tag=t1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		port, local.Port, callID, callID)
	conn.SetReadDeadline(time.Now().Add(wait))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "error: " + err.Error()
	}
	return strings.TrimSpace(line)
}

const emfileChild = "PHONESIM_TEST_EMFILE_CHILD"

// One failed accept() (EMFILE) must not end SIP over TCP: the phone logs
// it, backs off and accepts again on the same socket. The phone runs in
// a child process whose descriptor limit the test lowers.
func TestTCPAcceptSurvivesEMFILE(t *testing.T) {
	if os.Getenv(emfileChild) != "" {
		emfilePhone(t)
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestTCPAcceptSurvivesEMFILE$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), emfileChild+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := &strings.Builder{}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if p, ok := strings.CutPrefix(sc.Text(), "PORT="); ok {
				lines <- p
			}
		}
		close(lines)
	}()
	var port int
	select {
	case p, ok := <-lines:
		if !ok {
			t.Fatalf("child ended without a port")
		}
		fmt.Sscan(p, &port)
	case <-ctx.Done():
		t.Fatal("child did not start")
	}

	// More connections than the child has descriptors left.
	var conns []net.Conn
	for range 48 {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err != nil {
			break
		}
		conns = append(conns, c)
	}
	time.Sleep(300 * time.Millisecond)
	for _, c := range conns {
		c.Close()
	}
	// Answered again within the back-off's bound.
	var got string
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err != nil {
			got = err.Error()
			continue
		}
		got = tcpOptions(t, c, port, fmt.Sprintf("emfile-%d", time.Now().UnixNano()))
		c.Close()
		if strings.HasPrefix(got, "SIP/2.0 200") {
			break
		}
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Errorf("child: %v", err)
	}
	if !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Fatalf("OPTIONS over TCP after EMFILE: %q\nchild:\n%s", got, out)
	}
	if !strings.Contains(out.String(), "too many open files") {
		t.Errorf("the accept error was not logged:\n%s", out)
	}
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.Contains(l, "accept") && !strings.Contains(l, "DEBUG") {
			t.Log(strings.TrimSpace(l))
		}
	}
}

// emfilePhone is the child: a phone with few descriptors to spare, until
// stdin closes.
func emfilePhone(t *testing.T) {
	p := startPhone(t, "child", MediaSilence)
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	lim := syscall.Rlimit{Cur: uint64(len(fds) + 8), Max: uint64(len(fds) + 8)}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	lim.Max = old.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("PORT=%d\n", p.port)
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-time.After(50 * time.Second):
	}
	// Room again for Close and the test's own cleanup.
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
}

// closedWithin reports whether the other side closes conn within d.
func closedWithin(conn net.Conn, d time.Duration) bool {
	conn.SetReadDeadline(time.Now().Add(d))
	_, err := conn.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

func dialTCP(t *testing.T, port int) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Connections others open to the SIP TCP port are capped (per address and
// overall) and closed when idle; slots free up again.
func TestTCPConnectionLimits(t *testing.T) {
	for _, tc := range []struct {
		name         string
		total, perIP int
	}{{"per address", 10, 3}, {"overall", 3, 10}} {
		t.Run(tc.name, func(t *testing.T) {
			b := startPhoneWith(t, "B", Config{TCPIdleTimeout: 400 * time.Millisecond, TCPMaxConns: tc.total, TCPMaxConnsPerIP: tc.perIP})
			var kept []net.Conn
			for range 3 {
				kept = append(kept, dialTCP(t, b.port))
			}
			time.Sleep(50 * time.Millisecond) // accepted in order
			if over := dialTCP(t, b.port); !closedWithin(over, time.Second) {
				t.Fatal("a connection over the cap stayed open")
			}
			// Used, then idle: closed after the idle time, not before.
			if got := tcpOptions(t, kept[0], b.port, "lim-"+tc.name); !strings.HasPrefix(got, "SIP/2.0 200") {
				t.Fatalf("OPTIONS: %q", got)
			}
			if closedWithin(kept[0], 200*time.Millisecond) {
				t.Fatal("closed before the idle time")
			}
			start := time.Now()
			for i, c := range kept {
				if !closedWithin(c, 3*time.Second) {
					t.Fatalf("idle connection %d still open after %v", i, time.Since(start))
				}
			}
			// Room again.
			c := dialTCP(t, b.port)
			if got := tcpOptions(t, c, b.port, "lim2-"+tc.name); !strings.HasPrefix(got, "SIP/2.0 200") {
				t.Fatalf("OPTIONS after the idle ones went: %q", got)
			}
		})
	}
}

// A call that came in over TCP keeps its connection past the idle time:
// the 200 after a long ring goes back over it, and the caller's BYE long
// after comes over it.
func TestTCPCallOutlivesIdleTimeout(t *testing.T) {
	idle := 300 * time.Millisecond
	b := startPhoneWith(t, "B", Config{TCPIdleTimeout: idle})
	conn := dialTCP(t, b.port)
	lport := conn.LocalAddr().(*net.TCPAddr).Port
	hdr := func(method string, seq int, branch, to string) string {
		return fmt.Sprintf("%s sip:bob@127.0.0.1:%d;transport=tcp SIP/2.0\r\n"+
			"Via: SIP/2.0/TCP 127.0.0.1:%d;branch=z9hG4bK-%s\r\nMax-Forwards: 70\r\n"+
			"From: <sip:raw@127.0.0.1>;tag=rawtag\r\nTo: %s\r\nCall-ID: tcpidle\r\nCSeq: %d %s\r\n"+
			"Contact: <sip:raw@127.0.0.1:%d;transport=tcp>\r\n", method, b.port, lport, branch, to, seq, method, lport)
	}
	fmt.Fprintf(conn, "%sContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
		hdr("INVITE", 1, "tcpidle", fmt.Sprintf("<sip:bob@127.0.0.1:%d>", b.port)), len(sdpOffer), sdpOffer)
	off := expectOnly[firmware.CallOffered](b)
	b.ua.Do(firmware.Ring{Call: off.Call})
	time.Sleep(4 * idle)
	b.ua.Do(firmware.Answer{Call: off.Call})
	rd := bufio.NewReader(conn)
	readStatus := func(status string) sip.Message {
		t.Helper()
		conn.SetReadDeadline(time.Now().Add(wait))
		for {
			m, err := readStream(rd)
			if err != nil {
				t.Fatalf("no %s over the connection: %v", status, err)
			}
			if res, isRes := m.(*sip.Response); isRes && fmt.Sprint(res.StatusCode) == status {
				return m
			}
		}
	}
	ok := readStatus("200").(*sip.Response)
	fmt.Fprintf(conn, "%sContent-Length: 0\r\n\r\n", hdr("ACK", 1, "tcpidle-ack", ok.To().Value()))
	time.Sleep(4 * idle)
	fmt.Fprintf(conn, "%sContent-Length: 0\r\n\r\n", hdr("BYE", 2, "tcpidle-bye", ok.To().Value()))
	readStatus("200")
	expect[firmware.CallEnded](b)
	eventually(t, "call gone", func() bool { return b.ua.active() == 0 })
	// Now idle for good: closed.
	if !closedWithin(conn, 3*time.Second) {
		t.Fatal("connection still open after the call and the idle time")
	}
}

// readStream reads one SIP message from a stream.
func readStream(rd *bufio.Reader) (sip.Message, error) {
	var msg strings.Builder
	length := 0
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return nil, err
		}
		msg.WriteString(line)
		if line == "\r\n" {
			break
		}
		name, value, _ := strings.Cut(line, ":")
		if n := strings.ToLower(strings.TrimSpace(name)); n == "content-length" || n == "l" {
			fmt.Sscan(strings.TrimSpace(value), &length)
		}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(rd, body); err != nil {
		return nil, err
	}
	msg.Write(body)
	return sip.ParseMessage([]byte(msg.String()))
}

// The checks every request passes cost no allocation.
func TestCheckRequestAllocs(t *testing.T) {
	m, err := sip.ParseMessage([]byte("INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5;branch=z9hG4bK-1\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=f\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: alloc\r\nCSeq: 1 INVITE\r\n" +
		"Contact: <sip:a@127.0.0.1:5>\r\nUser-Agent: x\r\nAllow: INVITE\r\nSupported: timer\r\nContent-Type: application/sdp\r\n" +
		"Content-Length: " + fmt.Sprint(len(sdpOffer)) + "\r\n\r\n" + sdpOffer))
	if err != nil {
		t.Fatal(err)
	}
	req := m.(*sip.Request)
	datagram := []byte(req.String())
	if n := testing.AllocsPerRun(100, func() {
		if s, _, _ := checkRequest(req, "127.0.0.1"); s != 0 {
			t.Fatalf("refused: %d", s)
		}
		if s, _ := checkDatagram(datagram); s != 0 {
			t.Fatalf("datagram refused: %d", s)
		}
	}); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
