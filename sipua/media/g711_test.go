package media

import "testing"

// Known values from the ITU-T G.711 tables (as in the reference g711.c).
func TestMuLawKnownValues(t *testing.T) {
	for _, tc := range []struct {
		pcm  int16
		code byte
	}{
		{0, 0xff}, {-1, 0x7f}, {8, 0xfe}, {120, 0xf0}, {-120, 0x70},
		{32767, 0x80}, {-32768, 0x00}, {1000, 0xce}, {-1000, 0x4e},
	} {
		if got := EncodeMuLaw(tc.pcm); got != tc.code {
			t.Errorf("EncodeMuLaw(%d) = %#02x, want %#02x", tc.pcm, got, tc.code)
		}
	}
	for _, tc := range []struct {
		code byte
		pcm  int16
	}{
		{0xff, 0}, {0x7f, 0}, {0xfe, 8}, {0xf0, 120}, {0x80, 32124}, {0x00, -32124}, {0xce, 988}, {0x4e, -988},
	} {
		if got := DecodeMuLaw(tc.code); got != tc.pcm {
			t.Errorf("DecodeMuLaw(%#02x) = %d, want %d", tc.code, got, tc.pcm)
		}
	}
}

func TestALawKnownValues(t *testing.T) {
	for _, tc := range []struct {
		pcm  int16
		code byte
	}{
		{0, 0xd5}, {-1, 0x55}, {32767, 0xaa}, {-32768, 0x2a}, {1000, 0xfa},
	} {
		if got := EncodeALaw(tc.pcm); got != tc.code {
			t.Errorf("EncodeALaw(%d) = %#02x, want %#02x", tc.pcm, got, tc.code)
		}
	}
	for _, tc := range []struct {
		code byte
		pcm  int16
	}{
		{0xd5, 8}, {0x55, -8}, {0xaa, 32256}, {0x2a, -32256}, {0xfa, 1008},
	} {
		if got := DecodeALaw(tc.code); got != tc.pcm {
			t.Errorf("DecodeALaw(%#02x) = %d, want %d", tc.code, got, tc.pcm)
		}
	}
}

// Every code decodes to a value that encodes back to the same code
// (except μ-law's negative zero, 0x7f, which is +0's 0xff).
func TestRoundTrip(t *testing.T) {
	for c := range 256 {
		code := byte(c)
		if got := EncodeMuLaw(DecodeMuLaw(code)); got != code && code != 0x7f {
			t.Errorf("μ-law %#02x → %d → %#02x", code, DecodeMuLaw(code), got)
		}
		if got := EncodeALaw(DecodeALaw(code)); got != code {
			t.Errorf("A-law %#02x → %d → %#02x", code, DecodeALaw(code), got)
		}
	}
}

// Quantization error stays within half a step of the segment.
func TestMuLawError(t *testing.T) {
	for v := -32000; v <= 32000; v += 7 {
		got := int(DecodeMuLaw(EncodeMuLaw(int16(v))))
		diff := got - v
		if diff < 0 {
			diff = -diff
		}
		limit := 4 + abs(v)/16 // half a quantization step
		if diff > limit {
			t.Fatalf("%d → %d (error %d > %d)", v, got, diff, limit)
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func TestToneFrame(t *testing.T) {
	f := FramesFor(PayloadPCMU)
	if len(f.Tone) != FrameSamples || len(f.Silence) != FrameSamples {
		t.Fatalf("frame sizes %d, %d", len(f.Tone), len(f.Silence))
	}
	for i, b := range f.Silence {
		if b != 0xff {
			t.Fatalf("silence[%d] = %#02x", i, b)
		}
	}
	// 400 Hz at 8 kHz: period 20 samples, starting at zero.
	if f.Tone[0] != 0xff || f.Tone[20] != f.Tone[0] || f.Tone[5] != f.Tone[25] {
		t.Errorf("tone not periodic: % x", f.Tone[:30])
	}
	if DecodeMuLaw(f.Tone[5]) < 7000 || DecodeMuLaw(f.Tone[15]) > -7000 {
		t.Errorf("tone peaks %d, %d", DecodeMuLaw(f.Tone[5]), DecodeMuLaw(f.Tone[15]))
	}
}
