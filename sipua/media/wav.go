package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// Audio is a recording at 8 kHz, ready to be sent.
type Audio struct {
	Name    string  // where it came from (the file)
	Rate    int     // the file's rate: 8000 or 16000 (resampled to 8000)
	Samples []int16 // 8 kHz mono
}

// Duration is how long the recording plays.
func (a *Audio) Duration() float64 { return float64(len(a.Samples)) / SampleRate }

// maxWAVBytes caps a microphone file: 64 MiB is over half an hour at
// 16 kHz.
const maxWAVBytes = 64 << 20

// LoadWAV reads a microphone file: a RIFF/WAVE file of 16-bit linear PCM,
// mono, 8000 or 16000 Hz (16 kHz is resampled to 8 kHz). Anything else is
// a clear error naming the file and what it holds.
func LoadWAV(path string) (*Audio, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := ReadWAV(io.LimitReader(f, maxWAVBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	a.Name = path
	return a, nil
}

// ErrWAVFormat is wrapped by every "not a file we can play" error.
var ErrWAVFormat = errors.New("want a WAV file of 16-bit PCM, mono, 8000 or 16000 Hz")

// ReadWAV decodes a WAV stream (see LoadWAV).
func ReadWAV(r io.Reader) (*Audio, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("not a WAV file (too short): %w", ErrWAVFormat)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("not a WAV file (no RIFF/WAVE header): %w", ErrWAVFormat)
	}
	var (
		haveFmt          bool
		format, channels uint16
		rate             uint32
		bits             uint16
		total            int64 = 12
	)
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return nil, fmt.Errorf("no data chunk: %w", ErrWAVFormat)
		}
		id, size := string(ch[0:4]), int64(binary.LittleEndian.Uint32(ch[4:8]))
		total += 8
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return nil, fmt.Errorf("fmt chunk of %d bytes: %w", size, ErrWAVFormat)
			}
			b := make([]byte, size+size&1)
			if _, err := io.ReadFull(r, b); err != nil {
				return nil, fmt.Errorf("fmt chunk cut short: %w", ErrWAVFormat)
			}
			format = binary.LittleEndian.Uint16(b[0:2])
			channels = binary.LittleEndian.Uint16(b[2:4])
			rate = binary.LittleEndian.Uint32(b[4:8])
			bits = binary.LittleEndian.Uint16(b[14:16])
			if format == 0xfffe && size >= 40 { // WAVE_FORMAT_EXTENSIBLE: the sub-format's first two bytes
				format = binary.LittleEndian.Uint16(b[24:26])
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, fmt.Errorf("data before the fmt chunk: %w", ErrWAVFormat)
			}
			if err := checkFormat(format, channels, rate, bits); err != nil {
				return nil, err
			}
			if size == 0xffffffff || size > maxWAVBytes { // streamed: to the end
				size = maxWAVBytes + 1
			}
			data, err := io.ReadAll(io.LimitReader(r, size))
			if err != nil {
				return nil, err
			}
			if len(data) > maxWAVBytes {
				return nil, fmt.Errorf("more than %d MiB of audio", maxWAVBytes>>20)
			}
			samples := make([]int16, len(data)/2)
			for i := range samples {
				samples[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
			}
			a := &Audio{Rate: int(rate), Samples: samples}
			if rate == 16000 {
				a.Samples = Downsample16k(samples)
			}
			if len(a.Samples) == 0 {
				return nil, errors.New("the data chunk holds no samples")
			}
			return a, nil
		default: // LIST, fact, cue …: skip
			skip := size + size&1
			if _, err := io.CopyN(io.Discard, r, skip); err != nil {
				return nil, fmt.Errorf("chunk %q cut short: %w", id, ErrWAVFormat)
			}
			total += skip
			if total > maxWAVBytes {
				return nil, fmt.Errorf("no data chunk in the first %d MiB: %w", maxWAVBytes>>20, ErrWAVFormat)
			}
		}
	}
}

