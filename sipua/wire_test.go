package sipua

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
)

const sdpAnswer = "v=0\r\no=raw 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 40002 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"

// A UAS that answers 100, 180 and 200 back to back (sipgo #306 can
// reorder or drop the provisional ones): the caller still gets
// CallAnswered, ACKs, and its BYE ends the call.
func TestBackToBackProvisionalAndFinal(t *testing.T) {
	for _, order := range []string{"100,180,200", "200,180,100"} {
		t.Run(order, func(t *testing.T) {
			a := startPhone(t, "A", MediaTone)
			r := newRaw(t)
			a.ua.Do(firmware.Dial{Call: "c1", Target: fmt.Sprintf("sip:uas@127.0.0.1:%d", r.port)})
			expectOnly[firmware.CallSent](a)
			inv := r.request(sip.INVITE)
			if ct := inv.Contact(); ct == nil || ct.Address.Port != a.port {
				t.Fatalf("INVITE Contact = %v, want our port %d", ct, a.port)
			}
			if via := inv.Via(); via == nil || via.Port != a.port {
				t.Fatalf("INVITE Via = %v", via)
			}
			if r.peer.Port != a.port {
				t.Fatalf("INVITE left from port %d, not the listening port %d", r.peer.Port, a.port)
			}
			contact := fmt.Sprintf("Contact: <sip:uas@127.0.0.1:%d>", r.port)
			msgs := map[string]string{
				"100": response(inv, 100, "Trying", "", nil, ""),
				"180": response(inv, 180, "Ringing", "uas1", []string{contact}, ""),
				"200": response(inv, 200, "OK", "uas1", []string{contact}, sdpAnswer),
			}
			var burst []byte
			for _, s := range strings.Split(order, ",") {
				r.send(msgs[s])
				burst = append(burst, msgs[s]...)
			}
			ans := expect[firmware.CallAnswered](a)
			if ans.Call != "c1" || !strings.HasPrefix(ans.Remote.URI, "sip:uas@") {
				t.Fatalf("CallAnswered = %+v", ans)
			}
			ack := r.request(sip.ACK)
			if tag := tagOf(ack.To().Params); tag != "uas1" {
				t.Fatalf("ACK To tag %q", tag)
			}
			a.ua.Do(firmware.Hangup{Call: "c1"})
			bye := r.request(sip.BYE)
			if bye.Recipient.Port != r.port || tagOf(bye.To().Params) != "uas1" {
				t.Fatalf("BYE = %s", bye.StartLine())
			}
			r.send(response(bye, 200, "OK", "", nil, ""))
			eventually(t, "call gone", func() bool { return a.ua.active() == 0 })
		})
	}
}

// A display name with terminal escapes and a header with control
// characters arrive inert.
func TestHostileDisplayNameOnTheWire(t *testing.T) {
	b := startPhone(t, "B", MediaTone)
	r := newRaw(t)
	inv := r.invite(b.port, "hostile1", "\"\x1b[2J<script>&x=1\" <sip:evil@127.0.0.1>", sdpOffer,
		"X-Evil: a\x1b]0;pwned\x07b", "P-Asserted-Identity: <sip:boss@127.0.0.1>", "Authorization: Digest secret")
	r.send(inv)
	off := expectOnly[firmware.CallOffered](b)
	if strings.ContainsRune(off.From.Display, 0x1b) {
		t.Fatalf("ESC in display %q", off.From.Display)
	}
	if off.From.Display != "[2J<script>&x=1" {
		t.Errorf("display = %q", off.From.Display)
	}
	if v := off.Headers["X-Evil"]; v != "a]0;pwnedb" {
		t.Errorf("X-Evil = %q", v)
	}
	if v := off.Headers["P-Asserted-Identity"]; v != "<sip:boss@127.0.0.1>" {
		t.Errorf("P-Asserted-Identity = %q", v)
	}
	if _, ok := off.Headers["Authorization"]; ok {
		t.Error("Authorization offered")
	}
	b.ua.Do(firmware.Reject{Call: off.Call, Status: 486, Reason: "Busy Here"})
	res := r.final()
	if res.StatusCode != 486 {
		t.Fatalf("got %d", res.StatusCode)
	}
	r.ackFinal(inv, res)
}

