//go:build tmux

// The terminal tier: the real handset in a real terminal (tmux), driven
// with send-keys and read with capture-pane, as a person sees it.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHandsetInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("tmux is needed for the terminal tier: %v", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "phonesim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	hostile := "\x1b[2J<script>&x=1"

	// B: a headless phone in this process, with a hostile display name,
	// driven over HTTP.
	b := startPhone(t, "--no-echo", "-s", "user_name1=200", "-s", "user_realname1="+hostile)

	// A: the handset, in a tmux session of its own.
	aSIP, aHTTP := freeUDPTCPPort(t), freeUDPTCPPort(t)
	sock := filepath.Join(dir, "tmux.sock")
	tmux := func(args ...string) string {
		out, err := exec.Command("tmux", append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	tmux("new-session", "-d", "-s", "phone", "-x", "100", "-y", "32",
		fmt.Sprintf("%s --no-echo --sip 127.0.0.1:%d --http 127.0.0.1:%d -s user_name1=100 2>%s",
			bin, aSIP, aHTTP, filepath.Join(dir, "a.err")))
	t.Cleanup(func() { exec.Command("tmux", "-S", sock, "kill-server").Run() })
	screen := func() string { return tmux("capture-pane", "-p", "-t", "phone") }
	waitScreen := func(what string, ok func(string) bool) string {
		t.Helper()
		var s string
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			if s = screen(); ok(s) {
				return s
			}
			time.Sleep(100 * time.Millisecond)
		}
		errOut, _ := os.ReadFile(filepath.Join(dir, "a.err"))
		t.Fatalf("the handset never showed %s; screen:\n%s\nstderr:\n%s", what, s, errOut)
		return ""
	}
	waitScreen("the idle handset", func(s string) bool { return strings.Contains(s, "100") && strings.Contains(s, "[ 1 ]") })

	// B calls A: A's handset shows the ringing caller, name inert.
	b.command(t, fmt.Sprintf("number=sip:100@127.0.0.1:%d", aSIP))
	s := waitScreen("the ringing caller", func(s string) bool { return strings.Contains(s, "Incoming call") })
	if !strings.Contains(s, "<script>&x=1") {
		t.Errorf("the caller's name is not shown as text:\n%s", s)
	}
	if strings.Contains(s, "\x1b") {
		t.Errorf("an escape byte reached the terminal:\n%q", s)
	}

	// Answer from the keyboard (Enter = OK): the call timer runs on A.
	tmux("send-keys", "-t", "phone", "Enter")
	waitScreen("the call timer at 0:02", func(s string) bool { return strings.Contains(s, "Connected 0:02") })
	if got := b.callState(t); got != "connected" {
		t.Fatalf("B's call is %q while A shows it connected", got)
	}

	// Hang up on A with the hook key (space): both sides end.
	tmux("send-keys", "-t", "phone", "Space")
	waitScreen("the call ended", func(s string) bool { return !strings.Contains(s, "Connected 0:") })
	eventually(t, "B to see the call end", func() bool { return b.callState(t) == "" })

	// A calls B from the keyboard by IP (127*0*0*1*PORT, as snom phones dial IPs).
	tmux("send-keys", "-t", "phone", fmt.Sprintf("127*0*0*1*%d", b.sip), "Enter")
	eventually(t, "B to ring", func() bool { return b.callState(t) == "ringing" })
	b.command(t, "key=ENTER")
	waitScreen("the outgoing call connected", func(s string) bool { return strings.Contains(s, "Connected 0:0") })
	b.command(t, "key=CANCEL")
	waitScreen("the remote hang-up", func(s string) bool { return strings.Contains(s, "Call ended") })

	// A's log page shows the hostile name escaped.
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/log.htm", aHTTP))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(page), "<script>&x") || strings.Contains(string(page), "\x1b") {
		t.Errorf("the log page carries the hostile name raw")
	}
	if !strings.Contains(string(page), "&lt;script&gt;") {
		t.Errorf("the log page does not show the caller's name escaped")
	}

	tmux("send-keys", "-t", "phone", "q")
}
