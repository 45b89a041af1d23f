//go:build qemu

// Tier 5: static linux/arm (ARMv7) and linux/arm64 builds of cmd/phonesim,
// stripped as a board gets them, run under qemu-user (called explicitly:
// binfmt is not registered on these machines): --version, the hardware
// self-test against stand-in devices, a headless phone answering a call,
// and the armv7 boot time to action_setup_url. The tag is "qemu", not
// "arm": -tags arm would switch on every GOARCH=arm file of the standard
// library in an amd64 build.

package interop

import (
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"phonesim/hw/board"
	"phonesim/hwtest"
)

// maxStripped is DESIGN.md's bar for the stripped ARM binary.
const maxStripped = 15 << 20

type armTarget struct {
	goarch, goarm, qemu string
	machine             elf.Machine
	word                int // the kernel's long: struct input_event's layout
}

var armTargets = []armTarget{
	{"arm", "7", "qemu-arm-static", elf.EM_ARM, 4},
	{"arm64", "", "qemu-aarch64-static", elf.EM_AARCH64, 8},
}

// buildARM builds ./cmd/phonesim for a target into the test's temp
// folder, static and stripped (-s -w) as a board gets it, with no version
// stamped: --version must still say what it is, from the build info.
func buildARM(t *testing.T, tc armTarget) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "phonesim-"+tc.goarch)
	build := exec.Command(goTool(), "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/phonesim")
	build.Dir = ModuleRoot(t)
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+tc.goarch, "GOARM="+tc.goarm)
	start := time.Now()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("GOARCH=%s go build ./cmd/phonesim: %v\n%s", tc.goarch, err, out)
	}
	t.Logf("built %s in %v", filepath.Base(bin), time.Since(start).Round(time.Millisecond))
	return bin
}

func TestARMBuildsRunUnderQEMU(t *testing.T) {
	for _, tc := range armTargets {
		t.Run(tc.goarch, func(t *testing.T) {
			qemu := Tool(t, tc.qemu)
			bin := buildARM(t, tc)
			checkStaticELF(t, bin, tc.machine)
			st, err := os.Stat(bin)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s stripped: %d bytes (%.1f MiB; bar %d MiB)", filepath.Base(bin), st.Size(), float64(st.Size())/(1<<20), maxStripped>>20)
			if st.Size() > maxStripped {
				t.Errorf("%s is %d bytes: over the %d MiB bar", filepath.Base(bin), st.Size(), maxStripped>>20)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, qemu, bin, "--version").CombinedOutput()
			if err != nil {
				t.Fatalf("%s %s --version: %v\n%s", filepath.Base(qemu), filepath.Base(bin), err, out)
			}
			version := strings.TrimSpace(string(out))
			if version == "" || version == "phonesim dev" {
				t.Errorf("%s --version says %q: want the build info (main.go printing buildVersion(), cmd/phonesim/version.go)", filepath.Base(bin), version)
			}
			t.Logf("%s: %s", tc.qemu, version)

			// The self-test against stand-in devices laid out for the target.
			root := t.TempDir()
			if err := board.MakeStandIns(root, tc.word); err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(ctx, qemu, bin, "hwtest", "--auto", "--json", "--board", "qemu", "--root", root)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err = cmd.Output()
			var r hwtest.Report
			if jerr := json.Unmarshal(out, &r); jerr != nil || err != nil || !r.OK || r.Absent != 0 || r.Passed < 15 {
				t.Fatalf("hwtest --auto under %s: %v %v\n%s\n%s", tc.qemu, err, jerr, out, stderr.String())
			}
			var lines []string
			for _, f := range r.Findings {
				lines = append(lines, fmt.Sprintf("%-7s %-6s %s: %s", f.Part, f.Status, f.Check, f.Detail))
			}
			t.Logf("hwtest --auto under %s: %d passed, %d failed, %d absent\n%s", tc.qemu, r.Passed, r.Failed, r.Absent, strings.Join(lines, "\n"))

			// The emulated phone takes a real call from a host phone.
			arm := StartPhoneCommand(t, []string{qemu, bin}, "-s", "user_name1=arm", "--no-echo")
			host := StartPhone(t, "-s", "user_name1=100", "--no-echo")
			host.Command("number=sip:arm@" + arm.SIPAddr)
			arm.WaitCall("ringing", 20*time.Second)
			arm.Command("key=ENTER")
			host.WaitCall("connected", 20*time.Second)
			host.Command("key=ONHOOK")
			arm.WaitNoCalls(20 * time.Second)
		})
	}
}

// TestARMBootTime measures the armv7 binary under qemu-arm-static from
// process start to its action_setup_url request arriving at a receiver
// on 127.0.0.1, five times, and logs min and median. A figure, not a
// timed test: it fails only when no request comes at all.
func TestARMBootTime(t *testing.T) {
	tc := armTargets[0]
	qemu := Tool(t, tc.qemu)
	bin := buildARM(t, tc)
	arrived := make(chan time.Time, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		select {
		case arrived <- now:
		default:
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/setup?mac=$mac"

	var times []time.Duration
	for i := range 5 {
		select { // a late request of the run before
		case <-arrived:
		default:
		}
		cmd := exec.Command(qemu, bin, "--headless", "--sip", "127.0.0.1:0", "--http", "off", "--no-echo",
			"-s", "action_setup_url="+url)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		select {
		case at := <-arrived:
			times = append(times, at.Sub(start))
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("run %d: no action_setup_url request in 30 s\n%s", i+1, out.String())
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	slices.Sort(times)
	t.Logf("armv7 under qemu-arm-static, start → action_setup_url: min %v, median %v, max %v (%v)",
		times[0].Round(time.Millisecond), times[len(times)/2].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond), times)
}

// checkStaticELF fails unless bin is an ELF executable for machine with no
// program interpreter (statically linked, so it runs on a bare board).
func checkStaticELF(t *testing.T, bin string, machine elf.Machine) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != machine {
		t.Errorf("%s: ELF machine %v, want %v", filepath.Base(bin), f.Machine, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked (has PT_INTERP)", filepath.Base(bin))
		}
	}
}