// An offer with no codec we know is refused with 488 before the phone
// rings.
func TestNoCommonCodec(t *testing.T) {
	b := startPhone(t, "B", MediaTone)
	r := newRaw(t)
	g729 := strings.Replace(strings.Replace(sdpOffer, "RTP/AVP 0 101", "RTP/AVP 18", 1), "a=rtpmap:0 PCMU/8000", "a=rtpmap:18 G729/8000", 1)
	inv := r.invite(b.port, "nocodec", "<sip:raw@127.0.0.1>", g729)
	r.send(inv)
	res := r.final()
	if res.StatusCode != 488 {
		t.Fatalf("got %d", res.StatusCode)
	}
	r.ackFinal(inv, res)
	assertQuiet(t, b)
}

// An INVITE without SDP gets our offer in the 200; the answer comes in
// the ACK.
func TestDelayedOffer(t *testing.T) {
	b := startPhone(t, "B", MediaTone)
	r := newRaw(t)
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rtp.Close()
	inv := r.invite(b.port, "delayed", "<sip:raw@127.0.0.1>", "")
	r.send(inv)
	off := expectOnly[firmware.CallOffered](b)
	b.ua.Do(firmware.Answer{Call: off.Call})
	res := r.final()
	if res.StatusCode != 200 || !strings.Contains(string(res.Body()), "m=audio") {
		t.Fatalf("200 = %s", res)
	}
	answer := strings.Replace(sdpAnswer, "40002", fmt.Sprint(rtp.LocalAddr().(*net.UDPAddr).Port), 1)
	r.send(fmt.Sprintf("ACK sip:bob@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-ack2\r\nMax-Forwards: 70\r\n"+
		"From: <sip:raw@127.0.0.1>;tag=rawtag\r\nTo: %s\r\nCall-ID: delayed\r\nCSeq: 1 ACK\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
		b.port, r.port, res.To().Value(), len(answer), answer))
	// Media goes where the ACK's answer says.
	rtp.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 1500)
	n, _, err := rtp.ReadFromUDP(buf)
	if err != nil || n != 12+160 || buf[0]>>6 != 2 || buf[1]&0x7f != 0 {
		t.Fatalf("RTP: %d bytes, %v", n, err)
	}
}

func TestOptionsAndStrayRequests(t *testing.T) {
	b := startPhone(t, "B", MediaTone)
	r := newRaw(t)
	r.sendTo(b.port, fmt.Sprintf("OPTIONS sip:bob@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-opt1\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:raw@127.0.0.1>;tag=o1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: opt1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", b.port, r.port))
	res := r.final()
	if res.StatusCode != 200 || res.GetHeader("Allow") == nil || !strings.Contains(res.GetHeader("Allow").Value(), "INVITE") {
		t.Fatalf("OPTIONS: %s", res)
	}
	for i, method := range []string{"BYE", "INFO", "REFER", "FOO"} {
		r.send(fmt.Sprintf("%s sip:bob@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-stray%d\r\n"+
			"Max-Forwards: 70\r\nFrom: <sip:raw@127.0.0.1>;tag=s1\r\nTo: <sip:bob@127.0.0.1>;tag=nosuch\r\nCall-ID: stray\r\nCSeq: %d %s\r\nContent-Length: 0\r\n\r\n",
			method, b.port, r.port, i, i+1, method))
		if res := r.final(); res.StatusCode != 481 {
			t.Errorf("%s in unknown dialog: %d", method, res.StatusCode)
		}
	}
	assertQuiet(t, b)
}

// Garbage must not take the phone down; it keeps taking calls.
func TestMalformedInput(t *testing.T) {
	a := startPhone(t, "A", MediaTone)
	b := startPhone(t, "B", MediaTone)
	r := newRaw(t)
	r.peer = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: b.port}
	for _, junk := range []string{
		"\x00\x01\x02",
		"INVITE\r\n\r\n",
		"INVITE sip:bob@127.0.0.1 SIP/2.0\r\n\r\n",
		"INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: garbage\r\nFrom: <<<\r\nTo: >\r\nCall-ID: x\r\nCSeq: abc\r\nContent-Length: 5\r\n\r\n",
		"INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK-j1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: j1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n", // no Contact
		"INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK-j2\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: j2\r\nCSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1:1>\r\nContent-Type: application/sdp\r\nContent-Length: 9\r\n\r\nv=garbage",
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK-none\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		"ACK sip:bob@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n",
	} {
		r.send(junk)
	}
	time.Sleep(100 * time.Millisecond)
	off := placeCall(t, a, b, "c1", "")
	b.ua.Do(firmware.Answer{Call: off.Call})
	expectOnly[firmware.CallAnswered](a)
	a.ua.Do(firmware.Hangup{Call: "c1"})
	expectOnly[firmware.CallEnded](b)
}

