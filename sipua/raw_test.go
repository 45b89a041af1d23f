package sipua

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// raw is a SIP peer written by hand over UDP, for what a well-behaved UA
// would not do.
type raw struct {
	t    *testing.T
	conn *net.UDPConn
	port int
	peer *net.UDPAddr
}

const sdpOffer = "v=0\r\no=raw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"

func newRaw(t *testing.T) *raw {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &raw{t: t, conn: conn, port: conn.LocalAddr().(*net.UDPAddr).Port}
}

func (r *raw) sendTo(port int, msg string) {
	r.t.Helper()
	r.peer = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	r.send(msg)
}

func (r *raw) send(msg string) {
	r.t.Helper()
	if _, err := r.conn.WriteToUDP([]byte(msg), r.peer); err != nil {
		r.t.Fatal(err)
	}
}

// recv reads the next SIP message.
func (r *raw) recv() sip.Message {
	r.t.Helper()
	buf := make([]byte, 65535)
	r.conn.SetReadDeadline(time.Now().Add(wait))
	n, from, err := r.conn.ReadFromUDP(buf)
	if err != nil {
		r.t.Fatalf("raw: %v", err)
	}
	r.peer = from
	msg, err := sip.ParseMessage(buf[:n])
	if err != nil {
		r.t.Fatalf("raw: parse: %v\n%s", err, buf[:n])
	}
	return msg
}

// final reads responses until a final one.
func (r *raw) final() *sip.Response {
	r.t.Helper()
	for {
		m := r.recv()
		if res, ok := m.(*sip.Response); ok && res.StatusCode >= 200 {
			return res
		}
	}
}

// request reads messages until a request with method.
func (r *raw) request(method sip.RequestMethod) *sip.Request {
	r.t.Helper()
	for {
		if req, ok := r.recv().(*sip.Request); ok && req.Method == method {
			return req
		}
	}
}

// invite writes an INVITE to a phone on port; it also aims r at it.
func (r *raw) invite(port int, callID, from, body string, extra ...string) string {
	r.peer = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	return fmt.Sprintf("INVITE sip:bob@127.0.0.1:%d SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%s\r\n"+
		"Max-Forwards: 70\r\n"+
		"From: %s;tag=rawtag\r\n"+
		"To: <sip:bob@127.0.0.1:%d>\r\n"+
		"Call-ID: %s\r\n"+
		"CSeq: 1 INVITE\r\n"+
		"Contact: <sip:raw@127.0.0.1:%d>\r\n"+
		"%s"+
		"Content-Type: application/sdp\r\n"+
		"Content-Length: %d\r\n\r\n%s",
		port, r.port, callID, from, port, callID, r.port, headerLines(extra), len(body), body)
}

func headerLines(hs []string) string {
	var b strings.Builder
	for _, h := range hs {
		b.WriteString(h + "\r\n")
	}
	return b.String()
}

// ackFinal acknowledges a non-2xx final response to inv.
func (r *raw) ackFinal(inv string, res *sip.Response) {
	r.t.Helper()
	req, err := sip.ParseMessage([]byte(inv))
	if err != nil {
		r.t.Fatal(err)
	}
	in := req.(*sip.Request)
	r.send(fmt.Sprintf("ACK %s SIP/2.0\r\nVia: %s\r\nMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
		in.Recipient.String(), in.Via().Value(), in.From().Value(), res.To().Value(), in.CallID().Value()))
}

// response writes a response to req.
func response(req *sip.Request, status int, reason, toTag string, extra []string, body string) string {
	to := req.To().Value()
	if toTag != "" && status > 100 {
		to += ";tag=" + toTag
	}
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", status, reason)
	for _, h := range req.GetHeaders("Via") {
		fmt.Fprintf(&b, "Via: %s\r\n", h.Value())
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n", req.From().Value(), to, req.CallID().Value(), req.CSeq().Value())
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	if body != "" {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}
