package media

import "math"

// Audio format: G.711 at 8 kHz, one 20 ms frame per packet.
const (
	SampleRate      = 8000
	FrameSamples    = 160 // 20 ms
	PayloadPCMU     = 0
	PayloadPCMA     = 8
	toneHz          = 400
	toneAmplitude   = 8000 // about -12 dBFS: audible, not harsh
	samplesPerCycle = SampleRate / toneHz
)

// Frames holds the two frames a sender needs, already encoded: the tone
// repeats every 20 samples, so one 160-sample frame loops seamlessly.
type Frames struct {
	Tone, Silence []byte
}

// FramesFor returns the encoded tone and silence frames for a payload type
// (PCMU or PCMA).
func FramesFor(payloadType uint8) Frames {
	enc := EncodeMuLaw
	if payloadType == PayloadPCMA {
		enc = EncodeALaw
	}
	f := Frames{Tone: make([]byte, FrameSamples), Silence: make([]byte, FrameSamples)}
	for i := range FrameSamples {
		phase := 2 * math.Pi * float64(i%samplesPerCycle) / samplesPerCycle
		f.Tone[i] = enc(int16(toneAmplitude * math.Sin(phase)))
		f.Silence[i] = enc(0)
	}
	return f
}
