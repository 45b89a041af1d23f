package media

import (
	"syscall"
	"time"
)

// preciseSleep sleeps d with nanosleep(2): the kernel's high-resolution
// timer wakes the thread within tens of microseconds, where a Go timer
// may wake a millisecond late (the runtime's poller sleeps in whole
// milliseconds).
func preciseSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for {
		var rem syscall.Timespec
		if err := syscall.Nanosleep(&ts, &rem); err != syscall.EINTR {
			return
		}
		ts = rem
	}
}
