package media

import (
	"container/heap"
	"sync"
	"time"
)

// The pacer sends every session's frames on its own 20 ms grid.
//
// Go's timers wake up to a millisecond late on Linux (the runtime's poller
// sleeps in whole milliseconds), which alone would put the p99 deviation
// from the grid near 1 ms (BenchmarkTickerBaseline). So one goroutine per
// process serves all sessions: it waits for the earliest deadline on a Go
// timer until 2 ms before it, then with a plain nanosleep(2)
// (preciseSleep: microsecond wake-ups on Linux), and runs every session
// due within 100 µs. Each session's grid is fixed when it starts
// (deadline k = start + k·20 ms), so lateness never accumulates. The
// goroutine exists only while sessions do.

type paceEntry struct {
	s      *Session
	anchor time.Time
	k      int64
	next   time.Time
	idx    int // in the heap; -1 when removed
}

type paceHeap []*paceEntry

func (h paceHeap) Len() int           { return len(h) }
func (h paceHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h paceHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].idx = i; h[j].idx = j }
func (h *paceHeap) Push(x any)        { e := x.(*paceEntry); e.idx = len(*h); *h = append(*h, e) }
func (h *paceHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	e.idx = -1
	return e
}

type pacer struct {
	mu      sync.Mutex
	h       paceHeap
	running bool
	due     []dueTick

	// deviations of sent frames from their grid, in µs buckets
	hist    [pacingBuckets]uint64
	over    uint64 // beyond the last bucket
	samples uint64
	maxDev  time.Duration
}

type dueTick struct {
	e        *paceEntry
	deadline time.Time
	skipped  int
}

const (
	pacingBucket  = 10 * time.Microsecond
	pacingBuckets = 2000                   // 20 ms
	maxCatchUp    = 5                      // frames sent late in a row before the rest are skipped
	pacerEarly    = 100 * time.Microsecond // deadlines this close share a wake-up
	coarseMargin  = 2 * time.Millisecond   // a Go timer may wake this late
)

var thePacer pacer

func (p *pacer) add(s *Session) *paceEntry {
	now := time.Now()
	e := &paceEntry{s: s, anchor: now, k: 1, next: now.Add(FrameInterval)}
	p.mu.Lock()
	heap.Push(&p.h, e)
	if !p.running {
		p.running = true
		go p.run()
	}
	p.mu.Unlock()
	return e
}

func (p *pacer) remove(e *paceEntry) {
	p.mu.Lock()
	if e.idx >= 0 {
		heap.Remove(&p.h, e.idx)
	}
	p.mu.Unlock()
}

func (p *pacer) run() {
	var due []dueTick
	for {
		p.mu.Lock()
		if len(p.h) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		next := p.h[0].next
		p.mu.Unlock()

		// the bulk of the wait on a Go timer (no thread held), the last
		// couple of milliseconds in nanosleep(2)
		if d := time.Until(next); d > coarseMargin {
			time.Sleep(d - coarseMargin)
		}
		if d := time.Until(next); d > pacerEarly {
			preciseSleep(d - pacerEarly/2)
		}

		now := time.Now().Add(pacerEarly) // deadlines this close are served in the same wake-up
		due = due[:0]
		p.mu.Lock()
		for len(p.h) > 0 && !p.h[0].next.After(now) {
			e := p.h[0]
			t := dueTick{e: e, deadline: e.next}
			if late := now.Sub(e.next); late > maxCatchUp*FrameInterval {
				t.skipped = int(late / FrameInterval)
				e.k += int64(t.skipped)
				t.deadline = e.anchor.Add(time.Duration(e.k) * FrameInterval)
			}
			e.k++
			e.next = e.anchor.Add(time.Duration(e.k) * FrameInterval)
			heap.Fix(&p.h, 0)
			due = append(due, t)
		}
		p.mu.Unlock()

		for _, t := range due {
			sentAt, sent := t.e.s.tick(t.deadline, t.skipped)
			if sent {
				p.record(sentAt.Sub(t.deadline))
			}
		}
	}
}

func (p *pacer) record(dev time.Duration) {
	if dev < 0 {
		dev = -dev
	}
	p.mu.Lock()
	p.samples++
	if b := int(dev / pacingBucket); b < pacingBuckets {
		p.hist[b]++
	} else {
		p.over++
	}
	p.maxDev = max(p.maxDev, dev)
	p.mu.Unlock()
}

// Pacing is how far RTP sends were from their 20 ms grid, over every
// session of the process since the last ResetPacing.
type Pacing struct {
	Frames        uint64
	P50, P99, Max time.Duration
}

// PacingStats reports the send deviations (10 µs resolution).
func PacingStats() Pacing {
	p := &thePacer
	p.mu.Lock()
	defer p.mu.Unlock()
	r := Pacing{Frames: p.samples, Max: p.maxDev}
	quantile := func(q float64) time.Duration {
		target := uint64(q * float64(p.samples))
		var acc uint64
		for b, n := range p.hist {
			acc += n
			if acc > target {
				return time.Duration(b+1) * pacingBucket
			}
		}
		return p.maxDev
	}
	if p.samples > 0 {
		r.P50, r.P99 = quantile(0.50), quantile(0.99)
	}
	return r
}

// ResetPacing clears the send deviations.
func ResetPacing() {
	p := &thePacer
	p.mu.Lock()
	p.hist, p.over, p.samples, p.maxDev = [pacingBuckets]uint64{}, 0, 0, 0
	p.mu.Unlock()
}
