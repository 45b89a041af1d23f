package fleet

import (
	"runtime/debug"
	"sync/atomic"
	"time"

	"phonesim/sipua"
)

// releaseAfter is when, in a quiet spell after calls, the fleet hands the
// memory they used back to the system: soon (what the calls themselves
// held), and once sipgo has let go of their last transactions (a
// completed transaction absorbs retransmissions for 64·T1, 32 s, as RFC
// 3261's Timers J and L want).
var releaseAfter = []time.Duration{3 * time.Second, sipua.TransactionLinger() + 3*time.Second}

// releaser gives memory back once the fleet has gone quiet after calls
// (or after its phones started and registered: report counts both).
// The Go runtime collects garbage only as the program allocates (and
// every two minutes), and returns freed pages slowly: an idle fleet held
// a burst's memory long after it (BenchmarkBurstMemory: 100 MiB of heap
// 40 s after 1 500 calls, before this).
type releaser struct {
	attempted  int       // calls attempted when the quiet spell began
	quietSince time.Time // zero: calls under way, or no quiet spell since the last calls
	done       int       // releases made in this quiet spell
}

// due says whether to release now: calls were attempted before this
// quiet spell, none is under way, and the spell has lasted up to the
// next of releaseAfter.
func (r *releaser) due(now time.Time, attempted, inProgress int) bool {
	if inProgress > 0 || (r.quietSince.IsZero() && attempted == r.attempted) {
		r.quietSince = time.Time{}
		return false
	}
	if r.quietSince.IsZero() || attempted != r.attempted {
		r.quietSince, r.attempted, r.done = now, attempted, 0 // a new quiet spell
	}
	if r.done >= len(releaseAfter) || now.Sub(r.quietSince) < releaseAfter[r.done] {
		return false
	}
	r.done++
	return true
}

// releases counts release calls (BenchmarkBurstMemory reports it).
var releases atomic.Int64

// release collects and returns the freed memory to the system.
func release() {
	releases.Add(1)
	debug.FreeOSMemory()
}
