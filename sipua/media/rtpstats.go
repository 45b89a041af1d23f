package media

import (
	"math"
	"time"
)

// rxStats is RFC 3550's per-source receive state: sequence tracking
// (appendix A.1), interarrival jitter (A.8) and what a report block
// needs (A.3).
type rxStats struct {
	init     bool
	ssrc     uint32
	maxSeq   uint16
	cycles   uint32 // count of sequence number wraps, shifted left 16
	baseSeq  uint32
	badSeq   uint32
	received uint32

	expectedPrior, receivedPrior uint32

	// jitter, in timestamp units (1/8000 s)
	transitSet bool
	transit    int64
	jitter     float64
}

const (
	maxDropout  = 3000
	maxMisorder = 100
	seqMod      = 1 << 16
)

func (r *rxStats) initSeq(seq uint16) {
	r.baseSeq = uint32(seq)
	r.maxSeq = seq
	r.badSeq = seqMod + 1
	r.cycles = 0
	r.received = 0
	r.receivedPrior = 0
	r.expectedPrior = 0
}

// updateSeq follows appendix A.1 (without probation: the source is
// already checked by latching). It reports whether the packet counts.
func (r *rxStats) updateSeq(ssrc uint32, seq uint16) bool {
	if !r.init || ssrc != r.ssrc {
		r.init, r.ssrc = true, ssrc
		r.initSeq(seq)
		r.transitSet = false
		r.received++
		return true
	}
	udelta := seq - r.maxSeq
	switch {
	case udelta < maxDropout: // in order, with permissible gap
		if seq < r.maxSeq {
			r.cycles += seqMod // wrapped
		}
		r.maxSeq = seq
	case uint32(udelta) <= seqMod-maxMisorder: // a very large jump
		if uint32(seq) == r.badSeq {
			// two sequential packets: the other side restarted
			r.initSeq(seq)
		} else {
			r.badSeq = (uint32(seq) + 1) & (seqMod - 1)
			return false
		}
	default: // duplicate or reordered
	}
	r.received++
	return true
}

// updateJitter is appendix A.8: arrival and rtpTS in timestamp units.
func (r *rxStats) updateJitter(arrival int64, rtpTS uint32) {
	transit := arrival - int64(rtpTS)
	if !r.transitSet {
		r.transit, r.transitSet = transit, true
		return
	}
	d := transit - r.transit
	r.transit = transit
	// the difference of 32-bit timestamps, unwrapped
	d = int64(int32(d))
	if d < 0 {
		d = -d
	}
	r.jitter += (float64(d) - r.jitter) / 16
}

func (r *rxStats) extendedMax() uint32 { return r.cycles + uint32(r.maxSeq) }

func (r *rxStats) expected() uint32 {
	if !r.init {
		return 0
	}
	return r.extendedMax() - r.baseSeq + 1
}

// lost is the cumulative number of packets lost (A.3); it may be
// negative when duplicates came.
func (r *rxStats) lost() int64 { return int64(r.expected()) - int64(r.received) }

// fractionLost is the loss since the last call, as the 8-bit fraction
// of a report block; it moves the interval on.
func (r *rxStats) fractionLost() uint8 {
	expected := r.expected()
	expectedInterval := expected - r.expectedPrior
	r.expectedPrior = expected
	receivedInterval := r.received - r.receivedPrior
	r.receivedPrior = r.received
	lostInterval := int64(expectedInterval) - int64(receivedInterval)
	if expectedInterval == 0 || lostInterval <= 0 {
		return 0
	}
	return uint8((lostInterval << 8) / int64(expectedInterval))
}

// MOS estimates the listening quality of the received audio with a
// simplified E-model (ITU-T G.107, as Cole & Rosenbluth reduce it for
// G.711):
//
//	d      = one-way delay in ms: RTT/2 (from RTCP; 0 unknown) + jitter buffer + 20 ms packetization
//	Id     = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3)       (H: 1 when positive, else 0)
//	Ie,eff = Ie + (95 − Ie)·Ppl / (Ppl + Bpl), Ie = 0 and Bpl = 4.3 for G.711 without
//	         packet-loss concealment (G.113 Appendix I); Ppl = % of packets lost or late
//	R      = 93.2 − Id − Ie,eff
//	MOS    = 1 + 0.035·R + 7·10⁻⁶·R·(R − 60)·(100 − R), 1 below R = 0, 4.5 above R = 100
//
// Jitter counts through the packets it makes late, not by itself: the
// buffer's fixed delay is in d.
func MOS(lossPercent float64, oneWay time.Duration) float64 {
	d := float64(oneWay) / float64(time.Millisecond)
	id := 0.024 * d
	if d > 177.3 {
		id += 0.11 * (d - 177.3)
	}
	const bpl = 4.3
	ppl := math.Max(lossPercent, 0)
	ie := 95 * ppl / (ppl + bpl)
	r := 93.2 - id - ie
	switch {
	case r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	return max(1, 1+0.035*r+7e-6*r*(r-60)*(100-r)) // the polynomial dips under 1 for R < 6.5
}
