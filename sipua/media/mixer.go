package media

import "sync"

// Mixer joins two sessions and the microphone into a local three-way
// conference: each party hears the other and us, we hear both. It works
// on 8 kHz linear PCM, 20 ms frames: what a session received (its
// playout, after the jitter buffer) is added to what the other session
// sends, with our microphone, and clipped.
//
//	m := NewMixer(mic)
//	a.SetSource(m.Source(0)); a.SetPlayout(m.Input(0))
//	b.SetSource(m.Source(1)); b.SetPlayout(m.Input(1))
//
// Each session's pacer runs on its own clock, so every path goes through
// a short queue (mixerDepth frames; the oldest frame goes when it is
// full, silence when it is empty). The microphone is read once per frame
// for both parties. Playout, when set, gets what we hear (both parties).
type Mixer struct {
	mu      sync.Mutex
	mic     Source
	micq    [2][][]int16 // microphone frames each party has yet to send
	heard   [2][][]int16 // frames received from party i, for the other
	last    [2][]int16   // the last frame received from party i, for us
	playout func(pcm []int16)
	mixed   [FrameSamples]int16
}

// mixerDepth bounds each queue: 5 frames, 100 ms.
const mixerDepth = 5

// NewMixer returns a mixer with mic as our microphone (nil: silence).
func NewMixer(mic Source) *Mixer {
	if mic == nil {
		mic = SilenceSource{}
	}
	return &Mixer{mic: mic}
}

// SetPlayout sets where what we hear goes (the sum of both parties).
func (m *Mixer) SetPlayout(fn func(pcm []int16)) {
	m.mu.Lock()
	m.playout = fn
	m.mu.Unlock()
}

// Source is what party i (0 or 1) is sent: the microphone plus what the
// other party said.
func (m *Mixer) Source(i int) Source { return mixerLeg{m, i & 1} }

// Input takes what party i said (a session's playout frames).
func (m *Mixer) Input(i int) func(pcm []int16) {
	i &= 1
	return func(pcm []int16) { m.put(i, pcm) }
}

type mixerLeg struct {
	m *Mixer
	i int
}

func (l mixerLeg) Read(frame []int16) { l.m.read(l.i, frame) }

func push(q [][]int16, f []int16) [][]int16 {
	if len(q) >= mixerDepth {
		q = q[1:]
	}
	return append(q, f)
}

func (m *Mixer) put(i int, pcm []int16) {
	f := make([]int16, FrameSamples)
	copy(f, pcm)
	m.mu.Lock()
	m.heard[i] = push(m.heard[i], f)
	m.last[i] = f
	var play func([]int16)
	if i == 0 && m.playout != nil {
		// what we hear: party 0's frame and the latest of party 1's
		copy(m.mixed[:], f)
		if l := m.last[1]; l != nil {
			for k, v := range l {
				m.mixed[k] = clip16(float64(m.mixed[k]) + float64(v))
			}
		}
		play = m.playout
	}
	m.mu.Unlock()
	if play != nil {
		play(m.mixed[:]) // the pacer calls one at a time per session
	}
}

func (m *Mixer) read(i int, frame []int16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.micq[i]) == 0 {
		f := make([]int16, len(frame))
		m.mic.Read(f)
		m.micq[0] = push(m.micq[0], f)
		m.micq[1] = push(m.micq[1], f)
	}
	mic := m.micq[i][0]
	m.micq[i] = m.micq[i][1:]
	copy(frame, mic)
	other := 1 - i
	if q := m.heard[other]; len(q) > 0 {
		f := q[0]
		m.heard[other] = q[1:]
		for k := range frame {
			if k < len(f) {
				frame[k] = clip16(float64(frame[k]) + float64(f[k]))
			}
		}
	}
}