func TestHoldResume(t *testing.T) {
	a := startPhone(t, "A", MediaTone)
	b := startPhone(t, "B", MediaTone)
	off := placeCall(t, a, b, "c1", "")
	b.ua.Do(firmware.Answer{Call: off.Call})
	expectOnly[firmware.CallAnswered](a)
	eventually(t, "media", func() bool { return b.ua.Stats(off.Call).PacketsReceived > 3 })

	a.ua.Do(firmware.HoldCall{Call: "c1"})
	// A stops sending at once; B, answering a=recvonly, stops too.
	stopped := func(p *phone, id firmware.CallID) func() bool {
		last := p.ua.Stats(id).PacketsSent
		return func() bool {
			time.Sleep(100 * time.Millisecond)
			now := p.ua.Stats(id).PacketsSent
			defer func() { last = now }()
			return now == last
		}
	}
	eventually(t, "A silent on hold", stopped(a, "c1"))
	eventually(t, "B silent on hold", stopped(b, off.Call))

	a.ua.Do(firmware.ResumeCall{Call: "c1"})
	flowing := func(p *phone, id firmware.CallID) func() bool {
		start := p.ua.Stats(id).PacketsSent
		return func() bool { return p.ua.Stats(id).PacketsSent > start+3 }
	}
	eventually(t, "A sends again", flowing(a, "c1"))
	eventually(t, "B sends again", flowing(b, off.Call))
	assertQuiet(t, a, b)
}

