package fleet

import (
	"testing"
	"time"
)

// TestReleaserWaitsForQuiet: releases come once calls were made, none is
// under way, and the fleet has been quiet for each of releaseAfter; not
// again until more calls were made.
func TestReleaserWaitsForQuiet(t *testing.T) {
	var r releaser
	t0 := time.Unix(1000, 0)
	first, second := releaseAfter[0], releaseAfter[1]
	steps := []struct {
		after                 time.Duration
		attempted, inProgress int
		want                  bool
	}{
		{0, 0, 0, false},                // never called: nothing to give back
		{time.Second, 10, 4, false},     // calls under way
		{2 * time.Second, 10, 0, false}, // quiet from now
		{2*time.Second + first - 1, 10, 0, false},
		{2*time.Second + first, 10, 0, true}, // quiet long enough
		{2*time.Second + first + time.Second, 10, 0, false},
		{2*time.Second + second, 10, 0, true},  // once sipgo let go
		{10 * time.Minute, 10, 0, false},       // nothing new since
		{11 * time.Minute, 11, 0, false},       // a call came and went: quiet from now
		{11*time.Minute + first, 11, 1, false}, // one under way again
		{12 * time.Minute, 12, 0, false},
		{12*time.Minute + first, 12, 0, true},
	}
	for i, s := range steps {
		if got := r.due(t0.Add(s.after), s.attempted, s.inProgress); got != s.want {
			t.Errorf("step %d (%+v): due = %v", i, s, got)
		}
	}
}
