//go:build interop

package interop

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The call-rate benchmark (issue 10): the highest rate of calls with
// < 0.1 % failures that a sipp UAC → sipp UAS pair and two phonesim fleets
// (callers → callees) each sustain through one kamailio, in the same run.
//
//	go test -tags interop -run '^$' -bench CallRate -benchtime 1x ./interop/
//
// Each step runs one rate R (calls per second) for rateWindow; calls are
// answered at once and hung up by the caller after rateTalk. sipp sends no
// RTP; the phones send theirs (silence, a packet every 20 ms each way).
// A step passes when fewer than 0.1 % of its calls failed and the callers
// kept up (at least 90 % of R·window calls placed within the window, plus
// a second of slack). The search doubles R from a start until a step fails
// and then bisects: at most rateSteps steps, none started after the side's budget.
//
// PHONESIM_RATE_TALK sets rateTalk (a Go duration; "0s": calls hung up as
// soon as they are answered, signalling only on both sides).
// PHONESIM_RATE_FLEET=R runs only the fleets, one step at R calls/s, and
// PHONESIM_RATE_PROFILE=DIR has them write CPU profiles there
// (callers.pprof, callees.pprof): where a fleet's time goes under load.
// PHONESIM_RATE_DUMP=FILE: a caller fleet that does not end in time
// leaves its goroutines' stacks there.
var rateTalk = func() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("PHONESIM_RATE_TALK")); err == nil && d >= 0 {
		return d
	}
	return time.Second
}()

const (
	rateWindow = 10 * time.Second
	rateSteps  = 6
	// each search starts no step after its budget
	rateBudgetSipp  = 80 * time.Second
	rateBudgetFleet = 130 * time.Second
	// fleet: each caller calls every rateEvery (longer than a call, so a
	// caller is never behind); callees = rateCallees × callers, so that
	// few calls meet a callee already in a call.
	rateEvery   = 2 * time.Second
	rateCallees = 2
	rateMaxCPS  = 2400 // the fleet search stops here (kamailio users)
	rateFirst   = 30000
)

type rateStep struct {
	Rate      int
	Attempted int     // calls placed in the window
	Failed    int     // of them, failed
	Achieved  float64 // calls placed per second
	Causes    string  // failures by cause
	Note      string  // why the step could not be measured
}

func (s rateStep) pass() bool {
	return s.Attempted > 0 && s.Failed*1000 < s.Attempted &&
		s.Achieved >= 0.9*float64(s.Rate) && s.Note == ""
}

// searchRate runs try at increasing rates: doubling from start until a
// step fails, then bisecting between the best pass and the first failure.
func searchRate(b *testing.B, name string, start, ceiling int, budget time.Duration, try func(rate int) rateStep) int {
	deadline := time.Now().Add(budget)
	best, worst := 0, 0 // highest pass, lowest failure (0: none yet)
	rate := start
	for i := 0; i < rateSteps && rate > 0 && time.Now().Before(deadline); i++ {
		t0 := time.Now()
		s := try(rate)
		ok := s.pass()
		b.Logf("%s step %d: rate %d/s: attempted %d failed %d %s achieved %.1f/s %s -> %v (%.0fs)",
			name, i+1, rate, s.Attempted, s.Failed, s.Causes, s.Achieved, s.Note, map[bool]string{true: "pass", false: "FAIL"}[ok],
			time.Since(t0).Seconds())
		if ok {
			best = rate
		} else {
			worst = rate
		}
		switch {
		case worst == 0 && rate*2 <= ceiling:
			rate *= 2
		case worst == 0:
			rate = 0 // at the cap
		default:
			next := (best + worst) / 2
			if worst-best <= max(1, best/10) || next == best {
				rate = 0 // close enough
			} else {
				rate = next
			}
		}
	}
	return best
}

