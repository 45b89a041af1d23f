package media

import (
	"sync"
	"testing"
	"time"
)

// heard collects a session's playout.
type heard struct {
	mu  sync.Mutex
	pcm []int16
}

func (h *heard) add(pcm []int16) {
	h.mu.Lock()
	h.pcm = append(h.pcm, pcm...)
	h.mu.Unlock()
}

func (h *heard) tail(n int) []int16 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.pcm) < n {
		return nil
	}
	return append([]int16(nil), h.pcm[len(h.pcm)-n:]...)
}

// A local three-way conference over real RTP: party 1 sends 1000 Hz,
// party 2 1500 Hz, our microphone 400 Hz. Each party must hear the other
// two and not itself; we hear both parties.
func TestMixerThreeWay(t *testing.T) {
	p1, l1 := pair(t, Silence, Silence)
	p2, l2 := pair(t, Silence, Silence)
	var h1, h2, us heard
	p1.SetSource(NewToneSource(Cadence{{F1: 1000}}))
	p2.SetSource(NewToneSource(Cadence{{F1: 1500}}))
	p1.SetPlayout(h1.add)
	p2.SetPlayout(h2.add)

	m := NewMixer(NewToneSource(Cadence{{F1: 400}}))
	m.SetPlayout(us.add)
	l1.SetSource(m.Source(0))
	l1.SetPlayout(m.Input(0))
	l2.SetSource(m.Source(1))
	l2.SetPlayout(m.Input(1))

	pp := Params{PayloadType: PayloadPCMU, Send: true, Receive: true}
	start := func(s, peer *Session) {
		p := pp
		p.Remote = addr(peer)
		s.Start(Silence, p, nil)
	}
	start(p1, l1)
	start(l1, p1)
	start(p2, l2)
	start(l2, p2)

	const n = 20 * FrameSamples // 400 ms
	time.Sleep(time.Second)
	eventually(t, "audio", func() bool { return h1.tail(n) != nil && h2.tail(n) != nil && us.tail(n) != nil })
	check := func(who string, pcm []int16, present, absent []float64) {
		t.Helper()
		for _, hz := range present {
			if p := goertzel(pcm, hz); p < 0.005 {
				t.Errorf("%s: %v Hz power %.5f, want it heard", who, hz, p)
			}
		}
		for _, hz := range absent {
			if p := goertzel(pcm, hz); p > 0.001 {
				t.Errorf("%s: %v Hz power %.5f, want it absent", who, hz, p)
			}
		}
	}
	check("party 1", h1.tail(n), []float64{400, 1500}, []float64{1000})
	check("party 2", h2.tail(n), []float64{400, 1000}, []float64{1500})
	check("us", us.tail(n), []float64{1000, 1500}, []float64{400})
}

func TestMixerClips(t *testing.T) {
	m := NewMixer(constSource(30000))
	m.Input(1)(func() []int16 {
		f := make([]int16, FrameSamples)
		for i := range f {
			f[i] = 30000
		}
		return f
	}())
	frame := make([]int16, FrameSamples)
	m.Source(0).Read(frame)
	if frame[0] != 32767 {
		t.Fatalf("sum %d, want clipped to 32767", frame[0])
	}
	// nothing heard from party 0: party 1 gets the microphone alone
	m.Source(1).Read(frame)
	if frame[0] != 30000 {
		t.Fatalf("party 1 gets %d, want the microphone's 30000", frame[0])
	}
}

type constSource int16

func (c constSource) Read(f []int16) {
	for i := range f {
		f[i] = int16(c)
	}
}
