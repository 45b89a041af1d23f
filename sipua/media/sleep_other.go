//go:build !linux

package media

import "time"

// preciseSleep is time.Sleep where we have no nanosleep(2).
func preciseSleep(d time.Duration) { time.Sleep(d) }
