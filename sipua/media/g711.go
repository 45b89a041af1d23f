// Package media carries a call's audio: G.711 frames in RTP over UDP,
// and RFC 4733 telephone-events for DTMF.
package media

// G.711 as ITU-T defines it: 16-bit linear PCM in, one byte per sample
// out. pion/rtp has no codecs, so these are ours.

const (
	muLawBias = 0x84
	muLawClip = 32635
)

// EncodeMuLaw compresses one linear sample to μ-law (PCMU).
func EncodeMuLaw(sample int16) byte {
	v := int(sample)
	sign := 0
	if v < 0 {
		v = -v
		sign = 0x80
	}
	if v > muLawClip {
		v = muLawClip
	}
	v += muLawBias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mantissa := (v >> (exp + 3)) & 0x0f
	return ^byte(sign | exp<<4 | mantissa)
}

// DecodeMuLaw expands one μ-law byte to a linear sample.
func DecodeMuLaw(b byte) int16 {
	u := ^b
	t := (int(u&0x0f) << 3) + muLawBias
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(muLawBias - t)
	}
	return int16(t - muLawBias)
}

// EncodeALaw compresses one linear sample to A-law (PCMA).
func EncodeALaw(sample int16) byte {
	v := int(sample) >> 3 // A-law works on 13 bits
	mask := byte(0xd5)
	if v < 0 {
		mask = 0x55
		v = -v - 1
	}
	seg := 0
	for end := 0x1f; seg < 8 && v > end; end = end<<1 | 1 {
		seg++
	}
	if seg >= 8 {
		return 0x7f ^ mask
	}
	a := seg << 4
	if seg < 2 {
		a |= (v >> 1) & 0x0f
	} else {
		a |= (v >> seg) & 0x0f
	}
	return byte(a) ^ mask
}

// DecodeALaw expands one A-law byte to a linear sample.
func DecodeALaw(b byte) int16 {
	a := b ^ 0x55
	t := int(a&0x0f) << 4
	switch seg := (a & 0x70) >> 4; seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t = (t + 0x108) << (seg - 1)
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}
