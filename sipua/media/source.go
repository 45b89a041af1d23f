package media

import "math"

// Source is the microphone: each Read fills frame (FrameSamples samples
// of 8 kHz linear PCM) with the next 20 ms. A Source is used by one
// session at a time and must not block.
type Source interface {
	Read(frame []int16)
}

// SilenceSource sends silence.
type SilenceSource struct{}

func (SilenceSource) Read(frame []int16) { clear(frame) }

// TestTone is the 400 Hz tone MediaTone phones send (about -12 dBFS).
type TestTone struct{ n int }

func (t *TestTone) Read(frame []int16) {
	for i := range frame {
		phase := 2 * math.Pi * float64(t.n%samplesPerCycle) / samplesPerCycle
		frame[i] = int16(toneAmplitude * math.Sin(phase))
		t.n++
	}
	t.n %= samplesPerCycle
}

// Loop plays a recording over and over.
type Loop struct {
	samples []int16
	pos     int
}

// NewLoop plays a's samples in a loop. Several loops may share one Audio.
func NewLoop(a *Audio) *Loop { return &Loop{samples: a.Samples} }

func (l *Loop) Read(frame []int16) {
	if len(l.samples) == 0 {
		clear(frame)
		return
	}
	for i := 0; i < len(frame); {
		n := copy(frame[i:], l.samples[l.pos:])
		i += n
		l.pos += n
		if l.pos == len(l.samples) {
			l.pos = 0
		}
	}
}
