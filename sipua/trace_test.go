package sipua

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pion/rtp"

	"phonesim/firmware"
	"phonesim/trace"
)

// tracedPhone is a phone under test with --sip-trace and --pcap files.
type tracedPhone struct {
	*phone
	rec                *trace.Recorder
	textPath, pcapPath string
}

func startTracedPhone(t *testing.T, name string, mode MediaMode) *tracedPhone {
	t.Helper()
	dir := t.TempDir()
	tp := &tracedPhone{textPath: filepath.Join(dir, name+".txt"), pcapPath: filepath.Join(dir, name+".pcap")}
	text, err := os.Create(tp.textPath)
	if err != nil {
		t.Fatal(err)
	}
	pcap, err := os.Create(tp.pcapPath)
	if err != nil {
		t.Fatal(err)
	}
	tp.rec, err = trace.NewRecorder(trace.Options{Text: text, Pcap: pcap, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	log := &testLog{t: t, name: name}
	events := make(chan firmware.Event, 64)
	u, err := New(Config{Listen: "127.0.0.1:0", UserAgent: "phonesim/test", Media: mode, Logf: log.logf}, events)
	if err != nil {
		t.Fatal(err)
	}
	u.SetRecorder(tp.rec)
	if err := u.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	tp.phone = &phone{t: t, ua: u, events: events}
	t.Cleanup(func() {
		u.Close()
		tp.rec.Close()
		text.Close()
		pcap.Close()
		log.mu.Lock()
		log.done = true
		log.mu.Unlock()
	})
	tp.port = expect[firmware.NetworkUp](tp.phone).Port
	return tp
}

func (p *tracedPhone) addr() netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(p.port))
}

// tracedCall runs a call from a to b (over TCP when tcp): ring, answer,
// media both ways, a hangs up; it returns once a's recorder has the 200
// to the BYE.
func tracedCall(t *testing.T, a, b *tracedPhone, tcp bool) {
	t.Helper()
	target := b.uri("bob")
	if tcp {
		target += ";transport=tcp"
	}
	a.ua.Do(firmware.Dial{Call: "c1", Target: target, From: firmware.Party{URI: a.uri("alice")}, Identity: 1})
	expectOnly[firmware.CallSent](a.phone)
	off := expectOnly[firmware.CallOffered](b.phone)
	b.ua.Do(firmware.Ring{Call: off.Call})
	expectOnly[firmware.CallProgressed](a.phone)
	b.ua.Do(firmware.Answer{Call: off.Call})
	expectOnly[firmware.CallAnswered](a.phone)
	eventually(t, "RTP both ways", func() bool {
		sa, sb := a.ua.Stats("c1"), b.ua.Stats(off.Call)
		return sa.PacketsSent > 5 && sa.PacketsReceived > 5 && sb.PacketsSent > 5 && sb.PacketsReceived > 5
	})
	a.ua.Do(firmware.Hangup{Call: "c1"})
	expectOnly[firmware.CallEnded](b.phone)
	for _, p := range []*tracedPhone{a, b} {
		eventually(t, "the 200 to the BYE in the ladder", func() bool {
			calls := p.rec.Calls()
			if len(calls) != 1 {
				return false
			}
			ms := calls[0].Messages
			return len(ms) > 0 && ms[len(ms)-1].Label == "200 OK (BYE)"
		})
	}
}

// flow is the call as seen from the caller a: label, from, to.
func flow(a, b netip.AddrPort) []string {
	ab, ba := a.String()+" -> "+b.String(), b.String()+" -> "+a.String()
	return []string{
		"INVITE " + ab, "100 Trying " + ba, "180 Ringing " + ba, "200 OK " + ba,
		"ACK " + ab, "BYE " + ab, "200 OK " + ba,
	}
}

// textHeader is the ngrep header line of --sip-trace.
var textHeader = regexp.MustCompile(`^([UT]) (\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6}) ([0-9.]+:\d+) -> ([0-9.]+:\d+)( \[AP\])? #(\d+)$`)

