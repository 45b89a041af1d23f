package sipua

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"phonesim/firmware"
	"phonesim/sipua/media"
)

// testSignal is 1.5 s of speech-like audio at 8 kHz: a chirp under
// noise bursts with a syllable-like envelope, so it correlates with
// itself only at lag 0 (within the call's few hundred ms).
func testSignal() []int16 {
	const n = 12000
	rng := rand.New(rand.NewPCG(1, 2))
	s := make([]int16, n)
	phase := 0.0
	for i := range s {
		t := float64(i) / 8000
		f := 200 + 2600*math.Mod(t, 0.75)/0.75 // two sweeps 200 → 2800 Hz
		phase += 2 * math.Pi * f / 8000
		env := 0.35 + 0.65*math.Abs(math.Sin(2*math.Pi*3.3*t)) // syllables
		v := 6000*math.Sin(phase) + 2500*rng.NormFloat64()
		s[i] = int16(max(-32000, min(32000, env*v)))
	}
	return s
}

// bestCorrelation is the highest normalised cross-correlation of y
// against x over lags 0..maxLag samples (y later than x), taken over
// x[from:to].
func bestCorrelation(x, y []int16, from, to, maxLag int) (best float64, lag int) {
	for l := 0; l <= maxLag; l++ {
		if to+l > len(y) {
			break
		}
		var xy, xx, yy float64
		for i := from; i < to; i++ {
			a, b := float64(x[i]), float64(y[i+l])
			xy += a * b
			xx += a * a
			yy += b * b
		}
		if xx == 0 || yy == 0 {
			continue
		}
		if c := xy / math.Sqrt(xx*yy); c > best {
			best, lag = c, l
		}
	}
	return best, lag
}

// A WAV file is the microphone of a call to an echo phone; the call is
// recorded. The left channel (sent) is the file, G.711-coded; the right
// (received) is the echo of it, some tens of ms later: both correlate
// above 0.9. For PCMU and PCMA, negotiated from the caller's
// codec_priority_list; recorded once by record_calls, once by the API.
func TestWAVThroughEchoPhone(t *testing.T) {
	for _, codec := range []string{"PCMU", "PCMA"} {
		t.Run(codec, func(t *testing.T) {
			dir := t.TempDir()
			mic := filepath.Join(dir, "mic.wav")
			signal := testSignal()
			if err := media.WriteWAV(mic, 8000, signal); err != nil {
				t.Fatal(err)
			}
			a := startPhone(t, "A", MediaSilence)
			b := startPhone(t, "B", MediaEcho)
			byConfig := codec == "PCMA"
			if err := a.ua.SetMediaConfig(MediaConfig{
				AudioIn:   mic,
				Codecs:    map[int]string{1: strings.ToLower(codec) + ",g722,telephone-event"},
				Record:    byConfig,
				RecordDir: filepath.Join(dir, "rec"),
			}); err != nil {
				t.Fatal(err)
			}
			off := placeCall(t, a, b, "c1", "")
			b.ua.Do(firmware.Answer{Call: off.Call})
			expectOnly[firmware.CallAnswered](a)
			var path string
			if !byConfig {
				var err error
				if path, err = a.ua.StartRecording("c1"); err != nil {
					t.Fatal(err)
				}
			}
			eventually(t, "1.4 s of echo", func() bool { return a.ua.Stats("c1").PacketsReceived >= 70 })
			a.ua.Do(firmware.Hangup{Call: "c1"})
			expect[firmware.CallEnded](b)
			eventually(t, "call gone", func() bool { return a.ua.active() == 0 })

			st := a.ua.Stats("c1")
			if st.Codec != codec {
				t.Errorf("codec %s, want %s", st.Codec, codec)
			}
			if byConfig {
				path = st.Recording
			}
			if path == "" || st.Recording != path || !strings.HasPrefix(path, filepath.Join(dir, "rec")) {
				t.Fatalf("recording %q (stats %q)", path, st.Recording)
			}
			if st.PacketsDropped != 0 || st.Late != 0 || st.LossPercent != 0 {
				t.Errorf("loopback losses: %+v", st)
			}
			left, right, _, err := media.ReadStereoWAV(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(left) < 8000 {
				t.Fatalf("recording of %d samples", len(left))
			}
			// sent: the file, from its start (the loop begins with the call)
			if c, lag := bestCorrelation(signal, left, 800, 7200, 1600); c < 0.95 {
				t.Errorf("sent audio vs the file: correlation %.3f at lag %d", c, lag)
			}
			// received: the echo of what was sent
			c, lag := bestCorrelation(left, right, 400, len(left)-3200, 3200)
			t.Logf("%s: echo correlation %.3f at %.1f ms", codec, c, float64(lag)/8)
			if c < 0.9 {
				t.Errorf("echo correlation %.3f (lag %d samples), want > 0.9", c, lag)
			}
			if lag < 60*8 || lag > 300*8 {
				t.Errorf("echo lag %.1f ms: want the jitter buffer's 60–80 ms and a little more", float64(lag)/8)
			}
		})
	}
}

// Nothing in common: the INVITE handler answers 488 before the phone
// rings; the callee's core hears nothing.
func TestNoCommonCodec488(t *testing.T) {
	a := startPhone(t, "A", MediaTone)
	b := startPhone(t, "B", MediaTone)
	a.ua.SetMediaConfig(MediaConfig{Codecs: map[int]string{1: "pcmu,telephone-event"}})
	b.ua.SetMediaConfig(MediaConfig{Codecs: map[int]string{1: "pcma"}})
	a.ua.Do(firmware.Dial{Call: "c1", Target: b.uri("bob"), From: firmware.Party{URI: a.uri("alice")}, Identity: 1})
	expectOnly[firmware.CallSent](a)
	if f := expectOnly[firmware.CallFailed](a); f.Status != 488 {
		t.Fatalf("CallFailed = %+v, want 488", f)
	}
	assertQuiet(t, a, b)
}

func TestMediaConfigFrom(t *testing.T) {
	s := map[string]string{
		"codec_priority_list1": "pcma,pcmu,telephone-event",
		"codec_priority_list3": "g722,pcmu",
		"tone_scheme":          "USA",
		"record_calls":         "on",
		"record_dir":           "/tmp/r",
		"audio_in_file":        "mic.wav",
	}
	cfg := MediaConfigFrom(func(n string) string { return s[n] })
	if cfg.Codecs[1] != "pcma,pcmu,telephone-event" || cfg.Codecs[3] != "g722,pcmu" || len(cfg.Codecs) != 2 ||
		cfg.ToneScheme != "USA" || !cfg.Record || cfg.RecordDir != "/tmp/r" || cfg.AudioIn != "mic.wav" {
		t.Fatalf("%+v", cfg)
	}
}

// A microphone file that cannot be played is a clear error; calls then
// send the mode's signal.
func TestSetMediaConfigBadWAV(t *testing.T) {
	u, err := New(Config{Listen: "127.0.0.1:0"}, make(chan firmware.Event, 8))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "song.wav")
	os.WriteFile(path, []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x44\xac\x00\x00\x10\xb1\x02\x00\x04\x00\x10\x00data\x00\x00\x00\x00"), 0o644)
	err = u.SetMediaConfig(MediaConfig{AudioIn: path})
	if err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, media.ErrWAVFormat) {
		t.Fatalf("err = %v", err)
	}
	if u.mediaSettings().audio != nil {
		t.Error("a bad file became the microphone")
	}
}
