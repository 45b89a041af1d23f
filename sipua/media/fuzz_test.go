package media

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

// Microphone files come from users: no file may panic the reader.
func FuzzReadWAV(f *testing.F) {
	f.Add(wavBytes(1, 1, 8000, 16, pcmBytes(sine(8000, 440, 1000, 32))))
	f.Add(wavBytes(1, 1, 16000, 16, pcmBytes(sine(16000, 440, 1000, 64))))
	f.Add(wavBytes(3, 2, 44100, 32, []byte{1, 2, 3}))
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEdata\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ReadWAV(bytes.NewReader(b))
		if err == nil && len(a.Samples) == 0 {
			t.Fatal("no error and no samples")
		}
	})
}

// RTCP and RTP are network input.
func FuzzRTCP(f *testing.F) {
	f.Add(appendReport(nil, 1, &senderInfo{ntp: 1 << 40}, &reportBlock{ssrc: 2}, "x", true))
	f.Add(appendReport(nil, 1, nil, nil, "", false))
	f.Add([]byte{0x80, 201, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		parseRTCP(b, 2)
	})
}

func FuzzRTPPacket(f *testing.F) {
	f.Add([]byte{0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 42, 0xff, 0xff})
	f.Add([]byte{0x80, 101, 0, 1, 0, 0, 0, 160, 0, 0, 0, 42, 5, 0x8a, 0, 160})
	f.Add([]byte{0xbf, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0})
	s := &Session{mode: Silence, buf: new(buffers)}
	s.params = Params{PayloadType: PayloadPCMU, DTMFType: 101}
	s.codec = PCMU
	from := netip.MustParseAddrPort("127.0.0.1:4000")
	now := time.Now()
	f.Fuzz(func(t *testing.T, b []byte) {
		s.handlePacket(b, from, now)
		now = now.Add(FrameInterval)
		s.mu.Lock()
		s.playLocked(now)
		s.mu.Unlock()
	})
}
