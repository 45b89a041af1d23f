package dispatch

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"phonesim/firmware"
)

// Apps runs the programs of client actions (type app). A program runs
// without a shell: argv[0] is the program, every other element exactly
// one argument, whatever it holds. Each run has a timeout after which the
// program's whole process group is killed, its output (stdout and stderr
// together) is captured up to a cap, and its outcome is one log line. A
// run never blocks the caller: it has a goroutine of its own, and at most
// MaxRunning run at once (more are refused and logged).
type Apps struct {
	cfg     AppsConfig
	running chan struct{}
	wg      sync.WaitGroup
}

// AppsConfig configures Apps. Zero fields take their defaults.
type AppsConfig struct {
	MaxRunning int // default 4
	MaxOutput  int // bytes of output kept; default 4 KiB
	// Logf receives the outcome lines; nil discards.
	Logf func(level firmware.Level, format string, args ...any)
	// Done, if set, is called with every outcome (from the run's goroutine).
	Done func(AppResult)
}

// AppResult is the outcome of one run.
type AppResult struct {
	Action   int
	Name     string
	Trigger  string
	Program  string
	Args     int
	Exit     int    // -1 when the program did not exit by itself
	Err      string // why it failed to start or was killed; "" when it exited
	Duration time.Duration
	Output   string // capped; OutputBytes is the whole size
	Bytes    int
}

// NewApps returns a runner.
func NewApps(cfg AppsConfig) *Apps {
	if cfg.MaxRunning <= 0 {
		cfg.MaxRunning = 4
	}
	if cfg.MaxOutput <= 0 {
		cfg.MaxOutput = 4 << 10
	}
	if cfg.Logf == nil {
		cfg.Logf = func(firmware.Level, string, ...any) {}
	}
	return &Apps{cfg: cfg, running: make(chan struct{}, cfg.MaxRunning)}
}

// Run starts e's program with the given timeout and returns at once.
// ctx ending kills it too.
func (a *Apps) Run(ctx context.Context, e firmware.RunApp, timeout time.Duration) {
	if len(e.Argv) == 0 || e.Argv[0] == "" {
		a.cfg.Logf(firmware.Warning, "client action %q: no program", e.Name)
		return
	}
	select {
	case a.running <- struct{}{}:
	default:
		a.cfg.Logf(firmware.Warning, "client action %q: %d programs already running, not started", e.Name, a.cfg.MaxRunning)
		return
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer func() { <-a.running }()
		r := a.run(ctx, e, timeout)
		a.log(r)
		if a.cfg.Done != nil {
			a.cfg.Done(r)
		}
	}()
}

// Wait waits for every run to end (tests, shutdown).
func (a *Apps) Wait() { a.wg.Wait() }

func (a *Apps) run(parent context.Context, e firmware.RunApp, timeout time.Duration) AppResult {
	r := AppResult{Action: e.Action, Name: e.Name, Trigger: e.Trigger, Program: e.Argv[0], Args: len(e.Argv) - 1, Exit: -1}
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.Argv[0], e.Argv[1:]...)
	out := &capped{max: a.cfg.MaxOutput}
	cmd.Stdout, cmd.Stderr = out, out
	inGroup(cmd) // the timeout kills the program and whatever it started
	// a child that keeps the output pipe open must not keep us waiting
	cmd.WaitDelay = time.Second
	start := time.Now()
	err := cmd.Run()
	r.Duration = time.Since(start)
	r.Output, r.Bytes = out.String(), out.n
	var exit *exec.ExitError
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		r.Err = "killed after " + timeout.String()
	case parent.Err() != nil:
		r.Err = "killed: the phone stopped"
	case errors.As(err, &exit):
		r.Exit = exit.ExitCode()
	case err != nil:
		r.Err = err.Error()
	default:
		r.Exit = 0
	}
	return r
}

func (a *Apps) log(r AppResult) {
	outcome := "exit " + strconv.Itoa(r.Exit)
	level := firmware.Info
	if r.Err != "" {
		outcome, level = r.Err, firmware.Warning
	} else if r.Exit != 0 {
		level = firmware.Warning
	}
	output := ""
	if r.Bytes > 0 {
		output = fmt.Sprintf(", output %q", strings.TrimSpace(r.Output))
		if r.Bytes > len(r.Output) {
			output += fmt.Sprintf("…(%d bytes)", r.Bytes)
		}
	}
	a.cfg.Logf(level, "client action %q (%s): %s with %d arguments: %s in %s%s",
		r.Name, r.Trigger, r.Program, r.Args, outcome, r.Duration.Round(100*time.Microsecond), output)
}

// capped keeps the first max bytes written and counts them all.
type capped struct {
	mu  sync.Mutex
	max int
	b   []byte
	n   int
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n += len(p)
	if room := c.max - len(c.b); room > 0 {
		c.b = append(c.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.b)
}
