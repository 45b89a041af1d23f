//go:build interop

package interop

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkIdleRegisteredPhones: a fleet of n phones registered at
// kamailio (each with its registration refresh running), idle; it
// reports the fleet process's resident memory per phone, above that of a
// fleet of one measured the same way, and the CPU the fleet uses over a
// minute of idling. About six minutes:
//
//	go test -tags interop -run '^$' -bench IdleRegisteredPhones -benchtime 1x -v ./interop/
func BenchmarkIdleRegisteredPhones(b *testing.B) {
	bin := PhoneBinary(b)
	const first = 40000
	users := make([]string, 10000)
	for i := range users {
		users[i] = strconv.Itoa(first + i)
	}
	k := StartKamailioUsers(b, users, "--debug=1", "-m", "256")
	var baseRSS uint64
	for _, n := range []int{1, 1000, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for range b.N {
				rss, cpu := idleFleet(b, k, bin, first, n)
				if n == 1 {
					baseRSS = rss
					b.ReportMetric(float64(rss)/1024, "rss-kB")
				} else if baseRSS > 0 {
					b.ReportMetric(float64(rss-baseRSS)/float64(n-1)/1024, "rss-kB/phone")
				}
				b.ReportMetric(cpu*100, "idle-%core")
			}
		})
	}
}

// idleFleet runs a fleet of n registering phones until all are
// registered, lets it settle, and returns its RSS and the share of a core
// it used over the next minute.
func idleFleet(b *testing.B, k *Kamailio, bin string, first, n int) (rss uint64, cpu float64) {
	dir := peerDir(b, "fleet-idle")
	res := filepath.Join(dir, "idle.jsonl")
	f := Start(b, "fleet-idle", dir, bin, "fleet", "-n", strconv.Itoa(n), "--first-user", strconv.Itoa(first),
		"--ramp", "1000", "-s", "user_host1="+k.Addr, "-s", "user_pass1={user}-pw",
		"--duration", "10m", "--results", res, "--quiet")
	defer f.Stop()
	if err := poll(time.Duration(n/1000)*time.Second+30*time.Second, func() (bool, error) {
		sec, _ := lastSecond(res)
		return sec != nil && sec.Registered == n, nil
	}); err != nil {
		sec, _ := lastSecond(res)
		b.Fatalf("%d phones: not all registered: %v (last second %+v)\n%s", n, err, sec, tail(f.Log(), 20))
	}
	// past the fleet's second release after its start (3 s and 35 s
	// into the quiet: sipgo keeps the REGISTER transactions 32 s)
	time.Sleep(40 * time.Second)
	rss = procRSS(b, f.Pid())
	cpu0, t0 := procCPU(b, f.Pid()), time.Now()
	time.Sleep(time.Minute) // an idle phone's one wake (its clock)
	return rss, (procCPU(b, f.Pid()) - cpu0).Seconds() / time.Since(t0).Seconds()
}

// procRSS is a process's resident memory (VmRSS), in bytes.
func procRSS(b *testing.B, pid int) uint64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				b.Fatalf("VmRSS %q: %v", v, err)
			}
			return kb * 1024
		}
	}
	b.Fatalf("no VmRSS for %d", pid)
	return 0
}

// procCPU is the CPU time a process used so far (user and system), from
// /proc/PID/stat in clock ticks of 1/100 s (USER_HZ on Linux).
func procCPU(b *testing.B, pid int) time.Duration {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	// the command name, in parentheses, may hold spaces: count after it
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		b.Fatalf("stat of %d: %q", pid, s)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("stat of %d: %q", pid, s)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
