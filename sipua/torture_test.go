package sipua

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
)

// tortureDir finds sipgo's copy of the RFC 4475 messages in the module
// cache.
func tortureDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/emiago/sipgo").Output()
	if err != nil {
		t.Skipf("sipgo module not found: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "sip", "testdata", "torture")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no torture messages: %v", err)
	}
	return dir
}

// topVia matches the top Via's sent-by, through the folding and LWS
// wsinv puts in it.
var topVia = regexp.MustCompile(`(?im)^(?:via|v)[ \t]*:[ \t\r\n]*SIP[ \t\r\n]*/[ \t\r\n]*[0-9.]+[ \t\r\n]*/[ \t\r\n]*[A-Z]+[ \t\r\n]+([^;:,\s]+)([ \t]*:[ \t]*[0-9]+)?`)

// requestLine finds start lines of requests: dblreq holds two requests.
var requestLine = regexp.MustCompile(`(?m)^[^ \r\n:]+ +.+ +SIP/[0-9.]+ *\r?$`)

// aimVia makes the top Via's sent-by of each request in msg
// 127.0.0.1:port. UDP answers go to the source address and the Via's
// port (RFC 3261 §18.2.2), so they come back to the test; over TCP, when
// the connection is gone before sipgo makes the transaction (a framing
// error closed it), sipgo resolves and connects to the Via's host:
// loopback, not the messages' example.com and 192.0.2.x. Nothing else in
// the message changes.
func aimVia(msg []byte, port int) []byte {
	out := append([]byte{}, msg...)
	starts := requestLine.FindAllIndex(out, -1)
	for i := len(starts) - 1; i >= 0; i-- { // from the end: indexes stay valid
		from := starts[i][1]
		loc := topVia.FindSubmatchIndex(out[from:])
		if loc == nil {
			continue
		}
		end := loc[3]
		if loc[4] >= 0 {
			end = loc[5]
		}
		aimed := append(append(append([]byte{}, out[:from+loc[2]]...), fmt.Sprintf("127.0.0.1:%d", port)...), out[from+end:]...)
		out = aimed
	}
	return out
}

// tortureOutcome is what the phone did with one message, in order,
// joined by "+": "ring" (CallOffered; the call is then rejected, and
// our own 486 is not counted), a final status ("400"), "close" (the TCP
// connection closed) or "drop" (nothing at all).
func tortureOutcome(t *testing.T, p *phone, transport string, msg []byte) string {
	t.Helper()
	const (
		first = 500 * time.Millisecond // for the first sign
		quiet = 150 * time.Millisecond // then until nothing more comes
	)
	seen := make(chan string, 16)
	if transport == "udp" {
		r := newRaw(t)
		r.peer = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p.port}
		if _, err := r.conn.WriteToUDP(aimVia(msg, r.port), r.peer); err != nil {
			t.Fatal(err)
		}
		go func() {
			buf := make([]byte, 65535)
			for {
				r.conn.SetReadDeadline(time.Now().Add(3 * time.Second))
				n, _, err := r.conn.ReadFromUDP(buf)
				if err != nil {
					return
				}
				m, err := sip.ParseMessage(buf[:n])
				if err != nil {
					seen <- "unparseable"
					continue
				}
				if res, ok := m.(*sip.Response); ok && res.StatusCode >= 200 {
					seen <- fmt.Sprint(res.StatusCode)
				}
			}
		}()
	} else {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p.port), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Write(aimVia(msg, conn.LocalAddr().(*net.TCPAddr).Port)); err != nil {
			t.Fatal(err)
		}
		go func() {
			rd := bufio.NewReader(conn)
			conn.SetReadDeadline(time.Now().Add(3 * time.Second))
			for {
				m, err := readStream(rd)
				var ne net.Error
				switch {
				case err != nil && errors.As(err, &ne) && ne.Timeout():
					return
				case err != nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)):
					seen <- "close"
					return
				case err != nil:
					seen <- "unparseable"
					return
				}
				if res, ok := m.(*sip.Response); ok && res.StatusCode >= 200 {
					seen <- fmt.Sprint(res.StatusCode)
				}
			}
		}()
	}
	var got []string
	rejected := 0
	timer := time.NewTimer(first)
	defer timer.Stop()
	for {
		select {
		case s := <-seen:
			if s == "486" && rejected > 0 {
				rejected--
			} else {
				got = append(got, s)
			}
			timer.Reset(quiet)
		case e := <-p.events:
			if off, ok := e.(firmware.CallOffered); ok {
				got = append(got, "ring")
				rejected++
				p.ua.Do(firmware.Reject{Call: off.Call, Status: 486, Reason: "Busy Here"})
				eventually(t, "call rejected", func() bool { return p.ua.active() == 0 })
				timer.Reset(quiet)
				continue
			}
			t.Logf("skipping %T %+v", e, e)
		case <-timer.C:
			if len(got) == 0 {
				return "drop"
			}
			return strings.Join(got, "+")
		}
	}
}

