package trace

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var (
	us   = netip.MustParseAddrPort("127.0.0.1:5060")
	them = netip.MustParseAddrPort("127.0.0.1:5070")
)

func sipMsg(start, callID, cseq, body string) string {
	ct := ""
	if body != "" {
		ct = "Content-Type: application/sdp\r\n"
	}
	return start + "\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\nCall-ID: " + callID +
		"\r\nCSeq: " + cseq + "\r\n" + ct + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body
}

const sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\n"

func TestTextIsNgrepByline(t *testing.T) {
	var b bytes.Buffer
	r, err := NewRecorder(Options{Text: &b})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 30, 14, 2, 11, 123456789, time.Local)
	r.SIP(Packet{Time: at, Dir: Sent, Transport: "UDP", Local: us, Remote: them,
		Data: []byte("OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nX-Bin: \x1b[2J\xff\r\nContent-Length: 0\r\n\r\n")})
	r.SIP(Packet{Time: at, Dir: Received, Transport: "UDP", Local: us, Remote: them, Data: []byte("\r\n\r\n")}) // keepalive: no message
	r.SIP(Packet{Time: at.Add(time.Second), Dir: Received, Transport: "TCP", Local: us, Remote: them,
		Data: []byte("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n")})
	want := "\nU 2026/11/30 14:02:11.123456 127.0.0.1:5060 -> 127.0.0.1:5070 #1\n" +
		"OPTIONS sip:x@127.0.0.1 SIP/2.0.\nX-Bin: .[2J..\nContent-Length: 0.\n.\n\n" +
		"\nT 2026/11/30 14:02:12.123456 127.0.0.1:5070 -> 127.0.0.1:5060 [AP] #2\n" +
		"SIP/2.0 200 OK.\nContent-Length: 0.\n.\n\n"
	if b.String() != want {
		t.Fatalf("text:\n%q\nwant\n%q", b.String(), want)
	}
}

// A TCP stream read in arbitrary pieces gives whole messages, keepalives
// skipped.
func TestTCPCutting(t *testing.T) {
	m1 := sipMsg("INVITE sip:b@x SIP/2.0", "c1", "1 INVITE", sdp)
	m2 := sipMsg("BYE sip:b@x SIP/2.0", "c1", "2 BYE", "")
	stream := "\r\n\r\n" + m1 + "\r\n" + m2
	for _, size := range []int{1, 3, 7, 50, len(stream)} {
		var got []string
		var c cutter
		for s := stream; s != ""; {
			n := min(size, len(s))
			c.feed([]byte(s[:n]), func(msg []byte) { got = append(got, string(msg)) })
			s = s[n:]
		}
		if len(got) != 2 || got[0] != m1 || got[1] != m2 {
			t.Fatalf("pieces of %d: %q", size, got)
		}
	}
	// garbage that never ends a header is dropped at the cap
	var c cutter
	c.feed(bytes.Repeat([]byte("x"), maxHeader+1), func([]byte) { t.Fatal("a message from garbage") })
	if len(c.buf) != 0 {
		t.Fatal("garbage kept")
	}
	c.feed([]byte("INVITE sip:x SIP/2.0\r\nContent-Length: zz\r\n\r\n"), func([]byte) { t.Fatal("a message with a bad length") })
}

