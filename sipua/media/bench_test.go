package media

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"
)

// pacingRun is how long each pacing benchmark sends.
const pacingRun = 10 * time.Second

// sink reads RTP on one socket and keeps each packet's arrival time by
// source and sequence number.
type sink struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  map[netip.AddrPort][]arrival
	done chan struct{}
}

type arrival struct {
	seq uint16
	at  time.Time
}

func newSink(b *testing.B) *sink {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	c.SetReadBuffer(4 << 20)
	s := &sink{conn: c, got: map[netip.AddrPort][]arrival{}, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			at := time.Now()
			if n >= 12 {
				s.mu.Lock()
				s.got[from] = append(s.got[from], arrival{binary.BigEndian.Uint16(buf[2:]), at})
				s.mu.Unlock()
			}
		}
	}()
	return s
}

// deviations: per source, each arrival's distance from the 20 ms grid
// that best fits the stream (the median offset), skipping the first
// half second.
func (s *sink) deviations() []time.Duration {
	s.conn.Close()
	<-s.done
	var all []time.Duration
	for _, as := range s.got {
		if len(as) < 50 {
			continue
		}
		as = as[25:]
		offs := make([]time.Duration, len(as))
		for i, a := range as {
			k := time.Duration(int16(a.seq - as[0].seq))
			offs[i] = a.at.Sub(as[0].at) - k*FrameInterval
		}
		sorted := append([]time.Duration(nil), offs...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
		med := sorted[len(sorted)/2]
		for _, o := range offs {
			d := o - med
			if d < 0 {
				d = -d
			}
			all = append(all, d)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	return all
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(q*float64(len(d))))]
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkRTPPacing measures how steadily sessions send on their 20 ms
// grid: "send" is the pacer's own measure (when the send returned, from
// the frame's deadline), "arrival" what a loopback receiver sees (from
// the grid that fits the stream best). sessions=N sends N streams to
// receivers that only read; calls=N runs N calls of two sessions each,
// both directions, jitter buffer and playout included. Each run sends
// for 3 s; run with -benchtime=1x.
//
//	go test ./sipua/media -run '^$' -bench RTPPacing -benchtime=1x
func BenchmarkRTPPacing(b *testing.B) {
	for _, tc := range []struct {
		name  string
		n     int
		calls bool
	}{{"sessions=1", 1, false}, {"sessions=50", 50, false}, {"calls=50", 50, true}} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				runPacing(b, tc.n, tc.calls)
			}
		})
	}
}

func runPacing(b *testing.B, n int, calls bool) {
	sk := newSink(b)
	var sessions []*Session
	open := func() *Session {
		s, err := Listen("127.0.0.1")
		if err != nil {
			b.Fatal(err)
		}
		sessions = append(sessions, s)
		return s
	}
	sinkAddr := sk.conn.LocalAddr().(*net.UDPAddr)
	for range n {
		if !calls {
			open().Start(Tone, Params{PayloadType: PayloadPCMU, Remote: sinkAddr, Send: true}, nil)
			continue
		}
		// a call: x and y talk to each other; the pacer's send measure
		// covers both (the sink stays idle)
		x, y := open(), open()
		x.Start(Tone, Params{PayloadType: PayloadPCMU, Remote: addr127(y), Send: true, Receive: true}, nil)
		y.Start(Tone, Params{PayloadType: PayloadPCMU, Remote: addr127(x), Send: true, Receive: true}, nil)
	}
	ResetPacing()
	cpu0, t0 := cpuTime(), time.Now()
	time.Sleep(pacingRun)
	cpu, wall := cpuTime()-cpu0, time.Since(t0)
	p := PacingStats()
	for _, s := range sessions {
		s.Close()
	}
	b.ReportMetric(ms(p.P50), "send-p50-ms")
	b.ReportMetric(ms(p.P99), "send-p99-ms")
	b.ReportMetric(ms(p.Max), "send-max-ms")
	if !calls {
		d := sk.deviations()
		b.ReportMetric(ms(quantile(d, 0.5)), "arrival-p50-ms")
		b.ReportMetric(ms(quantile(d, 0.99)), "arrival-p99-ms")
	} else {
		sk.deviations()
		var late uint64
		for _, s := range sessions {
			late += s.Stats().Late
		}
		b.ReportMetric(float64(late), "late-packets")
	}
	b.ReportMetric(100*float64(cpu)/float64(wall), "cpu-%")
	b.ReportMetric(float64(p.Frames), "frames")
}