// readText parses a --sip-trace file: each message's label (method, or
// status and reason) and addresses, checking the ngrep form on the way.
func readText(t *testing.T, path, proto string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// "\n" header "\n" message (CRLF as ".\n") "\n", message after message
	var got []string
	if !strings.HasPrefix(string(b), "\n") || !strings.HasSuffix(string(b), ".\n\n") {
		t.Fatalf("trace:\n%s", b)
	}
	for i, block := range strings.Split(strings.TrimSuffix(string(b), "\n\n")[1:], "\n\n\n") {
		lines := strings.Split(block, "\n")
		m := textHeader.FindStringSubmatch(lines[0])
		if m == nil || m[1] != proto || m[6] != fmt.Sprint(i+1) || (proto == "T") != (m[5] != "") {
			t.Fatalf("header line %q", lines[0])
		}
		start := strings.TrimSuffix(lines[1], ".")
		label := strings.Fields(start)[0]
		if strings.HasPrefix(start, "SIP/2.0 ") {
			label = strings.TrimPrefix(start, "SIP/2.0 ")
		} else if !strings.HasSuffix(start, " SIP/2.0") {
			t.Fatalf("start line %q", lines[1])
		}
		got = append(got, label+" "+m[3]+" -> "+m[4])
		for _, l := range lines[1:] {
			if !strings.HasSuffix(l, ".") {
				t.Fatalf("message %d: line %q does not end in CR", i+1, l)
			}
		}
	}
	return got
}

// pcapFrames reads a pcap file, every checksum right.
func pcapFrames(t *testing.T, path string) []trace.Frame {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	frames, err := trace.ReadPcap(f)
	if err != nil {
		t.Fatal(err)
	}
	for i, fr := range frames {
		if !fr.ChecksumOK {
			t.Fatalf("frame %d: bad checksum", i+1)
		}
	}
	return frames
}

