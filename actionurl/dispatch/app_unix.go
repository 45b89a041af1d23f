//go:build unix

package dispatch

import (
	"os/exec"
	"syscall"
)

// inGroup starts the program in a process group of its own and makes the
// context's end kill that whole group.
func inGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
