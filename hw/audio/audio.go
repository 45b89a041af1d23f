// Package audio holds the phone's audio devices: 8 kHz mono 16-bit PCM,
// one 20 ms frame (hw.FrameSamples) at a time, behind hw.AudioIn and
// hw.AudioOut.
//
// Loopback is the one device here: what is played comes back on capture,
// as a board with its speaker wired to its microphone would do. The
// self-test's audio check and the qemu board use it.
//
// A board's sound card goes here as a driver of its own (for example
// hw/audio/alsa, a file alsa.go with a linux build tag) implementing
// Play and Capture on /dev/snd/pcmC0D0p and pcmC0D0c, and a profile entry
// naming it (hw/board). It is not written yet: no pure-Go ALSA library is
// well kept enough to depend on (github.com/yobert/alsa warns that it
// passes Go memory to the kernel unsafely and is not maintained for ARM;
// github.com/gen2brain/alsa, a tinyalsa port, is young and has no users),
// and the ioctl subset a phone needs (HW_PARAMS for S16_LE, 1 channel,
// 8000 Hz, a 160-frame period; PREPARE; READI_FRAMES / WRITEI_FRAMES) is
// small enough to write against a board that has the card. See
// docs/boards.md.
package audio

import (
	"errors"
	"sync"

	"phonesim/hw"
)

// Loopback plays into a buffer that capture reads from. Capture never
// blocks: with nothing played it returns silence.
type Loopback struct {
	mu      sync.Mutex
	buf     []int16 // ring of samples played and not yet captured
	start   int
	n       int
	dropped int
	closed  bool
}

// ErrClosed is returned after Close.
var ErrClosed = errors.New("audio: closed")

// NewLoopback keeps up to frames frames of audio (at least one); older
// ones are dropped when playback runs ahead of capture.
func NewLoopback(frames int) *Loopback {
	return &Loopback{buf: make([]int16, max(frames, 1)*hw.FrameSamples)}
}

// Play queues frame for capture.
func (l *Loopback) Play(frame []int16) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	for _, s := range frame {
		if l.n == len(l.buf) { // full: drop the oldest sample
			l.start = (l.start + 1) % len(l.buf)
			l.n--
			l.dropped++
		}
		l.buf[(l.start+l.n)%len(l.buf)] = s
		l.n++
	}
	return nil
}

// Capture fills frame with what was played, then silence.
func (l *Loopback) Capture(frame []int16) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	for i := range frame {
		if l.n == 0 {
			frame[i] = 0
			continue
		}
		frame[i] = l.buf[l.start]
		l.start = (l.start + 1) % len(l.buf)
		l.n--
	}
	return nil
}

// Dropped counts the samples lost because capture fell behind.
func (l *Loopback) Dropped() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

// Close ends the device.
func (l *Loopback) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	return nil
}
