package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer collects a phone's stderr (log lines) safely.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testPhone struct {
	web    string
	sip    int
	stderr *syncBuffer
}

// startPhone runs the real command in this process, headless, on free
// loopback ports.
func startPhone(t *testing.T, args ...string) *testPhone {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sipPort, httpPort := freeUDPTCPPort(t), freeUDPTCPPort(t)
	p := &testPhone{web: fmt.Sprintf("http://127.0.0.1:%d", httpPort), sip: sipPort, stderr: &syncBuffer{}}
	args = append([]string{"--sip", fmt.Sprintf("127.0.0.1:%d", sipPort), "--http", fmt.Sprintf("127.0.0.1:%d", httpPort)}, args...)
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, io.Discard, p.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("phone exited: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("phone did not stop within 5 s")
		}
	})
	eventually(t, "the phone's web interface", func() bool {
		select {
		case err := <-done:
			t.Fatalf("phone exited early: %v\n%s", err, p.stderr)
		default:
		}
		_, err := p.state()
		return err == nil
	})
	return p
}

type stateJSON struct {
	Hook  string `json:"hook"`
	DND   bool   `json:"dnd"`
	Calls []struct {
		ID      string `json:"id"`
		State   string `json:"state"`
		Remote  string `json:"remote"`
		Display string `json:"display"`
		Seconds int    `json:"seconds"`
	} `json:"calls"`
	Display []string `json:"display"`
}

