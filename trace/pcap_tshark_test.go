//go:build tshark

package trace

// tshark reads RTP from a Recorder's pcap: found by the SDP of the SIP
// around it, and by tshark's RTP heuristic. `apt-get install tshark`;
// go test -tags tshark ./trace

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestTsharkDecodesRTP(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark is not installed (apt-get install tshark)")
	}
	path := filepath.Join(t.TempDir(), "rtp.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRecorder(Options{Pcap: f})
	if err != nil {
		t.Fatal(err)
	}
	answer := strings.Replace(sdp, "40002", "40004", 1)
	at := time.Now()
	r.SIP(Packet{Time: at, Dir: Sent, Transport: "UDP", Local: us, Remote: them, Data: []byte(sipMsg("INVITE sip:b@127.0.0.1:5070 SIP/2.0", "c1", "1 INVITE", sdp))})
	r.SIP(Packet{Time: at, Dir: Received, Transport: "UDP", Local: us, Remote: them, Data: []byte(sipMsg("SIP/2.0 200 OK", "c1", "1 INVITE", answer))})
	remote := netip.MustParseAddrPort("127.0.0.1:40004")
	for i := range 10 {
		for _, dir := range []Direction{Sent, Received} {
			p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(i), Timestamp: uint32(160 * i), SSRC: uint32(dir)},
				Payload: make([]byte, 160)}
			b, _ := p.Marshal()
			RTP(dir, 40002, remote, b)
		}
	}
	RTP(Sent, 40003, netip.MustParseAddrPort("127.0.0.1:40005"), []byte{0x80, 0xc9, 0, 1, 0, 0, 0, 2}) // RTCP RR
	r.Close()
	f.Close()

	for _, args := range [][]string{
		{"-d", "udp.port==5060,sip"},     // RTP found through the SDP
		{"-o", "rtp.heuristic_rtp:TRUE"}, // RTP found by its look
	} {
		cmd := exec.Command("tshark", append(append([]string{"-r", path}, args...), "-Y", "rtp", "-T", "fields", "-e", "rtp.ssrc", "-e", "rtp.seq", "-e", "udp.srcport")...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark %v: %v", args, err)
		}
		if n := strings.Count(string(out), "\n"); n != 20 {
			t.Fatalf("tshark %v: %d RTP packets\n%s", args, n, out)
		}
		if !strings.Contains(string(out), "0x00000002\t9\t40002") || !strings.Contains(string(out), "0x00000001\t9\t40004") {
			t.Fatalf("tshark %v:\n%s", args, out)
		}
	}
	out, err := exec.Command("tshark", "-r", path, "-d", "udp.port==5060,sip", "-Y", "rtcp.pt == 201", "-T", "fields", "-e", "rtcp.senderssrc").Output()
	if err != nil || strings.TrimSpace(string(out)) != "0x00000002" {
		t.Fatalf("tshark: RTCP %q %v", out, err)
	}
}