func TestDTMF(t *testing.T) {
	a := startPhone(t, "A", MediaTone)
	b := startPhone(t, "B", MediaTone)
	off := placeCall(t, a, b, "c1", "")
	b.ua.Do(firmware.Answer{Call: off.Call})
	expectOnly[firmware.CallAnswered](a)
	a.ua.Do(firmware.SendDTMF{Call: "c1", Digits: "1#"})
	for _, want := range []byte("1#") {
		if got := expectOnly[firmware.DTMFReceived](b); got != (firmware.DTMFReceived{Call: off.Call, Digit: want}) {
			t.Fatalf("DTMFReceived = %+v", got)
		}
	}
	if s := a.ua.Stats("c1"); s.DigitsSent != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestMuteSendsSilence(t *testing.T) {
	a := startPhone(t, "A", MediaTone)
	b := startPhone(t, "B", MediaTone)
	off := placeCall(t, a, b, "c1", "")
	b.ua.Do(firmware.Answer{Call: off.Call})
	expectOnly[firmware.CallAnswered](a)
	a.ua.Do(firmware.MuteCall{Call: "c1", Muted: true})
	start := b.ua.Stats(off.Call).PacketsReceived
	eventually(t, "packets keep coming while muted", func() bool { return b.ua.Stats(off.Call).PacketsReceived > start+5 })
}

func TestCallOverTCP(t *testing.T) {
	a := startPhone(t, "A", MediaTone)
	b := startPhone(t, "B", MediaTone)
	a.ua.Do(firmware.Dial{Call: "c1", Target: b.uri("bob") + ";transport=tcp"})
	expectOnly[firmware.CallSent](a)
	off := expectOnly[firmware.CallOffered](b)
	b.ua.Do(firmware.Ring{Call: off.Call})
	expectOnly[firmware.CallProgressed](a)
	b.ua.Do(firmware.Answer{Call: off.Call})
	expectOnly[firmware.CallAnswered](a)
	b.ua.Do(firmware.Hangup{Call: off.Call})
	if got := expectOnly[firmware.CallEnded](a); got.Reason != "bye" {
		t.Fatalf("CallEnded = %+v", got)
	}
}

// Close ends calls (the other side hears a BYE) and leaves no goroutine
// behind.
func TestCloseEndsCallsAndLeaksNothing(t *testing.T) {
	b := startPhone(t, "B", MediaTone)
	before := runtime.NumGoroutine()

	events := make(chan firmware.Event, 64)
	u, err := New(Config{Listen: "127.0.0.1:0", UserAgent: "leak"}, events)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	a := &phone{t: t, ua: u, events: events}
	a.port = expectOnly[firmware.NetworkUp](a).Port
	off := placeCall(t, a, b, "c1", "")
	b.ua.Do(firmware.Answer{Call: off.Call})
	expectOnly[firmware.CallAnswered](a)
	eventually(t, "media", func() bool { return u.Stats("c1").PacketsReceived > 0 })

	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	if got := expectOnly[firmware.CallEnded](b); got.Call != off.Call {
		t.Fatalf("CallEnded = %+v", got)
	}
	eventually(t, "B idle", func() bool { return b.ua.active() == 0 })
	deadline := time.Now().Add(wait)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d before, %d after Close\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The ports are free again.
	l, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", a.port))
	if err != nil {
		t.Fatalf("SIP port still bound: %v", err)
	}
	l.Close()
}

// inviteAndAnswer has raw call b and b answer; it returns the 200.
func inviteAndAnswer(t *testing.T, r *raw, b *phone, callID string) (firmware.CallOffered, *sip.Response) {
	t.Helper()
	r.send(r.invite(b.port, callID, "<sip:raw@127.0.0.1>", sdpOffer))
	off := expectOnly[firmware.CallOffered](b)
	b.ua.Do(firmware.Answer{Call: off.Call})
	ok := r.final()
	if ok.StatusCode != 200 {
		t.Fatalf("got %d", ok.StatusCode)
	}
	r.send(fmt.Sprintf("ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-ack-%s\r\nMax-Forwards: 70\r\n"+
		"From: <sip:raw@127.0.0.1>;tag=rawtag\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
		ok.Contact().Address.String(), r.port, callID, ok.To().Value(), callID))
	return off, ok
}

func TestBlindTransfer(t *testing.T) {
	b := startPhone(t, "B", MediaTone)
	r := newRaw(t)
	off, _ := inviteAndAnswer(t, r, b, "xfer1")

	// Refused: the core hears why, and the call stays.
	b.ua.Do(firmware.TransferCall{Call: off.Call, Target: "sip:carol@127.0.0.1:5099"})
	refer := r.request(sip.REFER)
	r.send(response(refer, 403, "Forbidden", "", nil, ""))
	if got := expectOnly[firmware.CallTransferred](b); got != (firmware.CallTransferred{Call: off.Call,
		Target: "sip:carol@127.0.0.1:5099", Status: 403, Reason: "Forbidden"}) {
		t.Fatalf("CallTransferred = %+v", got)
	}
	assertQuiet(t, b)

	b.ua.Do(firmware.TransferCall{Call: off.Call, Target: "sip:carol@127.0.0.1:5099"})
	refer = r.request(sip.REFER)
	if h := refer.GetHeader("Refer-To"); h == nil || h.Value() != "<sip:carol@127.0.0.1:5099>" {
		t.Fatalf("Refer-To = %v", h)
	}
	if tagOf(refer.From().Params) == "" || tagOf(refer.To().Params) != "rawtag" {
		t.Fatalf("REFER outside the dialog: %s", refer)
	}
	r.send(response(refer, 202, "Accepted", "", nil, ""))
	bye := r.request(sip.BYE)
	r.send(response(bye, 200, "OK", "", nil, ""))
	if got := expectOnly[firmware.CallTransferred](b); !got.OK || got.Status != 202 {
		t.Fatalf("CallTransferred = %+v", got)
	}
	if got := expectOnly[firmware.CallEnded](b); got != (firmware.CallEnded{Call: off.Call, Reason: "transferred"}) {
		t.Fatalf("CallEnded = %+v", got)
	}
}

// In-dialog requests with the wrong tags get 481; INFO carries DTMF.
func TestInDialogRequests(t *testing.T) {
	b := startPhone(t, "B", MediaTone)
	r := newRaw(t)
	off, ok := inviteAndAnswer(t, r, b, "dlg1")
	target := ok.Contact().Address.String()
	inDialog := func(method, toTag, fromTag string, seq int, extra string, body string) string {
		return fmt.Sprintf("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%s-%d\r\nMax-Forwards: 70\r\n"+
			"From: <sip:raw@127.0.0.1>;tag=%s\r\nTo: <sip:bob@127.0.0.1>;tag=%s\r\nCall-ID: dlg1\r\nCSeq: %d %s\r\n%sContent-Length: %d\r\n\r\n%s",
			method, target, r.port, method, seq, fromTag, toTag, seq, method, extra, len(body), body)
	}
	localTag := tagOf(ok.To().Params)

	r.send(inDialog("INFO", "wrong", "rawtag", 2, "", ""))
	if res := r.final(); res.StatusCode != 481 {
		t.Fatalf("INFO with a wrong tag: %d", res.StatusCode)
	}
	r.send(inDialog("INFO", localTag, "rawtag", 3, "Content-Type: application/dtmf-relay\r\n", "Signal=7\r\nDuration=160\r\n"))
	if res := r.final(); res.StatusCode != 200 {
		t.Fatalf("INFO: %d", res.StatusCode)
	}
	if got := expectOnly[firmware.DTMFReceived](b); got != (firmware.DTMFReceived{Call: off.Call, Digit: '7'}) {
		t.Fatalf("DTMFReceived = %+v", got)
	}
	r.send(inDialog("MESSAGE", localTag, "rawtag", 4, "", ""))
	if res := r.final(); res.StatusCode != 501 && res.StatusCode != 405 {
		t.Fatalf("MESSAGE: %d", res.StatusCode)
	}
	r.send(inDialog("BYE", localTag, "rawtag", 5, "", ""))
	if res := r.final(); res.StatusCode != 200 {
		t.Fatalf("BYE: %d", res.StatusCode)
	}
	if got := expectOnly[firmware.CallEnded](b); got.Reason != "bye" {
		t.Fatalf("CallEnded = %+v", got)
	}
}

// A 183 with SDP starts media before the answer.
func TestEarlyMedia(t *testing.T) {
	a := startPhone(t, "A", MediaTone)
	r := newRaw(t)
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rtp.Close()
	answer := strings.Replace(sdpAnswer, "40002", fmt.Sprint(rtp.LocalAddr().(*net.UDPAddr).Port), 1)

	a.ua.Do(firmware.Dial{Call: "c1", Target: fmt.Sprintf("sip:uas@127.0.0.1:%d", r.port)})
	expectOnly[firmware.CallSent](a)
	inv := r.request(sip.INVITE)
	contact := fmt.Sprintf("Contact: <sip:uas@127.0.0.1:%d>", r.port)
	r.send(response(inv, 183, "Session Progress", "uas1", []string{contact}, answer))
	if got := expectOnly[firmware.CallProgressed](a); got.Status != 183 {
		t.Fatalf("CallProgressed = %+v", got)
	}
	rtp.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 1500)
	if n, _, err := rtp.ReadFromUDP(buf); err != nil || n != 12+160 {
		t.Fatalf("early RTP: %d bytes, %v", n, err)
	}
	r.send(response(inv, 200, "OK", "uas1", []string{contact}, answer))
	expectOnly[firmware.CallAnswered](a)
	r.request(sip.ACK)
	a.ua.Do(firmware.Hangup{Call: "c1"})
	bye := r.request(sip.BYE)
	r.send(response(bye, 200, "OK", "", nil, ""))
}

