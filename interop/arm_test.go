//go:build qemu

// Tier 5: static linux/arm (ARMv7) and linux/arm64 builds of cmd/phonesim,
// run under qemu-user. The tag is "qemu", not "arm": -tags arm would switch on
// every GOARCH=arm file of the standard library in an amd64 build.

package interop

import (
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestARMBuildsRunUnderQEMU(t *testing.T) {
	root := ModuleRoot(t)
	for _, tc := range []struct {
		goarch, goarm, qemu string
		machine             elf.Machine
	}{
		{"arm", "7", "qemu-arm-static", elf.EM_ARM},
		{"arm64", "", "qemu-aarch64-static", elf.EM_AARCH64},
	} {
		t.Run(tc.goarch, func(t *testing.T) {
			qemu := Tool(t, tc.qemu)
			bin := filepath.Join(t.TempDir(), "phonesim-"+tc.goarch)

			build := exec.Command(goTool(), "build", "-o", bin, "./cmd/phonesim")
			build.Dir = root
			build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+tc.goarch, "GOARM="+tc.goarm)
			start := time.Now()
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("GOARCH=%s go build ./cmd/phonesim: %v\n%s", tc.goarch, err, out)
			}
			t.Logf("built %s in %v", filepath.Base(bin), time.Since(start).Round(time.Millisecond))

			checkStaticELF(t, bin, tc.machine)

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, qemu, bin, "--version").CombinedOutput()
			if err != nil {
				t.Fatalf("%s %s --version: %v\n%s", filepath.Base(qemu), filepath.Base(bin), err, out)
			}
			version := strings.TrimSpace(string(out))
			if version == "" {
				t.Fatalf("%s --version printed nothing", filepath.Base(bin))
			}
			t.Logf("%s: %s", tc.qemu, version)

			out, err = exec.CommandContext(ctx, qemu, bin, "hwtest").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "absent") {
				t.Fatalf("hwtest under %s: %v\n%s", tc.qemu, err, out)
			}

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