func checkFormat(format, channels uint16, rate uint32, bits uint16) error {
	var what string
	switch {
	case format != 1:
		what = fmt.Sprintf("format %d (%s)", format, formatName(format))
	case bits != 16:
		what = fmt.Sprintf("%d-bit samples", bits)
	case channels != 1:
		what = fmt.Sprintf("%d channels", channels)
	case rate != 8000 && rate != 16000:
		what = fmt.Sprintf("%d Hz", rate)
	default:
		return nil
	}
	return fmt.Errorf("%s: %w", what, ErrWAVFormat)
}

func formatName(f uint16) string {
	switch f {
	case 3:
		return "floating point"
	case 6:
		return "A-law"
	case 7:
		return "μ-law"
	case 0x55:
		return "MP3"
	}
	return "not linear PCM"
}

// The low-pass filter for 16 → 8 kHz: a windowed sinc (Blackman), 63
// taps, cut off at 3.4 kHz (-6 dB there): -0.4 dB at 3 kHz, more than
// 50 dB down from 4 kHz, the new Nyquist frequency, so nothing folds.
var halfband = func() []float64 {
	const taps, fc = 63, 3400.0 / 16000
	h := make([]float64, taps)
	sum := 0.0
	for i := range h {
		n := float64(i - taps/2)
		s := 2 * fc
		if n != 0 {
			s = math.Sin(2*math.Pi*fc*n) / (math.Pi * n)
		}
		w := 0.42 - 0.5*math.Cos(2*math.Pi*float64(i)/(taps-1)) + 0.08*math.Cos(4*math.Pi*float64(i)/(taps-1))
		h[i] = s * w
		sum += h[i]
	}
	for i := range h {
		h[i] /= sum
	}
	return h
}()

// Downsample16k resamples 16 kHz audio to 8 kHz: low-pass, then every
// second sample.
func Downsample16k(in []int16) []int16 {
	out := make([]int16, len(in)/2)
	half := len(halfband) / 2
	for o := range out {
		c := 2 * o
		acc := 0.0
		for k, h := range halfband {
			if j := c + k - half; j >= 0 && j < len(in) {
				acc += h * float64(in[j])
			}
		}
		out[o] = clip16(acc)
	}
	return out
}

func clip16(v float64) int16 {
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(math.Round(v))
}

// WriteWAVHeader writes a 44-byte header of 16-bit PCM at rate with
// channels channels and dataBytes bytes of samples.
func WriteWAVHeader(w io.Writer, rate, channels int, dataBytes uint32) error {
	var h [44]byte
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], 36+dataBytes)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1)
	binary.LittleEndian.PutUint16(h[22:], uint16(channels))
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*channels*2))
	binary.LittleEndian.PutUint16(h[32:], uint16(channels*2))
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], dataBytes)
	_, err := w.Write(h[:])
	return err
}

// WriteWAV writes a whole mono 16-bit file (tests and tools).
func WriteWAV(path string, rate int, samples []int16) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	b := make([]byte, 2*len(samples))
	for i, v := range samples {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	err = WriteWAVHeader(f, rate, 1, uint32(len(b)))
	if err == nil {
		_, err = f.Write(b)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ReadStereoWAV reads a 16-bit stereo file (a call recording) into its
// left and right channels.
func ReadStereoWAV(path string) (left, right []int16, rate int, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, 0, err
	}
	if len(data) < 44 || string(data[0:4]) != "RIFF" || string(data[8:16]) != "WAVEfmt " ||
		binary.LittleEndian.Uint16(data[22:]) != 2 || binary.LittleEndian.Uint16(data[34:]) != 16 ||
		string(data[36:40]) != "data" {
		return nil, nil, 0, fmt.Errorf("%s: not a 16-bit stereo WAV file as phonesim writes them", path)
	}
	rate = int(binary.LittleEndian.Uint32(data[24:]))
	n := int(binary.LittleEndian.Uint32(data[40:]))
	pcm := data[44:]
	if n > len(pcm) {
		return nil, nil, 0, fmt.Errorf("%s: data chunk says %d bytes, file holds %d", path, n, len(pcm))
	}
	pcm = pcm[:n]
	for i := 0; i+4 <= len(pcm); i += 4 {
		left = append(left, int16(binary.LittleEndian.Uint16(pcm[i:])))
		right = append(right, int16(binary.LittleEndian.Uint16(pcm[i+2:])))
	}
	return left, right, rate, nil
}
