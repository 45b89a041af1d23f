package interop

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Sipp is one sipp run of a scenario from peers/sipp.
type Sipp struct {
	*Proc
	Port      int    // SIP port (-p), UDP
	MediaPort int    // RTP port (-mp)
	Addr      string // 127.0.0.1:Port
	Messages  string // file with every message sent and received
}

// StartSipp runs sipp with the scenario peers/sipp/<scenario> for one call
// (-m 1) on free ports of 127.0.0.1. remote is the address to send to
// ("" for a callee); args are further options (-s, -key, -au, -d, ...).
// Each call must end within 30 s (-timeout_error): sipp exits 0 when the
// call went as the scenario says.
func StartSipp(t testing.TB, scenario, remote string, args ...string) *Sipp {
	t.Helper()
	bin := Tool(t, "sipp")
	dir := peerDir(t, "sipp")
	s := &Sipp{
		Port:      FreePort(t),
		MediaPort: FreePortRange(t, 4), // sipp uses mp and mp+2 (RTP, RTCP)
		Messages:  filepath.Join(dir, "messages.log"),
	}
	s.Addr = fmt.Sprintf("127.0.0.1:%d", s.Port)
	var full []string
	if remote != "" {
		full = append(full, remote)
	}
	full = append(full,
		"-sf", PeerFile(t, "sipp/"+scenario),
		"-i", "127.0.0.1", "-p", strconv.Itoa(s.Port),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(s.MediaPort),
		"-m", "1", "-nostdin",
		"-timeout", "30s", "-timeout_error",
		"-trace_msg", "-message_file", s.Messages,
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
	)
	full = append(full, args...)
	s.Proc = Start(t, "sipp-"+scenario, dir, bin, full...)
	errors := filepath.Join(dir, "errors.log")
	s.Report = func() string {
		return "messages:\n" + tail(readFile(s.Messages), 60) + "\nerrors:\n" + tail(readFile(errors), 20)
	}
	if remote == "" {
		WaitUDPBound(t, s.Port, 10*time.Second)
	}
	return s
}

// Done waits for sipp to finish and fails the test unless it exited 0,
// showing the messages it traced.
func (s *Sipp) Done(t testing.TB) {
	t.Helper()
	if rc := s.Wait(t, 40*time.Second); rc != 0 {
		t.Errorf("%s exited %d (its messages follow at the end of the test)", s.Name, rc)
	}
}
