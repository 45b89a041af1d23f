package dispatch

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"phonesim/actionurl"
	"phonesim/firmware"
)

// The test binary doubles as the program a client action runs: with
// PHONESIM_APP_HELPER set it writes its arguments to that file, or sleeps.
func TestMain(m *testing.M) {
	switch mode := os.Getenv("PHONESIM_APP_HELPER"); {
	case mode == "":
		os.Exit(m.Run())
	case mode == "sleep":
		// start a grandchild that would outlive a kill of this process alone
		if pidFile := os.Getenv("PHONESIM_APP_CHILD"); pidFile != "" {
			c := exec.Command("sleep", "60")
			_ = c.Start()
			_ = os.WriteFile(pidFile, []byte(strconv.Itoa(c.Process.Pid)), 0o644)
		}
		time.Sleep(time.Minute)
	default:
		data, _ := json.Marshal(os.Args[1:])
		_ = os.WriteFile(mode, data, 0o644)
		os.Stdout.WriteString("hello from the app\n")
		os.Exit(3)
	}
}

func runOne(t *testing.T, e firmware.RunApp, timeout time.Duration) AppResult {
	t.Helper()
	done := make(chan AppResult, 1)
	var lines []string
	apps := NewApps(AppsConfig{Done: func(r AppResult) { done <- r },
		Logf: func(_ firmware.Level, f string, args ...any) { lines = append(lines, f) }})
	apps.Run(context.Background(), e, timeout)
	select {
	case r := <-done:
		return r
	case <-time.After(timeout + 10*time.Second):
		t.Fatal("the run never ended")
		return AppResult{}
	}
}

// Hostile values become literal single arguments: no shell ever sees
// them, so nothing they say is carried out.
func TestAppArgumentsAreLiteral(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "x")
	argsFile := filepath.Join(dir, "args.json")
	t.Setenv("PHONESIM_APP_HELPER", argsFile)
	hostile := []string{"$(id)", ";touch " + marker, "-e", "a\nb", `"""`, `"`, strings.Repeat("z", 4096), "`id`", "| touch " + marker, "&& rm -rf /"}
	vars := actionurl.Map{}
	var tmpl []string
	for i, h := range hostile {
		name := "v" + string(rune('a'+i))
		vars[name] = h
		tmpl = append(tmpl, "${"+name+"}")
	}
	self, err := os.Executable()
	require.NoError(t, err)
	argv := actionurl.ExpandArgs(actionurl.SplitArgs(`"`+self+`" --name=${va} `+strings.Join(tmpl, " ")), vars)
	r := runOne(t, firmware.RunApp{Action: 1, Name: "CRM", Trigger: "manual", Argv: argv}, 10*time.Second)
	assert.Equal(t, 3, r.Exit, "the program's exit code")
	assert.Equal(t, "hello from the app\n", r.Output)

	data, err := os.ReadFile(argsFile)
	require.NoError(t, err)
	var got []string
	require.NoError(t, json.Unmarshal(data, &got))
	// a line break stays inside its one argument: with no shell it is inert
	assert.Equal(t, append([]string{"--name=$(id)"}, hostile...), got)
	_, err = os.Stat(marker)
	assert.True(t, os.IsNotExist(err), "a marker file appeared: something ran a shell")
}

// A program that never exits is killed at its timeout, with everything it
// started (the process group).
func TestAppTimeoutKillsGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	t.Setenv("PHONESIM_APP_HELPER", "sleep")
	t.Setenv("PHONESIM_APP_CHILD", pidFile)
	self, err := os.Executable()
	require.NoError(t, err)
	start := time.Now()
	r := runOne(t, firmware.RunApp{Name: "Hang", Argv: []string{self}}, 500*time.Millisecond)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Equal(t, "killed after 500ms", r.Err)
	assert.Equal(t, -1, r.Exit)
	pid, err := os.ReadFile(pidFile)
	require.NoError(t, err, "the helper did not start its child")
	n, err := strconv.Atoi(string(pid))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return syscall.Kill(n, 0) != nil }, 5*time.Second, 20*time.Millisecond,
		"the grandchild %d outlived the timeout", n)
}

func TestAppNotFoundAndCap(t *testing.T) {
	r := runOne(t, firmware.RunApp{Name: "Missing", Argv: []string{"/nonexistent/program"}}, time.Second)
	assert.Contains(t, r.Err, "no such file")
	c := &capped{max: 4}
	_, _ = c.Write([]byte("abcdef"))
	_, _ = c.Write([]byte("gh"))
	assert.Equal(t, "abcd", c.String())
	assert.Equal(t, 8, c.n)
}
