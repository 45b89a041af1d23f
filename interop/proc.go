package interop

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Proc is a peer process started in a process group of its own, so that
// stopping it also stops the children it forked (kamailio's workers).
// Its standard output and error go to a log file in the test's directory and
// to memory, where WaitLog looks for lines.
type Proc struct {
	Name    string
	LogFile string

	// Report, when set, is what a failed test shows of this process instead
	// of the end of its output (sipp's message trace, the phone's log page).
	Report func() string

	cmd  *exec.Cmd
	out  *logBuffer
	done chan struct{} // closed when the process has exited
	err  error         // from Wait, valid after done
}

// Start starts bin with args in dir and stops it when the test ends. The
// process group gets SIGTERM, then SIGKILL if it lingers. When the test has
// failed, the end of the log is written to the test log.
func Start(t testing.TB, name, dir, bin string, args ...string) *Proc {
	t.Helper()
	logFile := filepath.Join(dir, name+".log")
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proc{Name: name, LogFile: logFile, out: &logBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Stdin = nil
	w := io.MultiWriter(f, p.out)
	p.cmd.Stdout, p.cmd.Stderr = w, w
	p.cmd.WaitDelay = 2 * time.Second
	// Own group: Stop signals the group. Pdeathsig: a test binary that dies
	// (panic, timeout) takes its peers with it.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	t.Logf("%s: pid %d: %s %s", name, p.cmd.Process.Pid, filepath.Base(bin), strings.Join(args, " "))
	go func() {
		p.err = p.cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		report := ""
		if t.Failed() {
			report = p.report() // before Stop: the phone's log page needs the phone
		}
		p.Stop()
		if t.Failed() {
			t.Logf("%s (pid %d):\n%s", name, p.Pid(), report)
		}
	})
	return p
}

func (p *Proc) report() string {
	if p.Report != nil {
		if r := p.Report(); r != "" {
			return r
		}
	}
	return tail(p.Log(), 40)
}

// Pid is the process id (and process group id).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Log returns what the process has written so far.
func (p *Proc) Log() string { return p.out.String() }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop ends the process group: SIGTERM, and SIGKILL after 5 s. It returns
// once the process has been reaped. Stopping twice is harmless.
func (p *Proc) Stop() {
	if p.Exited() {
		// the leader is gone; make sure no child survives it
		_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
		return
	}
	_ = syscall.Kill(-p.Pid(), syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
		<-p.done
	}
	_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
}

// Wait waits up to d for the process to exit by itself and returns its exit
// code. It fails the test when the process is still running after d.
func (p *Proc) Wait(t testing.TB, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("%s (pid %d) still running after %v", p.Name, p.Pid(), d)
	}
	var exit *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &exit):
		return exit.ExitCode()
	default:
		t.Fatalf("%s: %v", p.Name, p.err)
		return -1
	}
}

// WaitLog waits up to d until the output contains s. It fails the test if
// the process exits first or the time runs out.
func (p *Proc) WaitLog(t testing.TB, s string, d time.Duration) {
	t.Helper()
	err := poll(d, func() (bool, error) {
		if strings.Contains(p.Log(), s) {
			return true, nil
		}
		if p.Exited() {
			return false, fmt.Errorf("%s exited (%v) before logging %q", p.Name, p.err, s)
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("%s: waiting for %q: %v", p.Name, s, err)
	}
}

// poll calls f every 25 ms until it returns true or an error, or d has
// passed. Waiting on real peers has no event to block on, so it polls.
func poll(d time.Duration, f func() (bool, error)) error {
	deadline := time.Now().Add(d)
	for {
		ok, err := f()
		if ok || err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %v", d)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// logBuffer is a bytes.Buffer safe for one writer and many readers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
