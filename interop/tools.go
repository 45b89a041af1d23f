package interop

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// inCI reports whether the CI variable is set (to anything but "" or "false").
func inCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

// Tool returns the path of an external program the test needs. When it is
// absent the test is skipped, or fails under CI, where .ci/run has installed it.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if inCI() {
		t.Fatalf("%s not found on PATH (CI installs it: see .ci/run): %v", name, err)
	}
	t.Skipf("%s not installed (apt-get install sip-tester baresip kamailio qemu-user-static)", name)
	return ""
}

// ModuleRoot returns the directory holding go.mod, found by walking up from
// the working directory (a test runs in its package's directory).
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("interop: no go.mod above the working directory")
		}
		dir = parent
	}
}

// goTool returns the go command that runs this test: the one on PATH, else
// the one in GOROOT.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}

// readFile returns the file's content, or why there is none.
func readFile(name string) string {
	b, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return "(none)"
	}
	if err != nil {
		return err.Error()
	}
	return string(b)
}