func TestPcapRoundTrip(t *testing.T) {
	var b bytes.Buffer
	r, err := NewRecorder(Options{Pcap: &b})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1700000000, 250_000_000)
	v6a, v6b := netip.MustParseAddrPort("[::1]:5060"), netip.MustParseAddrPort("[::1]:5080")
	r.SIP(Packet{Time: at, Dir: Sent, Transport: "UDP", Local: us, Remote: them, Data: []byte("odd")})
	r.SIP(Packet{Time: at, Dir: Sent, Transport: "TCP", Local: us, Remote: them, Data: []byte("hello")})
	r.SIP(Packet{Time: at, Dir: Received, Transport: "TCP", Local: us, Remote: them, Data: []byte("world!")})
	r.SIP(Packet{Time: at, Dir: Sent, Transport: "TCP", Local: us, Remote: them, Data: []byte("again")})
	r.SIP(Packet{Time: at, Dir: Received, Transport: "UDP", Local: v6a, Remote: v6b, Data: []byte("six")})
	big := bytes.Repeat([]byte("y"), maxSegment+10)
	r.SIP(Packet{Time: at, Dir: Sent, Transport: "TCP", Local: us, Remote: them, Data: big})

	frames, err := ReadPcap(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 7 {
		t.Fatalf("%d frames", len(frames))
	}
	for i, f := range frames {
		if !f.ChecksumOK {
			t.Errorf("frame %d: bad checksum", i)
		}
		if !f.Time.Equal(at) {
			t.Errorf("frame %d: time %v", i, f.Time)
		}
	}
	if f := frames[0]; f.Transport != "UDP" || f.Src != us || f.Dst != them || string(f.Payload) != "odd" {
		t.Errorf("udp: %+v", f)
	}
	hello, world, again := frames[1], frames[2], frames[3]
	if hello.Src != us || world.Src != them || string(world.Payload) != "world!" {
		t.Errorf("tcp ends: %+v %+v", hello, world)
	}
	if again.Seq != hello.Seq+5 || again.Ack != world.Seq+6 || world.Ack != hello.Seq+5 || hello.Ack != world.Seq {
		t.Errorf("tcp numbers: hello %d/%d world %d/%d again %d/%d", hello.Seq, hello.Ack, world.Seq, world.Ack, again.Seq, again.Ack)
	}
	if hello.Flags != tcpFlagACK|tcpFlagPSH {
		t.Errorf("flags %#x", hello.Flags)
	}
	if f := frames[4]; f.Src != v6b || f.Dst != v6a || string(f.Payload) != "six" {
		t.Errorf("v6: %+v", f)
	}
	if a, b := frames[5], frames[6]; len(a.Payload) != maxSegment || len(b.Payload) != 10 || b.Seq != a.Seq+maxSegment || a.Seq != again.Seq+5 {
		t.Errorf("split: %d+%d bytes, seq %d %d", len(a.Payload), len(b.Payload), a.Seq, b.Seq)
	}
}

func TestLadder(t *testing.T) {
	r, _ := NewRecorder(Options{Calls: 2, Bytes: 3200})
	at := time.Now()
	send := func(dir Direction, msg string) {
		r.SIP(Packet{Time: at, Dir: dir, Transport: "UDP", Local: us, Remote: them, Data: []byte(msg)})
	}
	send(Sent, sipMsg("REGISTER sip:x SIP/2.0", "reg", "1 REGISTER", ""))
	send(Sent, sipMsg("INVITE sip:b@x SIP/2.0", "c1", "1 INVITE", sdp))
	send(Received, sipMsg("SIP/2.0 180 Ringing", "c1", "1 INVITE", ""))
	send(Received, sipMsg("SIP/2.0 200 OK", "c1", "1 INVITE", ""))
	send(Received, sipMsg("BYE sip:a@x SIP/2.0", "nope", "1 BYE", "")) // no call of that Call-ID
	calls := r.Calls()
	if len(calls) != 1 || calls[0].CallID != "c1" {
		t.Fatalf("calls: %+v", calls)
	}
	var labels []string
	for _, m := range calls[0].Messages {
		labels = append(labels, m.Label)
	}
	if got := strings.Join(labels, ","); got != "INVITE,180 Ringing (INVITE),200 OK (INVITE)" {
		t.Fatalf("labels %s", got)
	}
	if m := calls[0].Messages[1]; m.Src != them || m.Dst != us || m.Dir != Received || m.Response != 180 || m.Request {
		t.Fatalf("message: %+v", m)
	}
	// the call cap: the oldest call goes
	send(Sent, sipMsg("INVITE sip:b@x SIP/2.0", "c2", "1 INVITE", ""))
	send(Sent, sipMsg("INVITE sip:b@x SIP/2.0", "c3", "1 INVITE", ""))
	if calls := r.Calls(); len(calls) != 2 || calls[0].CallID != "c2" || calls[1].CallID != "c3" {
		t.Fatalf("calls: %+v", calls)
	}
	// the byte cap: a message to an older call keeps it, the other goes;
	// alone over the cap, the call's older texts go
	send(Sent, sipMsg("INFO sip:b@x SIP/2.0", "c2", "2 INFO", strings.Repeat("z", 3000)))
	calls = r.Calls()
	if len(calls) != 1 || calls[0].CallID != "c2" || len(calls[0].Messages) != 2 {
		t.Fatalf("calls: %+v", calls)
	}
	send(Sent, sipMsg("INFO sip:b@x SIP/2.0", "c2", "3 INFO", strings.Repeat("z", 3000)))
	calls = r.Calls()
	ms := calls[0].Messages
	if len(ms) != 3 || ms[1].Text != "" || !ms[1].Cut || ms[2].Text == "" || ms[0].Text != "" {
		t.Fatalf("messages: %+v", ms)
	}
}