func addr127(s *Session) *net.UDPAddr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.Port()}
}

// BenchmarkMemoryPerCall measures the memory a live call's media holds
// on one phone: one session, started, sending and receiving, its jitter
// buffer filled (heap in use plus goroutine stacks, after a GC, divided
// by the sessions). 50 calls between sessions of this process.
//
//	go test ./sipua/media -run '^$' -bench MemoryPerCall -benchtime=1x
func BenchmarkMemoryPerCall(b *testing.B) {
	const calls = 50
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var ss []*Session
		for range calls {
			x, err := Listen("127.0.0.1")
			if err != nil {
				b.Fatal(err)
			}
			y, err := Listen("127.0.0.1")
			if err != nil {
				b.Fatal(err)
			}
			x.Start(Tone, Params{PayloadType: PayloadPCMU, Remote: addr127(y), Send: true, Receive: true}, nil)
			y.Start(Tone, Params{PayloadType: PayloadPCMU, Remote: addr127(x), Send: true, Receive: true}, nil)
			ss = append(ss, x, y)
		}
		time.Sleep(500 * time.Millisecond)
		runtime.GC()
		runtime.ReadMemStats(&after)
		used := float64(after.HeapAlloc+after.StackInuse) - float64(before.HeapAlloc+before.StackInuse)
		var received uint64
		for _, s := range ss {
			received += s.Stats().PacketsReceived
			s.Close()
		}
		if received == 0 {
			b.Fatal("no media flowed")
		}
		b.ReportMetric(used/float64(len(ss)), "bytes/call")
		b.ReportMetric(float64(runtime.NumGoroutine()), "goroutines-after-close")
	}
}

// BenchmarkTickerBaseline is what a time.Ticker per session would give:
// the wake-up of N goroutines on their own 20 ms tickers, measured the
// same way as send-p50/p99 (no packets sent). It is why the pacer exists.
//
//	go test ./sipua/media -run '^$' -bench TickerBaseline -benchtime=1x
func BenchmarkTickerBaseline(b *testing.B) {
	for _, n := range []int{1, 50} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			for range b.N {
				var mu sync.Mutex
				var devs []time.Duration
				var wg sync.WaitGroup
				frames := int(pacingRun / FrameInterval)
				for range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						t := time.NewTicker(FrameInterval)
						defer t.Stop()
						anchor := time.Now()
						local := make([]time.Duration, 0, frames)
						for k := 1; k <= frames; k++ {
							<-t.C
							d := time.Since(anchor.Add(time.Duration(k) * FrameInterval))
							if d < 0 {
								d = -d
							}
							local = append(local, d)
						}
						mu.Lock()
						devs = append(devs, local...)
						mu.Unlock()
					}()
				}
				wg.Wait()
				sort.Slice(devs, func(i, j int) bool { return devs[i] < devs[j] })
				b.ReportMetric(ms(quantile(devs, 0.5)), "wake-p50-ms")
				b.ReportMetric(ms(quantile(devs, 0.99)), "wake-p99-ms")
			}
		})
	}
}

// BenchmarkWakeFloor is the machine's own floor: one goroutine doing
// nothing but the pacer's wait (Go timer, then nanosleep) to a 20 ms
// grid, measured the same way. Stalls here (a busy or virtual machine)
// show in every pacing figure.
//
//	go test ./sipua/media -run '^$' -bench WakeFloor -benchtime=1x
func BenchmarkWakeFloor(b *testing.B) {
	for range b.N {
		done := make(chan []time.Duration)
		go func() {
			frames := int(pacingRun / FrameInterval)
			devs := make([]time.Duration, 0, frames)
			anchor := time.Now()
			for k := 1; k <= frames; k++ {
				next := anchor.Add(time.Duration(k) * FrameInterval)
				if d := time.Until(next); d > coarseMargin {
					time.Sleep(d - coarseMargin)
				}
				if d := time.Until(next); d > 0 {
					preciseSleep(d)
				}
				devs = append(devs, time.Since(next))
			}
			done <- devs
		}()
		devs := <-done
		sort.Slice(devs, func(i, j int) bool { return devs[i] < devs[j] })
		b.ReportMetric(ms(quantile(devs, 0.5)), "wake-p50-ms")
		b.ReportMetric(ms(quantile(devs, 0.99)), "wake-p99-ms")
		b.ReportMetric(ms(devs[len(devs)-1]), "wake-max-ms")
	}
}
