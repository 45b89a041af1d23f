package media

import (
	"math"
	"testing"
	"time"
)

// Every scheme parses and has every kind.
func TestSchemesParse(t *testing.T) {
	if len(ToneSchemes()) < 18 {
		t.Fatalf("schemes %v", ToneSchemes())
	}
	for _, s := range ToneSchemes() {
		for k := ToneDial; k <= ToneCallWaiting; k++ {
			spec := toneSchemes[s][k]
			if _, err := ParseTone(spec); err != nil {
				t.Errorf("%s %s: %v", s, k, err)
			}
			if _, ok := SchemeTone(s, k); !ok {
				t.Errorf("%s has no %s tone", s, k)
			}
		}
	}
	if _, ok := SchemeTone("XYZ", ToneDial); ok {
		t.Error("unknown scheme found")
	}
	if _, ok := SchemeTone("usa", ToneBusy); !ok {
		t.Error("scheme names are case-insensitive")
	}
	for _, bad := range []string{"425/x", "5000", "abc", "425/-3", "425+"} {
		if _, err := ParseTone(bad); err == nil {
			t.Errorf("ParseTone(%q) accepted", bad)
		}
	}
}

// goertzel is the power of frequency hz in s, normalised to the power of
// a full-scale sine.
func goertzel(s []int16, hz float64) float64 {
	k := 2 * math.Cos(2*math.Pi*hz/SampleRate)
	var s1, s2 float64
	for _, v := range s {
		s0 := float64(v) + k*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - k*s1*s2
	n := float64(len(s))
	return p / (n * n / 4 * 32768 * 32768)
}

// onOff renders d of a tone and returns, per 10 ms, whether it sounds.
func onOff(t Cadence, d time.Duration) []bool {
	src := NewToneSource(t)
	n := int(d * SampleRate / time.Second)
	buf := make([]int16, n)
	for i := 0; i < n; i += FrameSamples {
		src.Read(buf[i:min(i+FrameSamples, n)])
	}
	var out []bool
	for i := 0; i+80 <= n; i += 80 {
		out = append(out, rms(buf[i:i+80]) > 100)
	}
	return out
}

func TestToneCadencesAndFrequencies(t *testing.T) {
	for _, tc := range []struct {
		scheme  string
		kind    ToneKind
		freqs   []float64
		on, off int // 10 ms units of the first on and off part (off 0: steady)
	}{
		{"USA", ToneDial, []float64{350, 440}, 0, 0},
		{"USA", ToneRingback, []float64{440, 480}, 200, 400},
		{"USA", ToneBusy, []float64{480, 620}, 50, 50},
		{"USA", ToneCallWaiting, []float64{440}, 30, 1000},
		{"GER", ToneDial, []float64{425}, 0, 0},
		{"GER", ToneRingback, []float64{425}, 100, 400},
		{"GER", ToneBusy, []float64{425}, 48, 48},
		{"GER", ToneCallWaiting, []float64{425}, 20, 20},
		{"GBR", ToneBusy, []float64{400}, 37, 38}, // 375 ms: the 10 ms window straddles
		{"GBR", ToneRingback, []float64{400, 450}, 40, 20},
	} {
		t.Run(tc.scheme+"/"+tc.kind.String(), func(t *testing.T) {
			tone, _ := SchemeTone(tc.scheme, tc.kind)
			src := NewToneSource(tone)
			sound := make([]int16, 1600) // the first 200 ms: on in every tone here
			src.Read(sound)
			for _, f := range tc.freqs {
				if p := goertzel(sound, f); p < 0.01 {
					t.Errorf("%v Hz: power %.4f", f, p)
				}
			}
			if p := goertzel(sound, 1000); p > 0.0005 {
				t.Errorf("1000 Hz (absent) has power %.4f", p)
			}
			pattern := onOff(tone, 12*time.Second)
			if tc.off == 0 {
				for i, on := range pattern {
					if !on {
						t.Fatalf("steady tone silent at %d0 ms", i)
					}
				}
				return
			}
			run := func(from int, want bool) int {
				n := 0
				for i := from; i < len(pattern) && pattern[i] == want; i++ {
					n++
				}
				return n
			}
			on := run(0, true)
			off := run(on, false)
			if abs(on-tc.on) > 1 || abs(off-tc.off) > 1 {
				t.Errorf("cadence on %d0 ms, off %d0 ms; want %d0, %d0", on, off, tc.on, tc.off)
			}
			// and it repeats with its period
			if p := int(tone.Period() / (10 * time.Millisecond)); p < len(pattern) && pattern[p] != pattern[0] {
				t.Errorf("not periodic at %v", tone.Period())
			}
		})
	}
}