// A transport failure is a CallFailed with status 0.
func TestDialUnreachableOverTCP(t *testing.T) {
	a := startPhone(t, "A", MediaTone)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now
	a.ua.Do(firmware.Dial{Call: "c1", Target: fmt.Sprintf("sip:x@127.0.0.1:%d;transport=tcp", port)})
	if got := expectOnly[firmware.CallFailed](a); got.Call != "c1" || got.Status != 0 || got.Reason == "" {
		t.Fatalf("CallFailed = %+v", got)
	}
	eventually(t, "call gone", func() bool { return a.ua.active() == 0 })
}

// The 487 that ends a CANCELed INVITE carries the same To tag as the 180
// before it (RFC 3261 8.2.6.2): one dialog, not two.
func TestCancelKeepsTheToTag(t *testing.T) {
	b := startPhone(t, "B", MediaTone)
	r := newRaw(t)
	inv := r.invite(b.port, "cancel-tag", "<sip:raw@127.0.0.1>", sdpOffer)
	r.send(inv)
	off := expectOnly[firmware.CallOffered](b)
	b.ua.Do(firmware.Ring{Call: off.Call})
	var ringing *sip.Response
	for ringing == nil {
		if res, ok := r.recv().(*sip.Response); ok && res.StatusCode == 180 {
			ringing = res
		}
	}
	req, err := sip.ParseMessage([]byte(inv))
	if err != nil {
		t.Fatal(err)
	}
	in := req.(*sip.Request)
	r.send(fmt.Sprintf("CANCEL %s SIP/2.0\r\nVia: %s\r\nMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n",
		in.Recipient.String(), in.Via().Value(), in.From().Value(), in.To().Value(), in.CallID().Value()))
	var terminated *sip.Response
	for terminated == nil {
		if res, ok := r.recv().(*sip.Response); ok && res.StatusCode == 487 {
			terminated = res
		}
	}
	tag180, _ := ringing.To().Params.Get("tag")
	tag487, _ := terminated.To().Params.Get("tag")
	if tag180 == "" || tag180 != tag487 {
		t.Errorf("To tag of the 180 is %q, of the 487 %q: want the same", tag180, tag487)
	}
	r.ackFinal(inv, terminated)
	expectOnly[firmware.CallCanceled](b)
}
