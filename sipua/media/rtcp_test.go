package media

import (
	"testing"
	"time"
)

func TestRTCPRoundTrip(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 500_000_000, time.UTC)
	si := &senderInfo{ntp: ntpTime(now), rtpTS: 12345, packets: 250, octets: 40000}
	rb := &reportBlock{ssrc: 0xabcd, fractionLost: 12, cumLost: -3, extMaxSeq: 70000, jitter: 37, lsr: 0x11112222, dlsr: 0x00010000}
	b := appendReport(nil, 0x1234, si, rb, "phonesim-test", true)
	if len(b)%4 != 0 {
		t.Fatalf("length %d", len(b))
	}
	info, ok := parseRTCP(b, 0xabcd)
	if !ok || !info.isSR || info.senderSSRC != 0x1234 || info.srNTP != si.ntp || !info.bye {
		t.Fatalf("parsed %+v, %v", info, ok)
	}
	if info.block == nil || *info.block != *rb {
		t.Fatalf("block %+v, want %+v", info.block, rb)
	}
	// a block about another stream is not ours
	if info, _ := parseRTCP(b, 0x9999); info.block != nil {
		t.Error("foreign block taken")
	}
	// an RR without blocks
	rr := appendReport(nil, 0x1234, nil, nil, "x", false)
	if info, ok := parseRTCP(rr, 1); !ok || info.isSR || info.block != nil {
		t.Errorf("RR %+v %v", info, ok)
	}
	// NTP: the half second is 0x80000000 in the fraction
	if f := uint32(ntpTime(now)); f != 0x80000000 {
		t.Errorf("NTP fraction %#x", f)
	}
}

func TestRTCPRefusesGarbage(t *testing.T) {
	for _, b := range [][]byte{
		{0x80},                        // short
		{0x40, 201, 0, 1, 0, 0, 0, 1}, // version 1
		{0x80, 202, 0, 1, 0, 0, 0, 1}, // starts with SDES
		{0x80, 201, 0, 9, 0, 0, 0, 1}, // length beyond the packet
		{0x81, 200, 0, 1, 0, 0, 0, 1}, // SR too short for sender info
	} {
		if _, ok := parseRTCP(b, 1); ok {
			t.Errorf("% x accepted", b)
		}
	}
}