func BenchmarkCallRate(b *testing.B) {
	bin := PhoneBinary(b) // built once, before the clock matters
	// users: callees rateFirst.., callers as 9 followed by a callee's number
	maxCallees := rateMaxCPS * int(rateEvery/time.Second) * rateCallees
	users := []string{}
	for i := range maxCallees {
		users = append(users, strconv.Itoa(rateFirst+i))
		if i < maxCallees/rateCallees {
			users = append(users, "9"+strconv.Itoa(rateFirst+i))
		}
	}
	// --debug=1: no xlog line per message; -m 1024: 1 GiB of shared memory
	// (the default 64 MiB runs out of transactions at about 400 calls/s,
	// kamailio answering 500)
	k := StartKamailioUsers(b, users, "--debug=1", "-m", "1024")
	b.ResetTimer()

	if r, err := strconv.Atoi(os.Getenv("PHONESIM_RATE_FLEET")); err == nil && r > 0 {
		s := fleetStep(b, k, bin, r)
		b.Logf("fleet %d calls/s: pass=%v %+v", r, s.pass(), s)
		b.ReportMetric(s.Achieved, "fleet-calls/s")
		b.ReportMetric(0, "ns/op")
		return
	}
	uasPort := FreePort(b) // the sipp UAS's, the same in every step
	sipp := searchRate(b, "sipp", 400, 100000, rateBudgetSipp, func(r int) rateStep { return sippStep(b, k, uasPort, r) })
	phones := searchRate(b, "fleet", 200, rateMaxCPS, rateBudgetFleet, func(r int) rateStep { return fleetStep(b, k, bin, r) })

	b.ReportMetric(float64(sipp), "sipp-calls/s")
	b.ReportMetric(float64(phones), "fleet-calls/s")
	if sipp > 0 {
		b.ReportMetric(float64(phones)/float64(sipp), "fleet/sipp")
	}
	b.ReportMetric(0, "ns/op")
}

// sippStep: a sipp UAS registered at kamailio as user 200 (uas.xml,
// answers at once) and a sipp UAC (uac.xml) calling 200 through kamailio
// at rate for rateWindow, each call rateTalk long.
func sippStep(b *testing.B, k *Kamailio, uasPort, rate int) rateStep {
	bin := Tool(b, "sipp")
	dir := peerDir(b, "sipp-rate")
	// register the UAS's address (its port) as 200's contact; the same
	// contact each step (a new one would be added: kamailio would fork
	// every INVITE to the dead contacts of earlier steps too)
	reg := Start(b, "sipp-register", dir, bin, k.Addr, "-sf", PeerFile(b, "sipp/register-auth.xml"),
		"-s", "200", "-au", "200", "-ap", "200-pw",
		"-i", "127.0.0.1", "-p", strconv.Itoa(uasPort), "-m", "1", "-nostdin", "-timeout", "5s", "-timeout_error")
	if rc := reg.Wait(b, 10*time.Second); rc != 0 {
		b.Fatalf("sipp register exited %d:\n%s", rc, tail(reg.Log(), 20))
	}
	uas := Start(b, "sipp-uas", dir, bin, "-sf", PeerFile(b, "sipp/uas.xml"),
		"-i", "127.0.0.1", "-p", strconv.Itoa(uasPort),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(FreePortRange(b, 4)),
		"-nostdin", "-timeout", "60s")
	defer uas.Stop()
	WaitUDPBound(b, uasPort, 10*time.Second)

	n := rate * int(rateWindow/time.Second)
	stat := filepath.Join(dir, "uac-stat.csv")
	limit := rateWindow + rateTalk + 15*time.Second
	uac := Start(b, "sipp-uac", dir, bin, k.Addr, "-sf", PeerFile(b, "sipp/uac.xml"),
		"-s", "200", "-key", "caller", "rate", "-key", "display", "Rate",
		"-i", "127.0.0.1", "-p", strconv.Itoa(FreePort(b)),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(FreePortRange(b, 4)),
		"-r", strconv.Itoa(rate), "-m", strconv.Itoa(n), "-d", strconv.Itoa(int(rateTalk/time.Millisecond)),
		// a 180 relayed after the 200 (kamailio's two workers may reorder
		// uas.xml's back-to-back 180 and 200) is ignored, not a failure
		"-default_behaviors", "all,-abortunexp",
		"-nostdin", "-recv_timeout", "10000", "-timeout", strconv.Itoa(int(limit/time.Second))+"s",
		"-trace_stat", "-stf", stat, "-fd", "1")
	rc := uac.Wait(b, limit+10*time.Second)
	s := rateStep{Rate: rate}
	created, ok, failed, placedBy, causes := sippStat(b, stat, n)
	s.Causes = causes
	s.Attempted = created
	s.Failed = failed + (created - ok - failed) // calls neither successful nor failed: cut by -timeout
	if placedBy > 0 {
		s.Achieved = float64(created) / placedBy.Seconds()
		if placedBy <= rateWindow+time.Second {
			s.Achieved = max(s.Achieved, float64(rate)) // within the stat file's 1 s resolution
		}
	}
	if rc != 0 && rc != 1 {
		s.Note = fmt.Sprintf("(sipp exit %d)", rc)
	}
	return s
}

