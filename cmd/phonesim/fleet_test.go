package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"phonesim/fleet"
)

// TestFleetShardsAndReport runs two shards of a fleet side by side (no
// registrar: the phones call each other by address), then merges their
// results with "fleet report".
func TestFleetShardsAndReport(t *testing.T) {
	dir := t.TempDir()
	sc := filepath.Join(dir, "sc.txt")
	if err := os.WriteFile(sc, []byte("callers 50%\ncall random every 500ms\nanswer after 50ms\ndtmf 1#\nhold 100ms\ntalk 200ms\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// a CRM receiver for the callees' Action URLs: the results time them
	var hits atomic.Int64
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer crm.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out, errb bytes.Buffer
			errs[i] = run(ctx, []string{"fleet", "-n", "8", "--first-user", "3000", "--ramp", "0", "--quiet",
				"--scenario", sc, "--duration", "3s", "--shard", []string{"0/2", "1/2"}[i],
				"-s", "user_realname1=Phone {user} {mac}",
				"-s", "action_incoming_url=" + crm.URL + "/in?to=$local&from=$remote",
				"--results", filepath.Join(dir, []string{"r0.jsonl", "r1.jsonl"}[i])}, &out, &errb)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("shard %d: %v", i, err)
		}
	}
	r, err := fleet.ReadFiles([]string{filepath.Join(dir, "r0.jsonl"), filepath.Join(dir, "r1.jsonl")})
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]int{}
	for _, c := range r.Calls {
		users[c.Caller] = c.Shard
		if c.Outcome != "answered" && c.Outcome != "stopped" {
			t.Errorf("call %+v", c)
		}
	}
	// shard 0 has users 3000-3003, shard 1 3004-3007; the first half of each calls
	for u, s := range users {
		if want := map[string]int{"3000": 0, "3001": 0, "3004": 1, "3005": 1}; want[u] != s || len(u) != 4 {
			t.Errorf("caller %s in shard %d", u, s)
		}
	}
	rows := r.Table()
	all := rows[len(rows)-1]
	if all.Phones != 8 || all.Registered != 8 || all.Answered < 8 {
		t.Fatalf("merged: %+v", all)
	}
	t.Logf("%d calls answered; %d Action URLs sent, p50 %.1f ms, p99 %.1f ms", all.Answered, all.URLs, all.URLP50, all.URLP99)
	// Every answered call fired action_incoming_url at the receiver
	// first; a URL the end of the run cut short reached the receiver but
	// is not in the results.
	if all.URLs < all.Answered || all.URLFailed != 0 || int64(all.URLs) > hits.Load() || all.URLP99 <= 0 {
		t.Errorf("Action URLs: %d sent (%d failed, p50 %.1f ms, p99 %.1f ms), %d reached the receiver, %d calls answered",
			all.URLs, all.URLFailed, all.URLP50, all.URLP99, hits.Load(), all.Answered)
	}
	var out, errb bytes.Buffer
	plot := filepath.Join(dir, "p.svg")
	csv := filepath.Join(dir, "calls.csv")
	if err := run(ctx, []string{"fleet", "report", filepath.Join(dir, "r0.jsonl"), filepath.Join(dir, "r1.jsonl"), "--plot", plot, "--csv", csv}, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	if !strings.Contains(out.String(), "all") || !strings.Contains(out.String(), "setup p50") || !strings.Contains(out.String(), "URL p99 ms") {
		t.Fatalf("table:\n%s", out.String())
	}
	for _, p := range []string{plot, csv} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", p, err)
		}
	}
}

// TestFleetWeb checks /api/state lists the phones with {user} and {mac}.
func TestFleetWeb(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- fleet.Run(ctx, fleet.Config{N: 3, FirstUser: 500, FirstMAC: "000413AAAAFE", HTTP: "127.0.0.1:0",
			Ready: func(a string) { addr <- a }})
	}()
	var a string
	select {
	case a = <-addr:
	case err := <-done:
		t.Fatal(err)
	}
	var st struct {
		Phones []fleet.PhoneState `json:"phones"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(st.Phones) < 3 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		b, err := httpGet("http://" + a + "/api/state")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
	}
	if len(st.Phones) != 3 || st.Phones[2].User != "502" || st.Phones[2].MAC != "000413AAAB00" || !st.Phones[0].Registered {
		t.Fatalf("state %+v", st.Phones)
	}
	for _, p := range st.Phones { // one shared SIP port
		if p.SIP != st.Phones[0].SIP {
			t.Errorf("phone %s on %s, phone %s on %s", p.User, p.SIP, st.Phones[0].User, st.Phones[0].SIP)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestFleetUsage(t *testing.T) {
	for _, args := range [][]string{
		{"fleet", "-n", "0"},
		{"fleet", "--shard", "3/3"},
		{"fleet", "--shard", "x"},
		{"fleet", "--first-mac", "12"},
		{"fleet", "--sip", "nonsense"},
		{"fleet", "extra"},
		{"fleet", "report"},
	} {
		var out, errb bytes.Buffer
		if err := run(context.Background(), args, &out, &errb); !errors.Is(err, errUsage) {
			t.Errorf("%q: %v", args, err)
		}
	}
	dir := t.TempDir()
	sc := filepath.Join(dir, "bad.txt")
	_ = os.WriteFile(sc, []byte("hold 1s\ntalk\n"), 0o644)
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"fleet", "--scenario", sc}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "bad.txt:2: want: talk <duration>") {
		t.Fatalf("scenario error: %v", err)
	}
}

func httpGet(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}