// RFC 4475 conformance. Each message of sipgo's copy of the corpus goes
// to a running phone over UDP and over TCP (one phone each: the same
// message twice is a retransmission). rfc is the answer RFC 4475 (and
// RFC 3261 for a UAS, which the phone is) wants, "a|b" where it allows
// either; udp and tcp are ours, checked ("a|b": it varies by timing). Where they differ, why says so:
// all of those are sipgo dropping or answering the message before our
// code sees it. Answers: ring (CallOffered), a status, close (TCP
// connection closed), drop (nothing).
var tortureCases = []struct {
	file, section, rfc, rfcTCP, udp, tcp, why string
}{
	// §3.1.1 valid messages
	{"valid/wsinv", "3.1.1.1", "481", "", "400", "400", "valid, and its To has a tag: a UAS answers 481 (no such dialog). sipgo keeps the LWS of \"tag = x\" in the parameter name, finds no From tag, and with a pre-RFC 3261 branch its transaction key needs one: it answers 400 itself"},
	{"valid/intmeth", "3.1.1.2", "501", "", "501", "501", ""},
	{"valid/esc01", "3.1.1.3", "ring", "", "ring", "ring", ""},
	{"valid/escnull", "3.1.1.4", "405", "", "405", "405", "REGISTER to a phone: not a registrar (§3.3.7)"},
	{"valid/esc02", "3.1.1.5", "501", "", "501", "501", ""},
	{"valid/lwsdisp", "3.1.1.6", "200", "", "200", "200", ""},
	{"valid/longreq", "3.1.1.7", "ring", "", "ring", "ring", ""},
	{"valid/dblreq", "3.1.1.8", "405", "close", "405", "close|405+close|400+close|405+400+close|400+405+close", "UDP: the trailing INVITE is noise. TCP: a message of its own, whose body runs 5 bytes past its Content-Length: a framing error, the connection closes, mostly before our 405 to the REGISTER and 400 to the INVITE (no Contact) go out"},
	{"valid/semiuri", "3.1.1.9", "200", "", "200", "200", ""},
	{"valid/transports", "3.1.1.10", "200", "", "200", "200", ""},
	{"valid/mpart01", "3.1.1.11", "405", "", "405", "405", "MESSAGE parses; the phone takes none"},
	{"valid/unreason", "3.1.1.12", "drop", "", "drop", "drop", "a response to nothing we sent"},
	{"valid/noreason", "3.1.1.13", "drop", "", "drop", "drop", "a response to nothing we sent"},
	// §3.1.2 invalid messages
	{"invalid/badinv01", "3.1.2.1", "400", "", "drop", "close", "sipgo's parser fails on the Via's \";;,;,,\" and drops the message (UDP) or the connection (TCP)"},
	{"invalid/clerr", "3.1.2.2", "400", "drop", "400", "drop", "TCP: waits for the rest of the body"},
	{"invalid/ncl", "3.1.2.3", "400", "close", "400", "close", ""},
	{"invalid/scalar02", "3.1.2.4", "400", "", "drop", "close", "sipgo's parser fails on the CSeq over 2**32-1: dropped"},
	{"invalid/scalarlg", "3.1.2.5", "drop", "drop|close", "drop", "close", "TCP: sipgo's parser fails and closes the connection"},
	{"invalid/quotbal", "3.1.2.6", "400|ring", "", "drop", "close", "sipgo's parser fails on the unterminated quote: dropped"},
	{"invalid/ltgtruri", "3.1.2.7", "400|ring", "", "400", "close", "TCP: sipgo's parser fails first and closes the connection"},
	{"invalid/lwsruri", "3.1.2.8", "400|ring", "", "400", "close", "TCP: as ltgtruri"},
	{"invalid/lwsstart", "3.1.2.9", "400|ring", "", "400", "close", "TCP: as ltgtruri"},
	{"invalid/trws", "3.1.2.10", "400|200", "", "400", "close", "TCP: as ltgtruri"},
	{"invalid/escruri", "3.1.2.11", "400|ring", "", "ring", "ring", "the liberal choice: the escaped headers are ignored"},
	{"invalid/baddate", "3.1.2.12", "400|ring", "", "ring", "ring", "the Date is not used, so not judged"},
	{"invalid/regbadct", "3.1.2.13", "400|405", "", "405", "405", "REGISTER to a phone"},
	{"invalid/badaspec", "3.1.2.14", "400|200", "", "drop", "close", "sipgo's parser fails on the spaces in the To URI: dropped"},
	{"invalid/baddn", "3.1.2.15", "400|200", "", "drop", "drop", "sipgo's copy of baddn.dat lacks the blank line that ends the headers: UDP: its parser drops it; TCP: it waits for the rest"},
	{"invalid/badvers", "3.1.2.16", "505", "", "505", "505", ""},
	{"invalid/mismatch01", "3.1.2.17", "400", "", "400", "400", ""},
	{"invalid/mismatch02", "3.1.2.18", "501|400", "", "501", "501", ""},
	{"invalid/bigcode", "3.1.2.19", "drop", "drop|close", "drop", "close", "TCP: as scalarlg"},
	// §3.2, §3.3, §3.4
	{"invalid/badbranch", "3.2.1", "400|200", "", "200", "200", "RFC 2543 matching"},
	{"invalid/insuf", "3.3.1", "400", "", "400", "400", ""},
	{"invalid/unkscm", "3.3.2", "416", "", "416", "416", ""},
	{"invalid/novelsc", "3.3.3", "416", "", "416", "close", "TCP: sipgo's URI parser fails on soap.beep and closes the connection"},
	{"invalid/unksm2", "3.3.4", "405", "", "405", "405", "REGISTER to a phone"},
	{"invalid/bext01", "3.3.5", "420", "", "420", "420", ""},
	{"invalid/invut", "3.3.6", "415", "", "415", "415", ""},
	{"invalid/regaut01", "3.3.7", "405", "", "405", "405", ""},
	{"invalid/multi01", "3.3.8", "400", "", "400", "400", ""},
	{"invalid/mcl01", "3.3.9", "400", "close|400+close", "400", "close|400+close", "TCP: sipgo frames by the first Content-Length; the rest is a framing error and the connection closes, sometimes after our 400"},
	{"invalid/bcast", "3.3.10", "drop", "", "drop", "drop", ""},
	{"invalid/zeromf", "3.3.11", "200", "", "200", "200", ""},
	{"invalid/cparam01", "3.3.12", "405", "", "405", "405", "REGISTER to a phone"},
	{"invalid/cparam02", "3.3.13", "405", "", "405", "405", "REGISTER to a phone"},
	{"invalid/regescrt", "3.3.14", "405", "", "405", "405", "REGISTER to a phone"},
	{"invalid/sdp01", "3.3.15", "406|400", "", "406", "406", ""},
	{"invalid/inv2543", "3.4.1", "ring", "close", "400", "close", "UDP: no From tag and no RFC 3261 branch: sipgo's transaction layer needs the tag for its key and answers 400 itself. TCP: no Content-Length, which a stream needs (RFC 3261 §18.3)"},
	{"invalid/test", "-", "", "", "drop", "close", "sipgo's own, not RFC 4475: a request line without a SIP version"},
}