func TestRTPTap(t *testing.T) {
	var b bytes.Buffer
	r, _ := NewRecorder(Options{Pcap: &b})
	other, _ := NewRecorder(Options{})
	remote := netip.MustParseAddrPort("[::ffff:127.0.0.1]:40004")
	RTP(Sent, 40002, remote, []byte("before the SDP"))
	r.SIP(Packet{Time: time.Now(), Dir: Sent, Transport: "UDP", Local: us, Remote: them,
		Data: []byte(sipMsg("INVITE sip:b@x SIP/2.0", "c1", "1 INVITE", sdp))})
	other.SIP(Packet{Time: time.Now(), Dir: Sent, Transport: "UDP", Local: us, Remote: them, // no pcap: claims nothing
		Data: []byte(sipMsg("INVITE sip:b@x SIP/2.0", "c9", "1 INVITE", strings.Replace(sdp, "40002", "40008", 1)))})
	RTP(Sent, 40002, remote, []byte("rtp out"))
	RTP(Received, 40002, remote, []byte("rtp in"))
	RTP(Sent, 40003, netip.MustParseAddrPort("127.0.0.1:40005"), []byte("rtcp out"))
	RTP(Sent, 40008, remote, []byte("not ours"))
	r.Close()
	RTP(Sent, 40002, remote, []byte("after close"))
	if n := rtpOwners.n.Load(); n != 0 {
		t.Fatalf("%d ports still claimed", n)
	}
	frames, err := ReadPcap(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 4 {
		t.Fatalf("%d frames", len(frames))
	}
	lp := netip.MustParseAddrPort("127.0.0.1:40002") // the SDP's address
	rp := netip.MustParseAddrPort("127.0.0.1:40004")
	if f := frames[1]; string(f.Payload) != "rtp out" || f.Src != lp || f.Dst != rp {
		t.Fatalf("out: %+v", f)
	}
	if f := frames[2]; string(f.Payload) != "rtp in" || f.Src != rp || f.Dst != lp {
		t.Fatalf("in: %+v", f)
	}
	if f := frames[3]; string(f.Payload) != "rtcp out" || f.Src.Port() != 40003 || f.Dst.Port() != 40005 {
		t.Fatalf("rtcp: %+v", f)
	}
}

func TestSDPAudio(t *testing.T) {
	ip, port, ok := sdpAudio([]byte(sipMsg("SIP/2.0 200 OK", "c", "1 INVITE",
		"v=0\r\nc=IN IP4 10.0.0.1\r\nm=video 5000 RTP/AVP 96\r\nm=audio 6000 RTP/AVP 0\r\nc=IN IP6 ::1\r\nm=audio 7000 RTP/AVP 0\r\n")))
	if !ok || port != 6000 || ip != netip.MustParseAddr("::1") {
		t.Fatalf("%v %d %v", ip, port, ok)
	}
	if _, _, ok := sdpAudio([]byte(sipMsg("BYE x SIP/2.0", "c", "2 BYE", ""))); ok {
		t.Fatal("no body, an audio stream")
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(b []byte) (int, error) {
	if w.n--; w.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(b), nil
}

func TestWriteErrorReportedOnce(t *testing.T) {
	var lines []string
	r, err := NewRecorder(Options{Text: &failWriter{}, Pcap: &failWriter{n: 1},
		Logf: func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		r.SIP(Packet{Time: time.Now(), Dir: Sent, Transport: "UDP", Local: us, Remote: them,
			Data: []byte(sipMsg("INVITE sip:b@x SIP/2.0", "c1", "1 INVITE", ""))})
	}
	if len(lines) != 2 || !strings.Contains(lines[0], "--pcap: disk full") || !strings.Contains(lines[1], "--sip-trace: disk full") {
		t.Fatalf("%q", lines)
	}
	if calls := r.Calls(); len(calls) != 1 || len(calls[0].Messages) != 3 {
		t.Fatal("the ladder stopped with the files")
	}
}

// An answer handed over before what it answers is recorded after it; a
// stray answer waits holdMax at most; times never go back.
func TestAnswersAfterWhatTheyAnswer(t *testing.T) {
	var text bytes.Buffer
	r, _ := NewRecorder(Options{Text: &text})
	at := time.Now()
	rec := func(d time.Duration, dir Direction, msg string) {
		r.SIP(Packet{Time: at.Add(d), Dir: dir, Transport: "UDP", Local: us, Remote: them, Data: []byte(msg)})
	}
	invite := sipMsg("INVITE sip:b@x SIP/2.0", "c1", "1 INVITE", "")
	trying := sipMsg("SIP/2.0 100 Trying", "c1", "1 INVITE", "")
	rec(2, Received, trying) // read before the INVITE's write was reported
	rec(3, Received, sipMsg("SIP/2.0 180 Ringing", "c1", "1 INVITE", ""))
	if len(r.Calls()) != 0 || text.Len() != 0 {
		t.Fatal("an answer recorded before its request")
	}
	rec(1, Sent, invite)
	// the callee's view: our 200 reported after the ACK to it
	rec(4, Received, strings.Replace(sipMsg("INVITE sip:a@x SIP/2.0", "c2", "1 INVITE", ""), "z9hG4bK1", "z9hG4bK2", 1))
	rec(6, Received, sipMsg("ACK sip:a@x SIP/2.0", "c2", "1 ACK", ""))
	rec(7, Received, sipMsg("BYE sip:a@x SIP/2.0", "c2", "2 BYE", ""))
	rec(5, Sent, sipMsg("SIP/2.0 200 OK", "c2", "1 INVITE", ""))
	var got []string
	for _, c := range r.Calls() {
		for _, m := range c.Messages {
			got = append(got, m.Label)
		}
	}
	want := "INVITE,100 Trying (INVITE),180 Ringing (INVITE),INVITE,200 OK (INVITE),ACK,BYE"
	if strings.Join(got, ",") != want {
		t.Fatalf("order %s", strings.Join(got, ","))
	}
	// times: the INVITE's (1 ns), then the 100 and 180 keep theirs
	c := r.Calls()[0].Messages
	if !c[0].Time.Equal(at.Add(1)) || !c[1].Time.Equal(at.Add(2)) {
		t.Fatalf("times %v %v", c[0].Time, c[1].Time)
	}
	// ACK (6 ns) waited for the 200 (5 ns): its time is its own
	if c := r.Calls()[1].Messages; !c[2].Time.Equal(at.Add(6)) {
		t.Fatalf("ACK time %v", c[2].Time)
	}

	// a stray response: recorded after holdMax
	start := time.Now()
	rec(8, Received, strings.Replace(sipMsg("SIP/2.0 200 OK", "c1", "9 BYE", ""), "z9hG4bK1", "z9hG4bKstray", 1))
	r.mu.Lock()
	waiting := len(r.order.waiting)
	r.mu.Unlock()
	if waiting != 1 {
		t.Fatalf("%d waiting", waiting)
	}
	for {
		r.mu.Lock()
		waiting = len(r.order.waiting)
		r.mu.Unlock()
		if waiting == 0 {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("the stray is never recorded")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if d := time.Since(start); d < holdMax {
		t.Fatalf("recorded after %v", d)
	}
	// Close records what waits
	rec(9, Received, strings.Replace(sipMsg("SIP/2.0 200 OK", "c1", "10 BYE", ""), "z9hG4bK1", "z9hG4bKstray2", 1))
	r.Close()
	if n := strings.Count(text.String(), "200 OK"); n != 3 {
		t.Fatalf("%d 200s in\n%s", n, text.String())
	}
}
