package fleet

import (
	"context"
	"testing"
	"time"
)

// TestRegisteredCount: the per-second count of registered phones follows
// their state: phones with a local identity count once their View says so,
// a failed registration takes one off, and it counts again once its View
// is registered again, each change counted once.
func TestRegisteredCount(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := benchFleet(nil, nil)
	if err := f.startAll(ctx, 0, 3); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		for _, p := range f.phones {
			<-p.Dev.Done()
		}
		f.closeHost()
	}()
	count := func() int {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n, reg := f.registered()
			if reg == n || time.Now().After(deadline) {
				return reg
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if got := count(); got != 3 {
		t.Fatalf("registered %d of 3", got)
	}
	p := f.phones[1]
	p.setRegistered(false) // as a RegistrationFailed event does
	p.setRegistered(false) // told twice: counted once
	if _, reg := f.registered(); reg != 3 {
		// its View still says registered (a local identity): looked at again, counted again
		t.Fatalf("after the failure and a look at its View: %d, want 3", reg)
	}
	if n := f.nreg.Load(); n != 3 {
		t.Fatalf("count %d, want 3", n)
	}
	f.mu.Lock()
	left := len(f.unknown)
	f.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d phones still looked at every second", left)
	}
}