// sippStat reads sipp's -trace_stat file: calls created, successful and
// failed (cumulative, last line), and how long it took to create n calls
// (from the first line that has them all; 0 if none).
func sippStat(b *testing.B, path string, n int) (created, ok, failed int, placedBy time.Duration, causes string) {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Logf("sipp stat: %v", err)
		return
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 2 {
		return
	}
	col := map[string]int{}
	for i, h := range strings.Split(lines[0], ";") {
		col[h] = i
	}
	field := func(f []string, name string) string {
		if i, ok := col[name]; ok && i < len(f) {
			return f[i]
		}
		return ""
	}
	num := func(f []string, name string) int { v, _ := strconv.Atoi(field(f, name)); return v }
	epoch := func(f []string, name string) float64 {
		p := strings.Fields(field(f, name)) // "2026-11-30	16:27:29.400239	1796056049.400239"
		if len(p) == 0 {
			return 0
		}
		v, _ := strconv.ParseFloat(p[len(p)-1], 64)
		return v
	}
	for _, l := range lines[1:] {
		f := strings.Split(l, ";")
		created, ok, failed = num(f, "TotalCallCreated"), num(f, "SuccessfulCall(C)"), num(f, "FailedCall(C)")
		if placedBy == 0 && created >= n {
			placedBy = time.Duration((epoch(f, "CurrentTime") - epoch(f, "StartTime")) * float64(time.Second))
		}
	}
	last := strings.Split(lines[len(lines)-1], ";")
	var cs []string
	for h, i := range col {
		if strings.HasPrefix(h, "Failed") && strings.HasSuffix(h, "(C)") && h != "FailedCall(C)" && i < len(last) && last[i] != "0" {
			cs = append(cs, strings.TrimSuffix(strings.TrimPrefix(h, "Failed"), "(C)")+":"+last[i])
		}
	}
	sort.Strings(cs)
	if len(cs) > 0 {
		causes = "(" + strings.Join(cs, " ") + ")"
	}
	return
}