func (p *testPhone) state() (stateJSON, error) {
	var st stateJSON
	resp, err := http.Get(p.web + "/api/state")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("/api/state: %s", resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func (p *testPhone) command(t *testing.T, query string) {
	t.Helper()
	// sent as snom's remote control takes it: "key=DND;REDIRECT" raw, # and * escaped
	raw := strings.NewReplacer("#", "%23", "*", "%2A", " ", "%20").Replace(query)
	resp, err := http.Get(p.web + "/command.htm?" + raw)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/command.htm?%s: %s", query, resp.Status)
	}
}

// callState is the state of the phone's only call not yet ended, or "".
func (p *testPhone) callState(t *testing.T) string {
	st, err := p.state()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range st.Calls {
		if c.State != "ended" {
			return c.State
		}
	}
	return ""
}

// TestTwoPhonesCallOverHTTP drives a whole call between two phones in one
// process through /command.htm and watches it through /api/state.
func TestTwoPhonesCallOverHTTP(t *testing.T) {
	hostile := "\x1b[2J<script>&x=1"
	alice := startPhone(t, "-s", "user_name1=100", "-s", "user_realname1="+hostile, "--no-echo")
	bob := startPhone(t, "-s", "user_name1=200", "-s", "action_incoming_url=", "--no-echo")

	alice.command(t, fmt.Sprintf("number=sip:200@127.0.0.1:%d", bob.sip))
	eventually(t, "bob to ring", func() bool { return bob.callState(t) == "ringing" })
	eventually(t, "alice to hear ringback", func() bool { return alice.callState(t) == "ringing" })

	st, _ := bob.state()
	if got := st.Calls[0].Display; strings.ContainsAny(got, "\x1b\r\n") || !strings.Contains(got, "<script>&x=1") {
		t.Errorf("bob shows the caller as %q: want the text with its control characters removed", got)
	}

	bob.command(t, "key=ENTER")
	eventually(t, "both connected", func() bool {
		return alice.callState(t) == "connected" && bob.callState(t) == "connected"
	})
	eventually(t, "the call timer to run", func() bool {
		st, _ := bob.state()
		return len(st.Calls) == 1 && st.Calls[0].Seconds >= 1 && strings.HasPrefix(st.Display[0], "Connected 0:0")
	})

	alice.command(t, "key=ONHOOK")
	eventually(t, "the call to end on both sides", func() bool {
		return alice.callState(t) == "" && bob.callState(t) == ""
	})
	st, _ = alice.state()
	if st.Hook != "on-hook" {
		t.Errorf("alice hook = %s after hanging up", st.Hook)
	}
	for _, line := range strings.Split(bob.stderr.String(), "\n") {
		if strings.Contains(line, "\x1b") {
			t.Errorf("an escape byte reached bob's log: %q", line)
		}
	}
	if !strings.Contains(bob.stderr.String(), "incoming call from") {
		t.Errorf("bob's log has no incoming call line:\n%s", bob.stderr)
	}
}

// TestDNDAndRedirectOverSIP checks the SIP answers of a phone on DND
// (480) and with redirection on (302 to the target), end to end.
func TestDNDAndRedirectOverSIP(t *testing.T) {
	alice := startPhone(t, "-s", "user_name1=100", "--no-echo")
	carol := startPhone(t, "-s", "user_name1=300", "--no-echo")
	bob := startPhone(t, "-s", "user_name1=200", "-s", "dnd_mode=on", "--no-echo",
		"-s", fmt.Sprintf("redirect_number=sip:300@127.0.0.1:%d", carol.sip))

	alice.command(t, fmt.Sprintf("number=sip:200@127.0.0.1:%d", bob.sip))
	eventually(t, "alice to see the call refused with 480", func() bool {
		st, _ := alice.state()
		return alice.callState(t) == "" && strings.Contains(strings.Join(st.Display, " "), "Not available")
	})
	if !strings.Contains(bob.stderr.String(), "rejected: DND") {
		t.Errorf("bob's log does not say the call was rejected for DND:\n%s", bob.stderr)
	}

	// Bob turns DND off and redirects every call to carol.
	bob.command(t, "key=DND;REDIRECT")
	eventually(t, "bob's DND off", func() bool { st, _ := bob.state(); return !st.DND })
	alice.command(t, fmt.Sprintf("number=sip:200@127.0.0.1:%d", bob.sip))
	eventually(t, "the call to reach carol through bob's 302", func() bool { return carol.callState(t) == "ringing" })
	if bob.callState(t) != "" {
		t.Errorf("bob rang although redirection is on")
	}
	if !strings.Contains(bob.stderr.String(), "redirected to sip:300@127.0.0.1") {
		t.Errorf("bob's log has no redirect line:\n%s", bob.stderr)
	}
	carol.command(t, "key=CANCEL")
	eventually(t, "alice to see carol's 486", func() bool { return alice.callState(t) == "" })
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ok() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// freeUDPTCPPort finds a port free for both UDP and TCP on 127.0.0.1.
func freeUDPTCPPort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		u.Close()
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

func TestCommandLineErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // in stderr or the returned error
		err  error
	}{
		{[]string{"--bogus"}, "unknown flag: --bogus", errUsage},
		{[]string{"stray"}, `unexpected argument "stray"`, errUsage},
		{[]string{"--expansion", "4"}, "--expansion 4: must be 0 to 3", nil},
		{[]string{"--mac", "xyz"}, `--mac "xyz": need 12 hex digits`, nil},
		{[]string{"--log-level", "loud"}, `--log-level "loud"`, nil},
		{[]string{"-s", "bad name=1"}, `bad setting name "bad name"`, nil},
		{[]string{"-c", "/nonexistent/phone.cfg"}, "/nonexistent/phone.cfg", nil},
		{[]string{"-s", "max_calls=99"}, "--set: error: max_calls: 99 is out of range 1–12", nil},
		{[]string{"-s", "dnd_mode=maybe"}, `dnd_mode: "maybe": want on or off`, nil},
		{[]string{"-s", "fkey3=banana"}, `fkey3: unknown function key type "banana"`, nil},
		{[]string{"-s", "fkey4=keyevent F_NOPE"}, `unknown keyevent "F_NOPE"`, nil},
		{[]string{"-s", "action_incoming_url=ftp://crm/x"}, "only http:// and https://", nil},
		{[]string{"-c", writeTemp(t, "bad.xml", "<settings><phone-settings>\n<max_calls>0</max_calls>\n</phone-settings></settings>")}, "bad.xml:2: error: max_calls: 0 is out of range 1–12", nil},
		{[]string{"-c", writeTemp(t, "cut.xml", "<settings><phone-settings>\n<max_calls>3")}, "cut.xml", nil},
	} {
		var stderr syncBuffer
		err := run(context.Background(), append(tc.args, "--http", "off", "--no-echo"), io.Discard, &stderr)
		if err == nil {
			t.Errorf("%v: no error", tc.args)
			continue
		}
		if tc.err != nil && !errors.Is(err, tc.err) {
			t.Errorf("%v: error %v, want %v", tc.args, err, tc.err)
		}
		if got := err.Error() + stderr.String(); !strings.Contains(got, tc.want) {
			t.Errorf("%v: %q does not say %q", tc.args, got, tc.want)
		}
	}
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// phonesim check prints every finding, with file, line and setting, and
// exits non-zero only on an error.
func TestCheckCommand(t *testing.T) {
	bad := writeTemp(t, "phone.cfg", "# phone\nuser_nmae1: 200\nmax_calls: 99\ndnd_mode: maybe\nfkey3: banana\nfkey40: line\n")
	good := writeTemp(t, "good.xml", `<settings><phone-settings><user_name idx="1">200</user_name></phone-settings></settings>`)
	for _, tc := range []struct {
		args []string
		err  error
		want []string
	}{
		{[]string{"-c", bad, "-s", "action_incomming_url=http://x/"}, errFindings, []string{
			bad + ":2: warning: user_nmae1: unknown setting (did you mean user_name1?)",
			bad + ":3: error: max_calls: 99 is out of range 1–12",
			bad + `:4: error: dnd_mode: "maybe": want on or off`,
			bad + `:5: error: fkey3: unknown function key type "banana"`,
			bad + ":6: warning: fkey40: P41 is on expansion module 1, which is not attached (expansion_modules=0)",
			"--set: warning: action_incomming_url: unknown setting (did you mean action_incoming_url?)",
			"FAIL: 6 settings in 1 files and 1 --set: 3 errors, 3 warnings",
		}},
		{[]string{"-c", good, "-s", "max_calls=6"}, nil, []string{"ok: 2 settings in 1 files and 1 --set: 0 errors, 0 warnings"}},
		{[]string{"-c", bad, "--expansion", "1"}, errFindings, []string{"3 errors, 1 warnings"}},
		{[]string{}, errUsage, nil},
	} {
		var stdout, stderr syncBuffer
		err := run(context.Background(), append([]string{"check"}, tc.args...), &stdout, &stderr)
		if !errors.Is(err, tc.err) && !(err == nil && tc.err == nil) {
			t.Errorf("check %v: error %v, want %v\n%s%s", tc.args, err, tc.err, stdout.String(), stderr.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(stdout.String(), w) {
				t.Errorf("check %v: output lacks %q:\n%s", tc.args, w, stdout.String())
			}
		}
	}
}
