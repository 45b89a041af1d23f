package fleet

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The measurements of docs/fleet.md. Run:
//
//	go test ./fleet -run '^$' -bench 'IdlePhones|PhoneToPhoneCall' -benchtime 1x -count 1
//
// They are benchmarks, not tests: nothing here fails on a figure.

func rssBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func benchFleet(b *testing.B, sc *Scenario) *Fleet {
	if sc == nil {
		sc = DefaultScenario()
	}
	return &Fleet{cfg: Config{FirstUser: 1000, FirstMAC: "000413000000", Scenario: sc}, rec: NewRecorder(nil, 0)}
}

// BenchmarkIdlePhones starts n phones in one process (no registrar: a
// local identity is "registered" once its transport is up), lets them
// idle, and reports heap and RSS per phone and the CPU they use idling.
func BenchmarkIdlePhones(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for range b.N {
				ctx, cancel := context.WithCancel(context.Background())
				f := benchFleet(b, nil)
				heap0, rss0 := heapInuse(), rssBytes()
				if err := f.startAll(ctx, 0, n); err != nil {
					b.Fatal(err)
				}
				time.Sleep(time.Second) // boot done
				heap1, rss1 := heapInuse(), rssBytes()
				cpu0, t0 := cpuTime(), time.Now()
				time.Sleep(3 * time.Second)
				cpu := float64(cpuTime()-cpu0) / float64(time.Since(t0))
				b.ReportMetric(float64(heap1-heap0)/float64(n)/1024, "heap-kB/phone")
				b.ReportMetric(float64(rss1-rss0)/float64(n)/1024, "rss-kB/phone")
				b.ReportMetric(cpu*100, "idle-%core")
				b.ReportMetric(float64(runtime.NumGoroutine())/float64(n), "goroutines/phone")
				cancel()
				for _, p := range f.phones {
					<-p.Dev.Done()
				}
				f.closeHost()
			}
		})
	}
}

// BenchmarkPhoneToPhoneCall places b.N calls from one phone to another
// (auto answer), one after the other: dial, connected, hang up. It
// reports CPU and allocation per call, both phones together.
func BenchmarkPhoneToPhoneCall(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := benchFleet(b, &Scenario{Callers: 50, Target: "random", Every: time.Hour, Timeout: 10 * time.Second})
	if err := f.startAll(ctx, 0, 2); err != nil {
		b.Fatal(err)
	}
	defer func() {
		cancel()
		for _, p := range f.phones {
			<-p.Dev.Done()
		}
		f.closeHost()
	}()
	caller := f.phones[0]
	f.callees = f.phones[1:]
	a := newActor(ctx, f, caller)
	defer a.stop()
	a.call() // warm up
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		a.call()
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&m1)
	t := f.rec.Totals()
	if t.Answered != b.N+1 {
		b.Fatalf("%d of %d calls answered: %+v", t.Answered, b.N+1, t)
	}
	b.ReportMetric(float64(cpu)/float64(b.N)/1e6, "cpu-ms/call")
	b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(b.N)/1024, "alloc-kB/call")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N), "allocs/call")
}
