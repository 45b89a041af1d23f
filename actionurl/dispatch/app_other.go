//go:build !unix

package dispatch

import "os/exec"

// inGroup: without process groups the context's end kills the program
// itself (exec's default).
func inGroup(*exec.Cmd) {}
