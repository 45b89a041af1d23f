package fleet

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
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
// idle, and reports heap and RSS per phone and the CPU they use idling,
// over one minute: an idle phone wakes once a minute (its clock), all at
// the same moment, so a shorter window would find either no wake or one
// in a few seconds. About a minute per size.
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
				time.Sleep(time.Minute)
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

// BenchmarkPhoneToPhoneCall places b.N calls from one phone to others
// (auto answer), one after the other: dial, connected, hang up. It
// reports CPU and allocation per call, both phones together. The callees
// take turns: a callee called again at once would see the new INVITE
// race the last call's BYE and hold that call (a re-INVITE, answered
// 481), which is not the cost of a call.
func BenchmarkPhoneToPhoneCall(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const callees = 8
	f := benchFleet(b, &Scenario{Callers: 50, Target: "random", Every: time.Hour, Timeout: 10 * time.Second})
	if err := f.startAll(ctx, 0, 1+callees); err != nil {
		b.Fatal(err)
	}
	turn := 0
	nextCallee := func() {
		f.mu.Lock()
		f.callees = f.phones[1+turn%callees : 2+turn%callees]
		f.mu.Unlock()
		turn++
	}
	defer func() {
		cancel()
		for _, p := range f.phones {
			<-p.Dev.Done()
		}
		f.closeHost()
	}()
	caller := f.phones[0]
	a := newActor(ctx, f, caller)
	defer a.stop()
	nextCallee()
	a.call() // warm up
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		nextCallee()
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

// BenchmarkBurstMemory: 200 phones, half of them calling the other half
// at 400 calls a second for 15 s (one-second calls), then all idle. It
// reports the heap and RSS at the end of the burst and 5 s and 40 s after
// (sipgo keeps a finished transaction up to 32 s, Timer J), and the calls
// answered. Run alone:
//
//	go test ./fleet -run '^$' -bench BurstMemory -benchtime 1x
func BenchmarkBurstMemory(b *testing.B) {
	if os.Getenv("BURST_HEAP") != "" {
		runtime.MemProfileRate = 4096
	}
	for range b.N {
		ctx, cancel := context.WithCancel(context.Background())
		f := benchFleet(b, &Scenario{Callers: 50, Target: "random", Every: 250 * time.Millisecond,
			Talk: time.Second, Timeout: 10 * time.Second})
		if err := f.startAll(ctx, 0, 200); err != nil {
			b.Fatal(err)
		}
		rss0 := rssBytes()
		go f.report(ctx, 200) // as Run does: the release once the fleet is quiet
		burst, stop := context.WithTimeout(ctx, 15*time.Second)
		ncallers := len(f.phones) / 2
		f.callees = f.phones[ncallers:]
		for i, p := range f.phones {
			f.wg.Add(1)
			go f.act(burst, p, i < ncallers)
		}
		<-burst.Done()
		f.wg.Wait()
		stop()
		at := func(label string) {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			b.ReportMetric(float64(m.HeapInuse)/(1<<20), "heap-MiB-"+label)
			b.ReportMetric(float64(rssBytes())/(1<<20), "rss-MiB-"+label)
		}
		r0 := releases.Load()
		at("end")
		time.Sleep(5 * time.Second)
		at("5s")
		b.ReportMetric(float64(releases.Load()-r0), "releases-by-5s")
		b.ReportMetric(float64(runtime.NumGoroutine()), "goroutines-5s")
		if path := os.Getenv("BURST_HEAP"); path != "" {
			if fh, err := os.Create(path + ".5s"); err == nil {
				_ = pprof.Lookup("heap").WriteTo(fh, 0)
				fh.Close()
			}
		}
		time.Sleep(35 * time.Second) // past Timer J
		at("40s")
		runtime.GC()
		at("40s-gc")
		if path := os.Getenv("BURST_HEAP"); path != "" { // a heap profile after the burst
			runtime.GC()
			if fh, err := os.Create(path); err == nil {
				_ = pprof.Lookup("heap").WriteTo(fh, 0)
				fh.Close()
			}
		}
		t := f.rec.Totals()
		b.ReportMetric(float64(rss0)/(1<<20), "rss-MiB-before")
		b.ReportMetric(float64(t.Attempted), "calls")
		b.ReportMetric(float64(t.Answered), "answered")
		cancel()
		for _, p := range f.phones {
			<-p.Dev.Done()
		}
		f.closeHost()
	}
}