func allowed(set, got string) bool {
	for a := range strings.SplitSeq(set, "|") {
		if a == got {
			return true
		}
	}
	return false
}

func TestRFC4475Torture(t *testing.T) {
	dir := tortureDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.dat"))
	if len(files) != len(tortureCases) {
		t.Errorf("%d messages in %s, %d in the table", len(files), dir, len(tortureCases))
	}
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			p := startPhone(t, "B", MediaSilence)
			for _, tc := range tortureCases {
				msg, err := os.ReadFile(filepath.Join(dir, tc.file+".dat"))
				if err != nil {
					t.Error(err)
					continue
				}
				want, rfc := tc.udp, tc.rfc
				if transport == "tcp" {
					want = tc.tcp
					if tc.rfcTCP != "" {
						rfc = tc.rfcTCP
					}
				}
				got := tortureOutcome(t, p, transport, msg)
				if !allowed(want, got) {
					t.Errorf("%s over %s: %s, want %s", tc.file, transport, got, want)
				}
				if tc.section != "-" && !allowed(rfc, got) && tc.why == "" {
					t.Errorf("%s: our %s differs from RFC 4475's %s without a why", tc.file, got, rfc)
				}
			}
			// Still a phone: OPTIONS and a call.
			if transport == "udp" {
				r := newRaw(t)
				r.sendTo(p.port, fmt.Sprintf("OPTIONS sip:bob@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-after\r\n"+
					"Max-Forwards: 70\r\nFrom: <sip:raw@127.0.0.1>;tag=a1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: after\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", p.port, r.port))
				if res := r.final(); res.StatusCode != 200 {
					t.Fatalf("OPTIONS after the torture: %d", res.StatusCode)
				}
			} else if got := tcpOptions(t, dialTCP(t, p.port), p.port, "after-tcp"); !strings.HasPrefix(got, "SIP/2.0 200") {
				t.Fatalf("OPTIONS over TCP after the torture: %q", got)
			}
			a := startPhone(t, "A", MediaSilence)
			target := p.uri("bob")
			if transport == "tcp" {
				target += ";transport=tcp"
			}
			a.ua.Do(firmware.Dial{Call: "after", Target: target})
			expectOnly[firmware.CallSent](a)
			off := expect[firmware.CallOffered](p)
			p.ua.Do(firmware.Answer{Call: off.Call})
			expect[firmware.CallAnswered](a)
			a.ua.Do(firmware.Hangup{Call: "after"})
			expect[firmware.CallEnded](p)
		})
	}
}
