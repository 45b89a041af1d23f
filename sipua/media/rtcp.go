package media

import (
	"encoding/binary"
	"time"
)

// RTCP (RFC 3550 §6): a compound packet of a sender or receiver report
// and an SDES with our CNAME, every rtcpInterval on the RTP port + 1.
// pion/rtcp would do; these few lines keep the dependency out.

const (
	rtcpSR   = 200
	rtcpRR   = 201
	rtcpSDES = 202
	rtcpBYE  = 203
)

// RTCPInterval is how often a session reports.
const RTCPInterval = 5 * time.Second

// reportBlock is one reception report (§6.4.1).
type reportBlock struct {
	ssrc         uint32
	fractionLost uint8
	cumLost      int32 // 24 bits on the wire
	extMaxSeq    uint32
	jitter       uint32
	lsr, dlsr    uint32
}

func (b reportBlock) put(p []byte) {
	binary.BigEndian.PutUint32(p[0:], b.ssrc)
	cl := b.cumLost
	if cl > 0x7fffff {
		cl = 0x7fffff
	} else if cl < -0x800000 {
		cl = -0x800000
	}
	binary.BigEndian.PutUint32(p[4:], uint32(b.fractionLost)<<24|uint32(cl)&0xffffff)
	binary.BigEndian.PutUint32(p[8:], b.extMaxSeq)
	binary.BigEndian.PutUint32(p[12:], b.jitter)
	binary.BigEndian.PutUint32(p[16:], b.lsr)
	binary.BigEndian.PutUint32(p[20:], b.dlsr)
}

func parseReportBlock(p []byte) reportBlock {
	cl := int32(binary.BigEndian.Uint32(p[4:])<<8) >> 8 // sign-extend 24 bits
	return reportBlock{
		ssrc:         binary.BigEndian.Uint32(p[0:]),
		fractionLost: p[4],
		cumLost:      cl,
		extMaxSeq:    binary.BigEndian.Uint32(p[8:]),
		jitter:       binary.BigEndian.Uint32(p[12:]),
		lsr:          binary.BigEndian.Uint32(p[16:]),
		dlsr:         binary.BigEndian.Uint32(p[20:]),
	}
}

// ntpTime is t as a 64-bit NTP timestamp.
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800 // 1900 → 1970
	sec := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return sec<<32 | frac
}

// ntpMiddle is the middle 32 bits of an NTP timestamp (LSR, DLSR units:
// 1/65536 s).
func ntpMiddle(t time.Time) uint32 { return uint32(ntpTime(t) >> 16) }

// senderInfo is the sender part of an SR.
type senderInfo struct {
	ntp     uint64
	rtpTS   uint32
	packets uint32
	octets  uint32
}

// appendReport appends an SR (with si) or an RR (si nil) with at most
// one report block, then an SDES CNAME, and optionally a BYE.
func appendReport(b []byte, ssrc uint32, si *senderInfo, rb *reportBlock, cname string, bye bool) []byte {
	rc := 0
	if rb != nil {
		rc = 1
	}
	pt, words := rtcpRR, 1+6*rc
	if si != nil {
		pt, words = rtcpSR, 1+5+6*rc
	}
	start := len(b)
	b = append(b, make([]byte, 4+4*words)...)
	p := b[start:]
	p[0] = 2<<6 | byte(rc)
	p[1] = byte(pt)
	binary.BigEndian.PutUint16(p[2:], uint16(words))
	binary.BigEndian.PutUint32(p[4:], ssrc)
	off := 8
	if si != nil {
		binary.BigEndian.PutUint64(p[8:], si.ntp)
		binary.BigEndian.PutUint32(p[16:], si.rtpTS)
		binary.BigEndian.PutUint32(p[20:], si.packets)
		binary.BigEndian.PutUint32(p[24:], si.octets)
		off = 28
	}
	if rb != nil {
		rb.put(p[off:])
	}

	// SDES: one chunk, CNAME item, end, padded to 32 bits
	if len(cname) > 255 {
		cname = cname[:255]
	}
	chunk := 4 + 2 + len(cname) + 1
	chunk += (4 - chunk%4) % 4
	start = len(b)
	b = append(b, make([]byte, 4+chunk)...)
	p = b[start:]
	p[0] = 2<<6 | 1
	p[1] = rtcpSDES
	binary.BigEndian.PutUint16(p[2:], uint16(chunk/4))
	binary.BigEndian.PutUint32(p[4:], ssrc)
	p[8] = 1 // CNAME
	p[9] = byte(len(cname))
	copy(p[10:], cname)

	if bye {
		start = len(b)
		b = append(b, make([]byte, 8)...)
		p = b[start:]
		p[0] = 2<<6 | 1
		p[1] = rtcpBYE
		binary.BigEndian.PutUint16(p[2:], 1)
		binary.BigEndian.PutUint32(p[4:], ssrc)
	}
	return b
}

// rtcpInfo is what a received compound packet told us.
type rtcpInfo struct {
	senderSSRC uint32
	isSR       bool
	srNTP      uint64
	block      *reportBlock // the report about our stream, if any
	bye        bool
}

// parseRTCP walks a compound packet. ok is false when it is not RTCP
// version 2 or its lengths do not add up.
func parseRTCP(b []byte, ourSSRC uint32) (info rtcpInfo, ok bool) {
	first := true
	for len(b) > 0 {
		if len(b) < 4 || b[0]>>6 != 2 {
			return info, false
		}
		n := 4 * (int(binary.BigEndian.Uint16(b[2:])) + 1)
		if n > len(b) {
			return info, false
		}
		p, rc, pt := b[:n], int(b[0]&0x1f), b[1]
		if first && pt != rtcpSR && pt != rtcpRR {
			return info, false // a compound packet starts with a report (§6.1)
		}
		first = false
		switch pt {
		case rtcpSR, rtcpRR:
			off := 8
			if len(p) < 8 {
				return info, false
			}
			info.senderSSRC = binary.BigEndian.Uint32(p[4:])
			if pt == rtcpSR {
				if len(p) < 28 {
					return info, false
				}
				info.isSR = true
				info.srNTP = binary.BigEndian.Uint64(p[8:])
				off = 28
			}
			for i := 0; i < rc && off+24 <= len(p); i++ {
				if blk := parseReportBlock(p[off:]); blk.ssrc == ourSSRC {
					info.block = &blk
				}
				off += 24
			}
		case rtcpBYE:
			info.bye = true
		}
		b = b[n:]
	}
	return info, true
}