// fleetStep: fleet B (the callees: users rateFirst.., answering at once)
// registers at kamailio; then fleet A (the callers) calls random phones
// of B through kamailio for rateWindow, each caller every rateEvery.
// A's users are 9<B's first user>.. ("call random FIRST-LAST" names B's
// range). Callees have max_calls=12: calls meet at random
// callees (each then holds the other call, a re-INVITE), and with the
// default 4 appearances a callee with four calls answers 486 (about 1 call
// in 1 000 at 100 calls/s), which is the random choice, not the load.
func fleetStep(b *testing.B, k *Kamailio, bin string, rate int) rateStep {
	dir := peerDir(b, "fleet-rate")
	callers := rate * int(rateEvery/time.Second)
	callees := callers * rateCallees
	const ramp = 1000 // phones started (and registering) per second
	s := rateStep{Rate: rate}

	calleeSc := filepath.Join(dir, "callees.txt")
	callerSc := filepath.Join(dir, "callers.txt")
	if err := os.WriteFile(calleeSc, []byte("# answer at once (user_auto_connect1)\nanswer after 0s\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	sc := fmt.Sprintf("call random %d-%d every %v\ntalk %v\ntimeout 10s\n", rateFirst, rateFirst+callees-1, rateEvery, rateTalk)
	if err := os.WriteFile(callerSc, []byte(sc), 0o644); err != nil {
		b.Fatal(err)
	}
	common := []string{"--ramp", strconv.Itoa(ramp), "-s", "user_host1=" + k.Addr, "-s", "user_pass1={user}-pw", "--quiet"}
	profile := func(name string) []string {
		if d := os.Getenv("PHONESIM_RATE_PROFILE"); d != "" {
			return []string{"--cpuprofile", filepath.Join(d, name+".pprof")}
		}
		return nil
	}

	bRes := filepath.Join(dir, "callees.jsonl")
	fb := Start(b, "fleet-callees", dir, bin, append([]string{"fleet", "-n", strconv.Itoa(callees), "--first-user", strconv.Itoa(rateFirst),
		"-s", "max_calls=12", "--scenario", calleeSc, "--duration", "5m", "--results", bRes},
		append(common, profile("callees")...)...)...)
	defer fb.Stop()
	// wait until every callee is registered (the summary line of a second)
	regWait := time.Duration(callees/ramp)*time.Second + 15*time.Second
	if err := poll(regWait, func() (bool, error) {
		if fb.Exited() {
			return false, fmt.Errorf("callee fleet exited:\n%s", tail(fb.Log(), 20))
		}
		sec, _ := lastSecond(bRes)
		return sec != nil && sec.Registered == callees, nil
	}); err != nil {
		sec, _ := lastSecond(bRes)
		s.Note = fmt.Sprintf("(callees not registered: %v; last %+v)", err, sec)
		return s
	}

	aRes := filepath.Join(dir, "callers.jsonl")
	rampA := time.Duration(float64(callers) / ramp * float64(time.Second))
	dur := rampA + rateWindow + rateTalk + 2*time.Second
	callerFirst, _ := strconv.Atoi("9" + strconv.Itoa(rateFirst)) // the users kamailio knows (above)
	fa := Start(b, "fleet-callers", dir, bin, append([]string{"fleet", "-n", strconv.Itoa(callers), "--first-user", strconv.Itoa(callerFirst),
		"--scenario", callerSc, "--duration", dur.String(), "--results", aRes}, append(common, profile("callers")...)...)...)
	// an overloaded fleet may take long to hang up and unregister: the
	// step fails then, the benchmark goes on
	started := time.Now()
	if err := poll(dur+10*time.Second, func() (bool, error) { return fa.Exited(), nil }); err != nil {
		if path := os.Getenv("PHONESIM_RATE_DUMP"); path != "" {
			// what it waits on: Go prints every goroutine on SIGQUIT
			_ = syscall.Kill(fa.Pid(), syscall.SIGQUIT)
			time.Sleep(2 * time.Second)
			_ = os.WriteFile(path, []byte(fa.Log()), 0o644)
		}
		fa.Stop()
		s.Note = "(the caller fleet did not end in time: stopped)"
	} else if rc := fa.Wait(b, time.Second); rc != 0 {
		s.Note = fmt.Sprintf("(the caller fleet exited %d)", rc)
		b.Logf("caller fleet:\n%s", tail(fa.Log(), 20))
	} else {
		b.Logf("the caller fleet ended %v after its run's %v", (time.Since(started) - dur).Round(10*time.Millisecond), dur)
	}

	calls, err := readCalls(aRes)
	if err != nil {
		b.Fatal(err)
	}
	var t0 int64
	for _, c := range calls {
		if t0 == 0 || c.Start < t0 {
			t0 = c.Start
		}
	}
	outcomes := map[string]int{}
	for _, c := range calls {
		if c.Start < t0 || c.Start >= t0+rateWindow.Milliseconds() {
			continue
		}
		cause := c.Outcome
		if c.Outcome == "failed" {
			cause = fmt.Sprintf("failed:%d", c.Status)
		}
		outcomes[cause]++
		switch c.Outcome {
		case "stopped": // cut by the end of the run: not counted
		case "answered", "ended":
			s.Attempted++
		default:
			s.Attempted++
			s.Failed++
		}
	}
	s.Achieved = float64(s.Attempted) / rateWindow.Seconds()
	s.Causes = fmt.Sprint(outcomes)
	b.Logf("fleet rate %d/s: %d callers, %d callees", rate, callers, callees)
	return s
}

type rateCall struct {
	Type    string `json:"type"`
	Start   int64  `json:"start_ms"`
	Outcome string `json:"outcome"`
	Status  int    `json:"status"`
}

type rateSecond struct {
	Type       string `json:"type"`
	Phones     int    `json:"phones"`
	Registered int    `json:"registered"`
}

func readCalls(path string) ([]rateCall, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var calls []rateCall
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var c rateCall
		if json.Unmarshal(sc.Bytes(), &c) == nil && c.Type == "call" {
			calls = append(calls, c)
		}
	}
	return calls, sc.Err()
}

// lastSecond returns the last complete summary line of a results file
// being written.
func lastSecond(path string) (*rateSecond, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var last *rateSecond
	for _, l := range strings.Split(string(data), "\n") {
		var s rateSecond
		if json.Unmarshal([]byte(l), &s) == nil && s.Type == "second" {
			last = &s
		}
	}
	return last, nil
}
