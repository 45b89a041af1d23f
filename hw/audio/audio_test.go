package audio

import (
	"testing"

	"phonesim/hw"
)

func TestLoopback(t *testing.T) {
	l := NewLoopback(2)
	var _ hw.AudioIn = l
	var _ hw.AudioOut = l
	f := make([]int16, hw.FrameSamples)
	for i := range f {
		f[i] = int16(i)
	}
	l.Play(f)
	got := make([]int16, hw.FrameSamples)
	l.Capture(got)
	for i := range got {
		if got[i] != int16(i) {
			t.Fatalf("sample %d = %d", i, got[i])
		}
	}
	l.Capture(got)
	if got[0] != 0 || got[len(got)-1] != 0 {
		t.Error("nothing played should capture silence")
	}
	for n := range 3 { // one frame more than it keeps
		for i := range f {
			f[i] = int16(n)
		}
		l.Play(f)
	}
	if l.Dropped() != hw.FrameSamples {
		t.Errorf("dropped %d samples", l.Dropped())
	}
	l.Capture(got)
	if got[0] != 1 {
		t.Errorf("the oldest frame kept is %d, want 1", got[0])
	}
	l.Close()
	if l.Play(f) == nil || l.Capture(got) == nil {
		t.Error("a closed loopback still works")
	}
}