func TestSIPTraceAndPcapOfACall(t *testing.T) {
	a := startTracedPhone(t, "A", MediaTone)
	b := startTracedPhone(t, "B", MediaTone)
	tracedCall(t, a, b, false)

	want := flow(a.addr(), b.addr())
	if got := readText(t, a.textPath, "U"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("A's trace:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// B saw the same, from its side.
	if got := readText(t, b.textPath, "U"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("B's trace:\n%s", strings.Join(got, "\n"))
	}

	// The pcap: the same SIP messages as UDP datagrams between the SIP
	// ports, and RTP between the ports the SDP named.
	var sip []string
	rtpOut, rtpIn, rtcp := 0, 0, 0
	local, remote := netip.AddrPort{}, netip.AddrPort{}
	frames := pcapFrames(t, a.pcapPath)
	for _, f := range frames {
		if f.Transport != "UDP" {
			t.Fatalf("a %s frame", f.Transport)
		}
		if f.Src == a.addr() || f.Dst == a.addr() {
			line, _, _ := strings.Cut(string(f.Payload), "\r\n")
			label := strings.Fields(line)[0]
			if strings.HasPrefix(line, "SIP/2.0 ") {
				label = strings.TrimPrefix(line, "SIP/2.0 ")
			}
			sip = append(sip, label+" "+f.Src.String()+" -> "+f.Dst.String())
			continue
		}
		if f.Src.Port()%2 == 1 && f.Dst.Port()%2 == 1 { // RTCP, on the RTP ports + 1
			if len(f.Payload) < 8 || f.Payload[0]>>6 != 2 || f.Payload[1] < 200 || f.Payload[1] > 204 {
				t.Fatalf("not RTCP: %+v", f)
			}
			rtcp++
			continue
		}
		var p rtp.Packet
		if err := p.Unmarshal(f.Payload); err != nil || p.Version != 2 || (p.PayloadType != 0 && p.PayloadType != 8) {
			t.Fatalf("not RTP: %+v %v", f, err)
		}
		if local == (netip.AddrPort{}) {
			local, remote = f.Src, f.Dst
			if f.Dst.Port() == a.rtpPort(t) {
				local, remote = f.Dst, f.Src
			}
		}
		switch {
		case f.Src == local && f.Dst == remote:
			rtpOut++
		case f.Src == remote && f.Dst == local:
			rtpIn++
		default:
			t.Fatalf("RTP between %s and %s", f.Src, f.Dst)
		}
	}
	if strings.Join(sip, "\n") != strings.Join(want, "\n") {
		t.Fatalf("A's pcap:\n%s", strings.Join(sip, "\n"))
	}
	if trace.RTPWired() {
		if rtpOut < 5 || rtpIn < 5 || local.Port() != a.rtpPort(t) {
			t.Fatalf("RTP: %d out, %d in, local %s", rtpOut, rtpIn, local)
		}
		t.Logf("RTP: %d out, %d in; RTCP: %d", rtpOut, rtpIn, rtcp)
	} else {
		t.Log("no RTP in the pcap: sipua/media does not call trace.RTP")
	}
}

// rtpPort is the port of the phone's SDP (the INVITE's, as it dialed).
func (p *tracedPhone) rtpPort(t *testing.T) uint16 {
	t.Helper()
	for _, m := range p.rec.Calls()[0].Messages {
		if m.Dir == trace.Sent && m.Label == "INVITE" {
			if _, after, ok := strings.Cut(m.Text, "m=audio "); ok {
				var port uint16
				fmt.Sscan(after, &port)
				return port
			}
		}
	}
	t.Fatal("no SDP in the INVITE sent")
	return 0
}

// Over TCP the caller's messages leave on a connection sipgo dials (its
// own local port), the callee's on the one it accepted; both are traced,
// as whole messages in the text and as TCP segments with consistent
// sequence numbers in the pcap.
func TestSIPTraceOverTCP(t *testing.T) {
	a := startTracedPhone(t, "A", MediaSilence)
	b := startTracedPhone(t, "B", MediaSilence)
	tracedCall(t, a, b, true)

	gotB := readText(t, b.textPath, "T")
	if len(gotB) != 7 {
		t.Fatalf("B's trace:\n%s", strings.Join(gotB, "\n"))
	}
	// the caller's end is the port it dialed from
	aEnd := netip.MustParseAddrPort(strings.Fields(gotB[0])[1])
	if aEnd.Port() == uint16(a.port) {
		t.Fatalf("the INVITE came from A's listening port: %s", gotB[0])
	}
	want := strings.Join(flow(aEnd, b.addr()), "\n")
	if strings.Join(gotB, "\n") != want {
		t.Fatalf("B's trace:\n%s\nwant\n%s", strings.Join(gotB, "\n"), want)
	}
	if gotA := readText(t, a.textPath, "T"); strings.Join(gotA, "\n") != want {
		t.Fatalf("A's trace:\n%s\nwant\n%s", strings.Join(gotA, "\n"), want)
	}

	for _, p := range []*tracedPhone{a, b} {
		next := map[[2]netip.AddrPort]uint32{}
		var stream []byte
		for _, f := range pcapFrames(t, p.pcapPath) {
			if f.Transport != "TCP" {
				continue
			}
			if f.Flags != 0x18 {
				t.Fatalf("flags %#x", f.Flags)
			}
			k := [2]netip.AddrPort{f.Src, f.Dst}
			if n, ok := next[k]; ok && f.Seq != n {
				t.Fatalf("%s -> %s: seq %d, want %d", f.Src, f.Dst, f.Seq, n)
			}
			if n, ok := next[[2]netip.AddrPort{f.Dst, f.Src}]; ok && f.Ack != n {
				t.Fatalf("%s -> %s: ack %d, want %d", f.Src, f.Dst, f.Ack, n)
			}
			next[k] = f.Seq + uint32(len(f.Payload))
			if f.Src == aEnd {
				stream = append(stream, f.Payload...)
			}
		}
		if !strings.HasPrefix(string(stream), "INVITE sip:bob@") || strings.Count(string(stream), "SIP/2.0\r\n") != 3 {
			t.Fatalf("the caller's stream:\n%s", stream)
		}
	}
}

// The ladder is kept without any file, and only calls go in it.
func TestLadderWithoutFiles(t *testing.T) {
	a := startPhone(t, "A", MediaSilence)
	b := startPhone(t, "B", MediaSilence)
	if a.ua.Recorder() == nil {
		t.Fatal("no recorder")
	}
	a.ua.Do(firmware.Register{Identity: 1, User: "alice", Host: fmt.Sprintf("127.0.0.1:%d", b.port), Expires: 60})
	expect[firmware.RegistrationFailed](a) // B is no registrar: a REGISTER flow, not a call
	off := placeCall(t, a, b, "c1", "")
	b.ua.Do(firmware.Reject{Call: off.Call, Status: 486})
	expect[firmware.CallFailed](a)
	eventually(t, "the ACK", func() bool {
		calls := a.ua.Recorder().Calls()
		return len(calls) == 1 && len(calls[0].Messages) == 4
	})
	var labels []string
	for _, m := range a.ua.Recorder().Calls()[0].Messages {
		labels = append(labels, m.Label)
	}
	if got := strings.Join(labels, ","); got != "INVITE,100 Trying (INVITE),486 Busy Here (INVITE),ACK" {
		t.Fatalf("ladder %s", got)
	}
	u := a.ua
	u.Close()
	if u.Recorder() != nil {
		eventually(t, "recorder let go", func() bool { return u.Recorder() == nil })
	}
}
