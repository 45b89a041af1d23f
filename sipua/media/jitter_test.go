package media

import (
	"testing"
	"time"
)

// A fake clock: t(ms) is that many milliseconds after a fixed start.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func payloadOf(seq uint16) []byte { return []byte{byte(seq), byte(seq >> 8)} }

// popSeqs runs ticks every 20 ms from fromMs and returns what each
// played: the sequence number, -1 for a lost slot, -2 buffering, -3
// underrun.
func popSeqs(j *jitterBuffer, fromMs, ticks int) []int {
	var got []int
	for i := range ticks {
		e, r := j.pop(at(fromMs + 20*i))
		switch r {
		case popOK:
			got = append(got, int(e.payload[0])|int(e.payload[1])<<8)
		case popLost:
			got = append(got, -1)
		case popBuffering:
			got = append(got, -2)
		case popUnderrun:
			got = append(got, -3)
		}
	}
	return got
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Playout waits JitterDepth after the first packet, then plays in
// sequence order whatever order the packets came in.
func TestJitterBufferReorders(t *testing.T) {
	var j jitterBuffer
	// 100, 102, 101, 103 arrive 20 ms apart: 101 and 102 swapped
	for i, seq := range []uint16{100, 102, 101, 103} {
		if r := j.push(seq, PayloadPCMU, true, payloadOf(seq), at(20*i)); r != pushed {
			t.Fatalf("push %d: %v", seq, r)
		}
	}
	// ticks at 0, 20, 40 ms: still buffering (60 ms not reached); from 60 on: in order
	got := popSeqs(&j, 0, 7)
	want := []int{-2, -2, -2, 100, 101, 102, 103}
	if !equalInts(got, want) {
		t.Fatalf("played %v, want %v", got, want)
	}
	if j.late != 0 || j.concealed != 0 {
		t.Errorf("late %d concealed %d", j.late, j.concealed)
	}
}

// A packet whose slot has been played is late: dropped and counted. A
// missing one is concealed and playout moves on.
func TestJitterBufferLateAndLost(t *testing.T) {
	var j jitterBuffer
	j.push(10, PayloadPCMU, true, payloadOf(10), at(0))
	j.push(11, PayloadPCMU, true, payloadOf(11), at(20))
	// 12 is not there yet
	j.push(13, PayloadPCMU, true, payloadOf(13), at(60))
	got := popSeqs(&j, 60, 4) // 60, 80, 100, 120 ms
	if want := []int{10, 11, -1, 13}; !equalInts(got, want) {
		t.Fatalf("played %v, want %v", got, want)
	}
	if j.concealed != 1 {
		t.Errorf("concealed %d, want 1", j.concealed)
	}
	// 12 comes at 130 ms, after its slot (100 ms) was played
	if r := j.push(12, PayloadPCMU, true, payloadOf(12), at(130)); r != pushedLate {
		t.Fatalf("late push: %v", r)
	}
	if j.late != 1 {
		t.Errorf("late %d, want 1", j.late)
	}
	// a duplicate of a held packet
	j.push(14, PayloadPCMU, true, payloadOf(14), at(135))
	if r := j.push(14, PayloadPCMU, true, payloadOf(14), at(136)); r != pushedDuplicate || j.duplicate != 1 {
		t.Fatalf("duplicate: %v, %d", r, j.duplicate)
	}
}

// An empty buffer is an underrun: it plays silence and buffers again, so
// a slow sender does not turn into a stream of late packets.
func TestJitterBufferUnderrunRebuffers(t *testing.T) {
	var j jitterBuffer
	j.push(1, PayloadPCMU, true, payloadOf(1), at(0))
	if got := popSeqs(&j, 60, 2); !equalInts(got, []int{1, -3}) {
		t.Fatalf("played %v", got)
	}
	// the next packet arrives 50 ms late; buffering starts again from it
	j.push(2, PayloadPCMU, true, payloadOf(2), at(130))
	j.push(3, PayloadPCMU, true, payloadOf(3), at(150))
	if got := popSeqs(&j, 140, 5); !equalInts(got, []int{-2, -2, -2, 2, 3}) {
		t.Fatalf("played %v", got)
	}
	if j.late != 0 || j.underruns != 1 {
		t.Errorf("late %d underruns %d", j.late, j.underruns)
	}
}

// While buffering, a packet older than the first is still in time.
func TestJitterBufferEarlierFirst(t *testing.T) {
	var j jitterBuffer
	j.push(51, PayloadPCMU, true, payloadOf(51), at(0))
	j.push(50, PayloadPCMU, true, payloadOf(50), at(5))
	if got := popSeqs(&j, 60, 2); !equalInts(got, []int{50, 51}) {
		t.Fatalf("played %v", got)
	}
}

// A jump far ahead (a new stream) flushes and buffers again; wrap-around
// of the 16-bit sequence number is in order.
func TestJitterBufferJumpAndWrap(t *testing.T) {
	var j jitterBuffer
	j.push(65534, PayloadPCMU, true, payloadOf(65534), at(0))
	j.push(65535, PayloadPCMU, true, payloadOf(65535), at(20))
	j.push(0, PayloadPCMU, true, payloadOf(0), at(40))
	if got := popSeqs(&j, 60, 3); !equalInts(got, []int{65534, 65535, 0}) {
		t.Fatalf("played %v", got)
	}
	j.push(5000, PayloadPCMU, true, payloadOf(5000), at(200))
	if j.resets != 1 {
		t.Fatalf("resets %d", j.resets)
	}
	if got := popSeqs(&j, 200, 4); !equalInts(got, []int{-2, -2, -2, 5000}) {
		t.Fatalf("played %v", got)
	}
}
