package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"phonesim/trace"
)

// TestSIPTraceAndPcapFlags: --sip-trace and --pcap write a call's SIP,
// /ladder.htm draws it.
func TestSIPTraceAndPcapFlags(t *testing.T) {
	dir := t.TempDir()
	text, pcap := filepath.Join(dir, "sip.txt"), filepath.Join(dir, "sip.pcap")
	alice := startPhone(t, "-s", "user_name1=100", "--no-echo", "--sip-trace", text, "--pcap", pcap)
	bob := startPhone(t, "-s", "user_name1=200", "-s", "action_incoming_url=", "--no-echo")

	alice.command(t, fmt.Sprintf("number=sip:200@127.0.0.1:%d", bob.sip))
	eventually(t, "bob to ring", func() bool { return bob.callState(t) == "ringing" })
	bob.command(t, "key=ENTER")
	eventually(t, "both connected", func() bool {
		return alice.callState(t) == "connected" && bob.callState(t) == "connected"
	})
	alice.command(t, "key=ONHOOK")
	eventually(t, "the 200 to the BYE in the trace", func() bool {
		b, _ := os.ReadFile(text)
		return strings.Count(string(b), "CSeq: 2 BYE.\n") == 2 // the BYE and its 200
	})

	b, err := os.ReadFile(text)
	if err != nil {
		t.Fatal(err)
	}
	us := fmt.Sprintf("127.0.0.1:%d", alice.sip)
	for _, want := range []string{"\nU ", " " + us + " -> 127.0.0.1:", "INVITE sip:200@127.0.0.1", "SIP/2.0 180 Ringing.\n", "BYE sip:"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the trace lacks %q:\n%s", want, b)
		}
	}
	for _, path := range []string{text, pcap} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", path, fi.Mode(), err)
		}
	}
	f, err := os.Open(pcap)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	frames, err := trace.ReadPcap(f)
	if err != nil {
		t.Fatal(err)
	}
	sip := 0
	for _, fr := range frames {
		if fr.Src.String() == us || fr.Dst.String() == us {
			sip++
		}
	}
	if sip < 7 {
		t.Errorf("%d SIP packets in the pcap", sip)
	}

	resp, err := http.Get(alice.web + "/ladder.htm")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"<svg ", ">INVITE</text>", ">180 Ringing (INVITE)</text>", ">200 OK (BYE)</text>", ">" + us + "</text>"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("/ladder.htm lacks %q", want)
		}
	}
}

func TestTraceFlagBadPath(t *testing.T) {
	err := run(context.Background(), []string{"--headless", "--no-echo", "--http", "off", "--sip", "127.0.0.1:0",
		"--pcap", filepath.Join(t.TempDir(), "no", "such", "dir.pcap")}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--pcap") {
		t.Fatalf("err = %v", err)
	}
}
