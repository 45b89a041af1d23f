//go:build interop

package interop

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"phonesim/fleet"
)

// startFleetKamailio starts kamailio as StartKamailio does, with the
// test users and users first..first+n-1 added (password "<user>-pw").
func startFleetKamailio(t *testing.T, first, n int) *Kamailio {
	t.Helper()
	users := make([]string, n)
	for i := range users {
		users[i] = strconv.Itoa(first + i)
	}
	return StartKamailioUsers(t, users)
}

func writeScenario(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "scenario.txt")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// fleetArgs: max_calls=12, because random callers now and then meet at
// one callee, and with snom's 4 appearances the fifth call is answered
// 486 (about one call in a thousand, seen in CI): the busy rule is not
// what these tests are about.
func fleetArgs(k *Kamailio, n, first int, scenario, results, shard string, d time.Duration) []string {
	return []string{"fleet", "-n", strconv.Itoa(n), "--first-user", strconv.Itoa(first), "--ramp", "50",
		"-s", "user_host1=" + k.Addr, "-s", "user_pass1={user}-pw", "-s", "max_calls=12",
		"--scenario", scenario, "--duration", d.String(), "--results", results, "--shard", shard, "--quiet"}
}

// TestFleetKamailio: 200 phones register at kamailio, half of them call
// the other half for 20 s; every call must be answered (or cut by the
// end of the run).
func TestFleetKamailio(t *testing.T) {
	const n, first = 200, 2000
	k := startFleetKamailio(t, first, n)
	sc := writeScenario(t, "callers 50%\ncall random every 4s\nanswer after 200ms\ndtmf 1\ntalk 1s\n")
	results := filepath.Join(t.TempDir(), "r.jsonl")
	// ramp: 200 phones at 50/s take 4 s; then 20 s of calls
	cmd := exec.Command(PhoneBinary(t), fleetArgs(k, n, first, sc, results, "0/1", 26*time.Second)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("fleet: %v\n%s", err, out)
	}
	r, err := fleet.ReadFiles([]string{results})
	if err != nil {
		t.Fatal(err)
	}
	rows := r.Table()
	all := rows[len(rows)-1]
	var tbl strings.Builder
	_ = fleet.WriteTable(&tbl, rows)
	t.Logf("\n%s", tbl.String())
	if all.Registered != n || all.Phones != n {
		t.Errorf("registered %d of %d", all.Registered, all.Phones)
	}
	if all.Answered < 300 {
		t.Errorf("only %d calls answered", all.Answered)
	}
	for cause, c := range all.Failed {
		t.Errorf("%d calls failed: %s", c, cause)
	}
}

// TestFleetShards runs a fleet as 3 shards in separate processes against
// one kamailio (calls cross the shards through it) and merges their
// results with "phonesim fleet report".
func TestFleetShards(t *testing.T) {
	const n, first = 30, 2200
	k := startFleetKamailio(t, first, n)
	sc := writeScenario(t, "call random every 3s\nanswer after 100ms\ntalk 500ms\n")
	dir := t.TempDir()
	var files []string
	var cmds []*exec.Cmd
	outs := make([]*strings.Builder, 3)
	for i := range 3 {
		res := filepath.Join(dir, fmt.Sprintf("shard%d.jsonl", i))
		files = append(files, res)
		cmd := exec.Command(PhoneBinary(t), fleetArgs(k, n, first, sc, res, fmt.Sprintf("%d/3", i), 10*time.Second)...)
		outs[i] = &strings.Builder{}
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("shard %d: %v\n%s", i, err, outs[i])
		}
	}
	out, err := exec.Command(PhoneBinary(t), append([]string{"fleet", "report", "--plot", filepath.Join(dir, "p.svg")}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	t.Logf("fleet report:\n%s", out)
	r, err := fleet.ReadFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	rows := r.Table()
	if len(rows) != 4 {
		t.Fatalf("want 3 shards and all: %+v", rows)
	}
	for i, row := range rows[:3] {
		if row.Phones != 10 || row.Registered != 10 || row.Answered == 0 {
			t.Errorf("shard %d: %+v", i, row)
		}
	}
	// the shards' users are disjoint: 2200-2209, 2210-2219, 2220-2229
	for _, c := range r.Calls {
		u, _ := strconv.Atoi(c.Caller)
		if (u-first)/10 != c.Shard {
			t.Errorf("caller %s in shard %d", c.Caller, c.Shard)
		}
	}
	if all := rows[3]; all.Phones != n || all.Registered != n {
		t.Errorf("merged: %+v", all)
	}
}
