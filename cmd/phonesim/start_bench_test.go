package main

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// BenchmarkStartToSetupURL measures process start (exec of the built
// binary) to the action_setup_url request arriving at a loopback
// receiver; the bar is 100 ms. It reports the median and the worst run.
func BenchmarkStartToSetupURL(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "phonesim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	hit := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case hit <- struct{}{}:
		default:
		}
	}))
	defer srv.Close()
	var took []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, "--headless", "--no-echo", "--sip", "127.0.0.1:0", "--http", "off",
			"-s", "action_setup_url="+srv.URL+"/setup?mac=$mac")
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		select {
		case <-hit:
			took = append(took, time.Since(start))
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			cmd.Wait()
			b.Fatal("no action_setup_url within 10 s")
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	b.StopTimer()
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
}
