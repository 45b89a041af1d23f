package interop

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Phone is a running phonesim, headless, on free ports of 127.0.0.1.
type Phone struct {
	*Proc
	SIPPort  int
	HTTPPort int
	SIPAddr  string // 127.0.0.1:SIPPort, UDP and TCP
	URL      string // http://127.0.0.1:HTTPPort
	Data     string // --data folder

	t testing.TB
}

// State is the part of GET /api/state the interop tests read (DESIGN.md,
// "Interface contract"); Raw holds the whole document.
type State struct {
	Hook       string `json:"hook"` // on-hook | handset | hands-free | headset
	DND        bool   `json:"dnd"`
	Calls      []Call `json:"calls"`
	Identities []struct {
		User       string `json:"user"`
		Host       string `json:"host"`
		Registered bool   `json:"registered"`
		RegError   string `json:"reg_error"`
	} `json:"identities"`
	Raw map[string]any
}

// Call is one call appearance in State.
type Call struct {
	ID        string `json:"id"`
	State     string `json:"state"` // dialing | calling | ringing | early-media | connected | on-hold | ended
	Direction string `json:"direction"`
	Remote    string `json:"remote"`
	Display   string `json:"display"`
	Name      string `json:"name"` // the phone book's name
}

// StartPhone builds cmd/phonesim (once per test binary) and starts it with
// --headless --sip 127.0.0.1:<free> --http 127.0.0.1:<free> --data <tempdir>
// and args (e.g. "-s", "user_name1=100"), then waits until /api/state answers.
func StartPhone(t testing.TB, args ...string) *Phone {
	t.Helper()
	return StartPhoneCommand(t, []string{PhoneBinary(t)}, args...)
}

// StartPhoneCommand is StartPhone with the command that runs the phone
// given: a binary, or an emulator and a binary ("qemu-arm-static", bin).
func StartPhoneCommand(t testing.TB, command []string, args ...string) *Phone {
	t.Helper()
	dir := peerDir(t, "phonesim")
	p := &Phone{SIPPort: FreePort(t), HTTPPort: FreePort(t), Data: filepath.Join(dir, "data"), t: t}
	p.SIPAddr = fmt.Sprintf("127.0.0.1:%d", p.SIPPort)
	p.URL = fmt.Sprintf("http://127.0.0.1:%d", p.HTTPPort)
	if err := os.Mkdir(p.Data, 0o755); err != nil {
		t.Fatal(err)
	}
	full := append([]string{
		"--headless",
		"--sip", p.SIPAddr,
		"--http", fmt.Sprintf("127.0.0.1:%d", p.HTTPPort),
		"--data", p.Data,
	}, args...)
	p.Proc = Start(t, "phonesim", dir, command[0], append(command[1:len(command):len(command)], full...)...)
	p.Report = func() string {
		if p.Exited() {
			return ""
		}
		body, err := p.get("/log.txt")
		if err != nil {
			return ""
		}
		return "/log.txt:\n" + tail(body, 60)
	}
	err := poll(15*time.Second, func() (bool, error) {
		if p.Exited() {
			return false, fmt.Errorf("phonesim exited (%v)", p.err)
		}
		_, err := p.get("/api/state")
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("phonesim web interface at %s: %v\n%s", p.URL, err, tail(p.Log(), 40))
	}
	return p
}

// Command sends GET /command.htm?<query>, e.g. "key=ENTER" or
// "number=sip:uas@127.0.0.1:5070", and fails the test unless it is answered 2xx.
func (p *Phone) Command(query string) {
	p.t.Helper()
	if _, err := p.get("/command.htm?" + query); err != nil {
		p.t.Fatalf("command %s: %v", query, err)
	}
}

// State returns the decoded GET /api/state.
func (p *Phone) State() State {
	p.t.Helper()
	s, err := p.state()
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

// WaitCall waits up to d for a call appearance in the given state and
// returns it.
func (p *Phone) WaitCall(state string, d time.Duration) Call {
	p.t.Helper()
	var found Call
	var last State
	err := poll(d, func() (bool, error) {
		s, err := p.state()
		if err != nil {
			return false, err
		}
		last = s
		for _, c := range s.Calls {
			if c.State == state {
				found = c
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		p.t.Fatalf("no %s call: %v; last calls: %+v", state, err, last.Calls)
	}
	return found
}

// WaitNoCalls waits up to d until the phone has no call appearance left
// (ended calls may linger a moment on the display).
func (p *Phone) WaitNoCalls(d time.Duration) {
	p.t.Helper()
	var last State
	err := poll(d, func() (bool, error) {
		s, err := p.state()
		if err != nil {
			return false, err
		}
		last = s
		for _, c := range s.Calls {
			if c.State != "ended" {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		p.t.Fatalf("calls still up: %v; last calls: %+v", err, last.Calls)
	}
}

func (p *Phone) state() (State, error) {
	body, err := p.get("/api/state")
	if err != nil {
		return State{}, err
	}
	var s State
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		return State{}, fmt.Errorf("/api/state: %w: %s", err, body)
	}
	if err := json.Unmarshal([]byte(body), &s.Raw); err != nil {
		return State{}, fmt.Errorf("/api/state: %w", err)
	}
	return s, nil
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

func (p *Phone) get(path string) (string, error) {
	resp, err := httpClient.Get(p.URL + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode/100 != 2 {
		return string(b), fmt.Errorf("GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(b)))
	}
	return string(b), nil
}

var phoneBuild struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// PhoneBinary builds ./cmd/phonesim once per test binary and returns its
// path. CleanupBuilds removes it (call it from TestMain).
func PhoneBinary(t testing.TB) string {
	t.Helper()
	b := &phoneBuild
	b.once.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			b.err = err
			return
		}
		b.dir, b.err = os.MkdirTemp("", "phonesim-interop-")
		if b.err != nil {
			return
		}
		b.bin = filepath.Join(b.dir, "phonesim")
		cmd := exec.Command(goTool(), "build", "-o", b.bin, "./cmd/phonesim")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build ./cmd/phonesim: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.bin
}

// CleanupBuilds removes what PhoneBinary built.
func CleanupBuilds() {
	if phoneBuild.dir != "" {
		os.RemoveAll(phoneBuild.dir)
	}
}
