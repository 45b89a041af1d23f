package hwtest

import (
	"fmt"
	"math"
	"net"
	"time"

	"github.com/pion/rtp"

	"phonesim/hw"
	"phonesim/hw/audio"
	"phonesim/sipua/media"
)

// AudioOptions tune the audio suite.
type AudioOptions struct {
	Frequency float64       // the tone, Hz (default 1000)
	Level     float64       // its level, dBFS of the sine's peak (default -12)
	Tolerance float64       // how far the level may come back off, dB (default 3; an acoustic path needs more)
	Duration  time.Duration // default 1 s
}

// Audio checks the audio path the way a call uses it: a tone is encoded
// as G.711 μ-law, sent in RTP to a socket of our own on 127.0.0.1,
// received, decoded and played on out, captured back from in, and its
// frequency (Goertzel) and level measured. On the loopback device that
// proves the RTP and codec path; on a board, speaker to microphone.
func Audio(in hw.AudioIn, out hw.AudioOut, p Person, opt AudioOptions) []Finding {
	if opt.Frequency == 0 {
		opt.Frequency = 1000
	}
	if opt.Level == 0 {
		opt.Level = -12
	}
	if opt.Tolerance == 0 {
		opt.Tolerance = 3
	}
	if opt.Duration <= 0 {
		opt.Duration = time.Second
	}
	var res []Finding
	add := func(check string, st Status, format string, args ...any) {
		res = append(res, Finding{Part: "audio", Check: check, Status: st, Detail: fmt.Sprintf(format, args...)})
	}
	captured, sent, back, err := rtpLoop(in, out, opt)
	if err != nil {
		add("rtp loop", Fail, "%v", err)
		return res
	}
	if back != sent {
		add("rtp loop", Fail, "%d of %d packets came back in order", back, sent)
	} else {
		add("rtp loop", Pass, "%d RTP packets (PCMU, 20 ms) sent to 127.0.0.1 and back in order", sent)
	}
	// Skip the first 100 ms: a device's latency and the tone's start.
	if skip := hw.SampleRate / 10; len(captured) > 2*skip {
		captured = captured[skip:]
	}
	peak, dominance := tonePeak(captured, hw.SampleRate)
	if math.Abs(peak-opt.Frequency) > 10 || dominance < 20 {
		add("tone frequency", Fail, "strongest at %.0f Hz, %.1f dB above the rest of 300–3400 Hz (want %.0f Hz, ≥ 20 dB)", peak, dominance, opt.Frequency)
	} else {
		add("tone frequency", Pass, "%.0f Hz, %.1f dB above the rest of 300–3400 Hz", peak, dominance)
	}
	level := toneLevel(captured, opt.Frequency, hw.SampleRate)
	if math.Abs(level-opt.Level) > opt.Tolerance {
		add("tone level", Fail, "%.1f dBFS back, %.1f dBFS sent (± %.0f dB)", level, opt.Level, opt.Tolerance)
	} else {
		add("tone level", Pass, "%.1f dBFS back, %.1f dBFS sent", level, opt.Level)
	}
	if _, loop := out.(*audio.Loopback); p != nil && !loop {
		rtpLoop(in, out, opt)
		ok, err := p.Ask(fmt.Sprintf("Did you hear a %.0f Hz tone for %v?", opt.Frequency, opt.Duration))
		res = append(res, answered("audio", "a person hears the tone", ok, err))
	}
	return res
}

