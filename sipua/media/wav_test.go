package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wavBytes builds a WAV file by hand, with a LIST chunk of odd length
// before the data to be skipped.
func wavBytes(format, channels uint16, rate uint32, bits uint16, data []byte) []byte {
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(0)) // sizes are not checked
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(format)
	w(channels)
	w(rate)
	w(rate * uint32(channels) * uint32(bits) / 8)
	w(channels * bits / 8)
	w(bits)
	b.WriteString("LIST")
	w(uint32(3))
	b.WriteString("abc\x00") // 3 bytes and the pad byte
	b.WriteString("data")
	w(uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

func sine(rate int, hz, amp float64, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return s
}

func pcmBytes(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func rms(s []int16) float64 {
	sum := 0.0
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(s)))
}

func TestReadWAV8k(t *testing.T) {
	in := sine(8000, 1000, 10000, 800)
	a, err := ReadWAV(bytes.NewReader(wavBytes(1, 1, 8000, 16, pcmBytes(in))))
	if err != nil {
		t.Fatal(err)
	}
	if a.Rate != 8000 || len(a.Samples) != 800 || a.Samples[2] != in[2] {
		t.Fatalf("got rate %d, %d samples", a.Rate, len(a.Samples))
	}
}

// 16 kHz is resampled: 1 kHz passes at full level, 6 kHz (above the new
// Nyquist frequency) is filtered away instead of folding to 2 kHz.
func TestReadWAV16kResamples(t *testing.T) {
	for _, tc := range []struct {
		hz     float64
		lo, hi float64 // output RMS over input RMS
	}{{1000, 0.97, 1.03}, {3000, 0.9, 1.05}, {6000, 0, 0.01}} {
		in := sine(16000, tc.hz, 10000, 16000)
		a, err := ReadWAV(bytes.NewReader(wavBytes(1, 1, 16000, 16, pcmBytes(in))))
		if err != nil {
			t.Fatal(err)
		}
		if a.Rate != 16000 || len(a.Samples) != 8000 {
			t.Fatalf("rate %d, %d samples", a.Rate, len(a.Samples))
		}
		mid := a.Samples[100 : len(a.Samples)-100] // past the filter's edges
		if g := rms(mid) / rms(in); g < tc.lo || g > tc.hi {
			t.Errorf("%v Hz: gain %.3f, want %.2f–%.2f", tc.hz, g, tc.lo, tc.hi)
		}
	}
}

func TestReadWAVExtensible(t *testing.T) {
	raw := wavBytes(0xfffe, 1, 8000, 16, pcmBytes(sine(8000, 500, 1000, 160)))
	// grow fmt to the 40 bytes of WAVE_FORMAT_EXTENSIBLE, sub-format PCM
	fmtChunk := raw[12 : 12+8+16]
	ext := append([]byte{}, fmtChunk...)
	binary.LittleEndian.PutUint32(ext[4:], 40)
	ext = append(ext, 22, 0, 16, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71)
	file := append(append(append([]byte{}, raw[:12]...), ext...), raw[12+8+16:]...)
	if _, err := ReadWAV(bytes.NewReader(file)); err != nil {
		t.Fatal(err)
	}
}

// Anything but 16-bit mono PCM at 8 or 16 kHz is a clear error.
func TestReadWAVRefuses(t *testing.T) {
	data := pcmBytes(sine(8000, 500, 1000, 160))
	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"stereo", wavBytes(1, 2, 8000, 16, data), "2 channels"},
		{"44.1 kHz", wavBytes(1, 1, 44100, 16, data), "44100 Hz"},
		{"8-bit", wavBytes(1, 1, 8000, 8, data), "8-bit samples"},
		{"float", wavBytes(3, 1, 8000, 32, data), "floating point"},
		{"A-law", wavBytes(6, 1, 8000, 8, data), "A-law"},
		{"not RIFF", []byte("ID3\x03 an mp3 file, really"), "not a WAV file"},
		{"empty", wavBytes(1, 1, 8000, 16, nil), "no samples"},
		{"no data", wavBytes(1, 1, 8000, 16, data)[:50], "no data chunk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadWAV(bytes.NewReader(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if tc.name != "empty" && !errors.Is(err, ErrWAVFormat) {
				t.Errorf("%v does not wrap ErrWAVFormat", err)
			}
		})
	}
}

func TestLoadWAVNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mic.wav")
	os.WriteFile(path, wavBytes(1, 2, 8000, 16, nil), 0o644)
	_, err := LoadWAV(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+": 2 channels") {
		t.Fatalf("err = %v", err)
	}
	if _, err := LoadWAV(filepath.Join(t.TempDir(), "missing.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// A loop wraps seamlessly; WriteWAV and LoadWAV agree.
func TestLoopAndWriteWAV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.wav")
	in := []int16{1, 2, 3, 4, 5}
	if err := WriteWAV(path, 8000, in); err != nil {
		t.Fatal(err)
	}
	a, err := LoadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	l := NewLoop(a)
	frame := make([]int16, 12)
	l.Read(frame)
	want := []int16{1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2}
	for i := range want {
		if frame[i] != want[i] {
			t.Fatalf("loop %v", frame)
		}
	}
	l.Read(frame[:3])
	if frame[0] != 3 || frame[2] != 5 {
		t.Fatalf("loop continues %v", frame[:3])
	}
}
