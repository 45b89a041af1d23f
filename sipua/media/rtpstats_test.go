package media

import (
	"math"
	"testing"
	"time"
)

// RFC 3550 §6.4.1 and A.8, worked by hand: four packets 20 ms (160
// timestamp units) apart; the third arrives 5 ms (40 units) late.
//
//	packet  RTP ts  arrival  transit  D(i-1,i)  J
//	1       0       0        0        -         0
//	2       160     160      0        0         0
//	3       320     360      40       40        0 + (40-0)/16   = 2.5
//	4       480     480      0        40        2.5 + (40-2.5)/16 = 4.84375
//	5       640     640      0        0         4.84375 - 4.84375/16 = 4.541015625
func TestJitterRFC3550WorkedExample(t *testing.T) {
	var r rxStats
	arrivals := []int64{0, 160, 360, 480, 640}
	want := []float64{0, 0, 2.5, 4.84375, 4.541015625}
	for i, a := range arrivals {
		r.updateSeq(1, uint16(i))
		r.updateJitter(a, uint32(160*i))
		if math.Abs(r.jitter-want[i]) > 1e-9 {
			t.Fatalf("after packet %d: J = %v, want %v", i+1, r.jitter, want[i])
		}
	}
	// in milliseconds, as Stats shows it: J/8000 s
	if ms := r.jitter / SampleRate * 1000; math.Abs(ms-0.567626953125) > 1e-9 {
		t.Errorf("jitter %v ms", ms)
	}
	// a timestamp wrap is no jump in transit
	var w rxStats
	w.updateSeq(1, 0)
	w.updateJitter(1000, math.MaxUint32-79)
	w.updateJitter(1160, 80)
	if w.jitter != 0 {
		t.Errorf("jitter across the wrap %v", w.jitter)
	}
}

// Sequence numbers: wrap, loss, duplicates, and the fraction lost of a
// report interval (A.1, A.3).
func TestSequenceAndLoss(t *testing.T) {
	var r rxStats
	for _, seq := range []uint16{65533, 65534, 65535, 0, 2, 3, 3} { // 1 lost, 3 twice
		r.updateSeq(7, seq)
	}
	if got := r.extendedMax(); got != 1<<16+3 {
		t.Errorf("extended max %d", got)
	}
	if r.expected() != 7 || r.received != 7 || r.lost() != 0 {
		t.Errorf("expected %d received %d lost %d", r.expected(), r.received, r.lost())
	}
	// next interval: 4..13 expected, 5 of them come
	for _, seq := range []uint16{4, 6, 8, 10, 13} {
		r.updateSeq(7, seq)
	}
	r.fractionLost() // close the first interval
	for _, seq := range []uint16{14, 15, 17, 19} {
		r.updateSeq(7, seq)
	}
	// interval: expected 14..19 = 6, received 4, lost 2 → 2/6·256 = 85
	if f := r.fractionLost(); f != 85 {
		t.Errorf("fraction lost %d, want 85", f)
	}
	// a new SSRC starts afresh
	r.updateSeq(8, 1000)
	if r.expected() != 1 || r.lost() != 0 {
		t.Errorf("new source: expected %d lost %d", r.expected(), r.lost())
	}
}

func TestMOS(t *testing.T) {
	for _, tc := range []struct {
		loss   float64
		delay  time.Duration
		lo, hi float64
	}{
		{0, 80 * time.Millisecond, 4.35, 4.40}, // G.711 at its best, our buffer and packetization
		{1, 80 * time.Millisecond, 3.7, 3.8},   // no concealment beyond silence: Bpl 4.3 is harsh
		{5, 80 * time.Millisecond, 2.0, 2.15},
		{0, 400 * time.Millisecond, 2.8, 3.4},
		{100, 80 * time.Millisecond, 1, 1},
	} {
		if m := MOS(tc.loss, tc.delay); m < tc.lo || m > tc.hi {
			t.Errorf("MOS(%v %%, %v) = %.3f, want %.2f–%.2f", tc.loss, tc.delay, m, tc.lo, tc.hi)
		}
	}
}