// rtpLoop sends the tone through RTP on loopback UDP into out and
// captures from in, frame by frame.
func rtpLoop(in hw.AudioIn, out hw.AudioOut, opt AudioOptions) (captured []int16, sent, back int, err error) {
	rx, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, 0, err
	}
	defer rx.Close()
	tx, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, 0, err
	}
	defer tx.Close()

	frames := int(opt.Duration / (20 * time.Millisecond))
	amp := 32767 * math.Pow(10, opt.Level/20)
	pcm := make([]int16, hw.FrameSamples)
	payload := make([]byte, hw.FrameSamples)
	buf := make([]byte, 1500)
	capture := make([]int16, hw.FrameSamples)
	const ssrc = 0x0ff1ce
	var seq uint16 = 4711
	var lastSeq uint16
	for f := range frames {
		for i := range pcm {
			n := f*hw.FrameSamples + i
			pcm[i] = int16(math.Round(amp * math.Sin(2*math.Pi*opt.Frequency*float64(n)/hw.SampleRate)))
			payload[i] = media.EncodeMuLaw(pcm[i])
		}
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, Marker: f == 0, PayloadType: media.PayloadPCMU,
			SequenceNumber: seq + uint16(f), Timestamp: uint32(f * hw.FrameSamples), SSRC: ssrc}, Payload: payload}
		raw, err := pkt.Marshal()
		if err != nil {
			return nil, sent, back, err
		}
		if _, err := tx.WriteTo(raw, rx.LocalAddr()); err != nil {
			return nil, sent, back, fmt.Errorf("send: %w", err)
		}
		sent++
		rx.SetReadDeadline(time.Now().Add(time.Second))
		n, _, err := rx.ReadFrom(buf)
		if err != nil {
			return nil, sent, back, fmt.Errorf("receive packet %d: %w", f, err)
		}
		var got rtp.Packet
		if err := got.Unmarshal(buf[:n]); err != nil {
			return nil, sent, back, fmt.Errorf("packet %d: %w", f, err)
		}
		if got.Version != 2 || got.PayloadType != media.PayloadPCMU || got.SSRC != ssrc || len(got.Payload) != hw.FrameSamples {
			return nil, sent, back, fmt.Errorf("packet %d came back as version %d, type %d, %d bytes", f, got.Version, got.PayloadType, len(got.Payload))
		}
		if f == 0 || got.SequenceNumber == lastSeq+1 {
			back++
		}
		lastSeq = got.SequenceNumber
		for i, b := range got.Payload {
			pcm[i] = media.DecodeMuLaw(b)
		}
		if err := out.Play(pcm); err != nil {
			return nil, sent, back, fmt.Errorf("play: %w", err)
		}
		if err := in.Capture(capture); err != nil {
			return nil, sent, back, fmt.Errorf("capture: %w", err)
		}
		captured = append(captured, capture...)
	}
	return captured, sent, back, nil
}

// goertzel returns the power of x at frequency f.
func goertzel(x []int16, f float64, rate int) float64 {
	w := 2 * math.Pi * f / float64(rate)
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - coeff*s1*s2
}

// tonePeak finds the strongest frequency in the telephone band (10 Hz
// steps) and how many dB it stands above the strongest one more than
// 50 Hz away.
func tonePeak(x []int16, rate int) (peak, dominance float64) {
	type bin struct{ f, p float64 }
	var bins []bin
	best := bin{}
	for f := 300.0; f <= 3400; f += 10 {
		b := bin{f, goertzel(x, f, rate)}
		bins = append(bins, b)
		if b.p > best.p {
			best = b
		}
	}
	rest := 0.0
	for _, b := range bins {
		if math.Abs(b.f-best.f) > 50 && b.p > rest {
			rest = b.p
		}
	}
	if best.p == 0 {
		return 0, 0
	}
	if rest == 0 {
		return best.f, 200
	}
	return best.f, 10 * math.Log10(best.p/rest)
}

// toneLevel is the level of the tone at f in dBFS of a sine's peak: the
// Goertzel amplitude, 2·√power / N.
func toneLevel(x []int16, f float64, rate int) float64 {
	if len(x) == 0 {
		return math.Inf(-1)
	}
	amp := 2 * math.Sqrt(goertzel(x, f, rate)) / float64(len(x))
	return 20 * math.Log10(amp/32767)
}
