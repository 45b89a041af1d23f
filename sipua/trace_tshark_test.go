//go:build tshark

package sipua

// The pcap and the text trace of a real call, read by the tools people
// read them with: tshark (Wireshark), and, when installed, ngrep and
// sngrep. Needs `apt-get install tshark ngrep sngrep`; run with
//
//	go test -tags tshark -run Tools ./sipua
//
// Each tool that is not installed is skipped.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"phonesim/trace"
)

func tool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (apt-get install %s)", name, name)
	}
	return path
}

// run runs a tool; its standard error must hold nothing but tshark's
// warning about running as root.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, errs.String())
	}
	for _, l := range strings.Split(strings.TrimSpace(errs.String()), "\n") {
		if l != "" && !strings.Contains(l, "Running as user \"root\"") {
			t.Fatalf("%s %s: %s", name, strings.Join(args, " "), errs.String())
		}
	}
	return out.String()
}

// tsharkSIP lists the SIP messages tshark decodes: method or status, and
// the addresses.
func tsharkSIP(t *testing.T, pcap, decodeAs string) []string {
	t.Helper()
	out := run(t, "tshark", "-r", pcap, "-d", decodeAs, "-Y", "sip", "-T", "fields", "-E", "separator=|",
		"-e", "sip.Method", "-e", "sip.Status-Code", "-e", "ip.src", "-e", "ip.dst", "-e", "udp.srcport", "-e", "tcp.srcport", "-e", "udp.dstport", "-e", "tcp.dstport")
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(l, "|")
		if len(f) != 8 {
			t.Fatalf("tshark line %q", l)
		}
		if f[0] != "" && f[1] != "" {
			t.Fatalf("a request and a response in one frame: %q", l)
		}
		// one TCP read can carry two messages: "100,180"
		for _, what := range strings.Split(f[0]+f[1], ",") {
			got = append(got, fmt.Sprintf("%s %s:%s%s -> %s:%s%s", what, f[2], f[4], f[5], f[3], f[6], f[7]))
		}
	}
	return got
}

// sipFlow is flow without the reason phrases (tshark gives the code).
func sipFlow(a, b string) []string {
	ab, ba := a+" -> "+b, b+" -> "+a
	return []string{"INVITE " + ab, "100 " + ba, "180 " + ba, "200 " + ba, "ACK " + ab, "BYE " + ab, "200 " + ba}
}

func noMalformed(t *testing.T, pcap, decodeAs string) {
	t.Helper()
	if out := run(t, "tshark", "-r", pcap, "-d", decodeAs, "-o", "rtp.heuristic_rtp:TRUE", "-Y", "_ws.malformed || _ws.expert.severity >= error"); strings.TrimSpace(out) != "" {
		t.Fatalf("tshark finds malformed packets:\n%s", out)
	}
}

func TestToolsReadTheTraceOfACall(t *testing.T) {
	tool(t, "tshark")
	a := startTracedPhone(t, "A", MediaTone)
	b := startTracedPhone(t, "B", MediaTone)
	tracedCall(t, a, b, false)

	decode := fmt.Sprintf("udp.port==%d,sip", a.port)
	want := sipFlow(a.addr().String(), b.addr().String())
	if got := tsharkSIP(t, a.pcapPath, decode); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("tshark -Y sip:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	noMalformed(t, a.pcapPath, decode)
	if n := strings.Count(run(t, "tshark", "-r", a.pcapPath, "-o", "rtp.heuristic_rtp:TRUE", "-Y", "rtp", "-T", "fields", "-e", "rtp.ssrc"), "\n"); trace.RTPWired() && n < 10 {
		t.Fatalf("tshark decodes %d RTP packets", n)
	} else {
		t.Logf("tshark decodes %d RTP packets (media tap in place: %v)", n, trace.RTPWired())
	}

	t.Run("ngrep", func(t *testing.T) {
		tool(t, "ngrep")
		out := run(t, "ngrep", "-qt", "-W", "byline", "-I", a.pcapPath, "port", fmt.Sprint(a.port))
		_, body, _ := strings.Cut(out, "\n\n") // after "input:" and "filter:"
		text, err := os.ReadFile(a.textPath)
		if err != nil {
			t.Fatal(err)
		}
		if "\n"+body != string(text) {
			t.Fatalf("ngrep -qt -W byline prints\n%s\nthe trace has\n%s", body, text)
		}
	})
	t.Run("sngrep", func(t *testing.T) {
		tool(t, "sngrep")
		out := filepath.Join(t.TempDir(), "sngrep.pcap")
		run(t, "sngrep", "-I", a.pcapPath, "-N", "-q", "-O", out)
		if n := len(pcapFrames(t, out)); n != 7 {
			t.Fatalf("sngrep keeps %d SIP packets, want 7", n)
		}
	})
}

func TestToolsReadTheTraceOfATCPCall(t *testing.T) {
	tool(t, "tshark")
	a := startTracedPhone(t, "A", MediaSilence)
	b := startTracedPhone(t, "B", MediaSilence)
	tracedCall(t, a, b, true)

	decode := fmt.Sprintf("tcp.port==%d,sip", b.port)
	for _, p := range []*tracedPhone{a, b} {
		got := tsharkSIP(t, p.pcapPath, decode)
		if len(got) != 7 {
			t.Fatalf("tshark -Y sip:\n%s", strings.Join(got, "\n"))
		}
		caller := strings.Fields(got[0])[1]
		if want := sipFlow(caller, b.addr().String()); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("tshark -Y sip:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		noMalformed(t, p.pcapPath, decode)
		// no sequence problems in tshark's TCP analysis
		if out := run(t, "tshark", "-r", p.pcapPath, "-Y", "tcp.analysis.flags && !tcp.analysis.window_update"); strings.TrimSpace(out) != "" {
			t.Fatalf("tshark's TCP analysis:\n%s", out)
		}
	}
	t.Run("sngrep", func(t *testing.T) {
		tool(t, "sngrep")
		out := filepath.Join(t.TempDir(), "sngrep.pcap")
		run(t, "sngrep", "-I", b.pcapPath, "-N", "-q", "-O", out)
		var msgs int
		for _, f := range pcapFrames(t, out) {
			msgs += strings.Count(string(f.Payload), " SIP/2.0\r\n") + strings.Count(string(f.Payload), "SIP/2.0 ")
		}
		if msgs != 7 {
			t.Fatalf("sngrep keeps %d SIP messages, want 7", msgs)
		}
	})
}
