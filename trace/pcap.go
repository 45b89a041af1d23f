package trace

import (
	"encoding/binary"
	"io"
	"net/netip"
	"time"
)

// The pcap file format (the classic libpcap one, which Wireshark, tshark,
// tcpdump, ngrep and sngrep all read): a 24-byte file header, then per
// packet a 16-byte record header and the packet's bytes. Packets are
// Ethernet frames (link type 1, as a capture on Linux's loopback
// interface gives: both MAC addresses zero) carrying IPv4 or IPv6, then
// UDP or TCP, with correct lengths and checksums. Little-endian,
// microsecond time stamps.
const (
	pcapMagic    = 0xa1b2c3d4
	pcapSnapLen  = 262144
	linkEthernet = 1

	ethHeader  = 14
	ip4Header  = 20
	ip6Header  = 40
	udpHeader  = 8
	tcpHeader  = 20
	protoTCP   = 6
	protoUDP   = 17
	tcpFlagPSH = 0x08
	tcpFlagACK = 0x10
)

// maxSegment is the most TCP payload one synthesised segment carries, so
// an IPv4 packet's length fits its 16 bits; a longer write becomes
// several segments.
const maxSegment = 65535 - ip4Header - tcpHeader

type pcapWriter struct {
	w    io.Writer
	ipID uint16
	buf  []byte
}

func (pw *pcapWriter) header() error {
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], pcapMagic)
	binary.LittleEndian.PutUint16(h[4:], 2) // version 2.4
	binary.LittleEndian.PutUint16(h[6:], 4)
	// [8:16] time zone and accuracy: 0
	binary.LittleEndian.PutUint32(h[16:], pcapSnapLen)
	binary.LittleEndian.PutUint32(h[20:], linkEthernet)
	_, err := pw.w.Write(h[:])
	return err
}

// udp writes one UDP datagram.
func (pw *pcapWriter) udp(t time.Time, src, dst netip.AddrPort, payload []byte) error {
	l4 := make([]byte, udpHeader, udpHeader+len(payload))
	binary.BigEndian.PutUint16(l4[0:], src.Port())
	binary.BigEndian.PutUint16(l4[2:], dst.Port())
	binary.BigEndian.PutUint16(l4[4:], uint16(udpHeader+len(payload)))
	l4 = append(l4, payload...)
	return pw.packet(t, src.Addr(), dst.Addr(), protoUDP, l4, 6)
}

// tcp writes one TCP segment carrying payload (flags ACK and PSH).
func (pw *pcapWriter) tcp(t time.Time, src, dst netip.AddrPort, seq, ack uint32, payload []byte) error {
	l4 := make([]byte, tcpHeader, tcpHeader+len(payload))
	binary.BigEndian.PutUint16(l4[0:], src.Port())
	binary.BigEndian.PutUint16(l4[2:], dst.Port())
	binary.BigEndian.PutUint32(l4[4:], seq)
	binary.BigEndian.PutUint32(l4[8:], ack)
	l4[12] = (tcpHeader / 4) << 4
	l4[13] = tcpFlagACK | tcpFlagPSH
	binary.BigEndian.PutUint16(l4[14:], 65535) // window
	l4 = append(l4, payload...)
	return pw.packet(t, src.Addr(), dst.Addr(), protoTCP, l4, 16)
}

// packet wraps a UDP or TCP packet (l4, its checksum field at csum still
// zero) in IP and Ethernet and writes the record.
func (pw *pcapWriter) packet(t time.Time, src, dst netip.Addr, proto byte, l4 []byte, csum int) error {
	src, dst = src.Unmap(), dst.Unmap()
	if src.Is4() != dst.Is4() { // one end v4, the other v6: show both as v6
		src, dst = netip.AddrFrom16(src.As16()), netip.AddrFrom16(dst.As16())
	}
	if !src.IsValid() || !dst.IsValid() {
		src, dst = netip.IPv4Unspecified(), netip.IPv4Unspecified()
	}
	v4 := src.Is4()

	// checksum over the pseudo header and the segment (RFC 768, 793, 8200)
	var sum uint32
	if v4 {
		s, d := src.As4(), dst.As4()
		sum = add(sum, s[:])
		sum = add(sum, d[:])
	} else {
		s, d := src.As16(), dst.As16()
		sum = add(sum, s[:])
		sum = add(sum, d[:])
	}
	sum += uint32(proto) + uint32(len(l4))>>16 + uint32(len(l4))&0xffff
	c := fold(add(sum, l4))
	if c == 0 && proto == protoUDP {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(l4[csum:], c)

	b := pw.buf[:0]
	b = append(b, make([]byte, 16+ethHeader)...) // record header, Ethernet (MACs 0)
	if v4 {
		binary.BigEndian.PutUint16(b[16+12:], 0x0800)
		ip := make([]byte, ip4Header)
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(ip4Header+len(l4)))
		pw.ipID++
		binary.BigEndian.PutUint16(ip[4:], pw.ipID)
		ip[6] = 0x40 // don't fragment
		ip[8] = 64   // TTL
		ip[9] = proto
		s, d := src.As4(), dst.As4()
		copy(ip[12:], s[:])
		copy(ip[16:], d[:])
		binary.BigEndian.PutUint16(ip[10:], fold(add(0, ip)))
		b = append(b, ip...)
	} else {
		binary.BigEndian.PutUint16(b[16+12:], 0x86dd)
		ip := make([]byte, ip6Header)
		ip[0] = 0x60
		binary.BigEndian.PutUint16(ip[4:], uint16(len(l4)))
		ip[6] = proto
		ip[7] = 64 // hop limit
		s, d := src.As16(), dst.As16()
		copy(ip[8:], s[:])
		copy(ip[24:], d[:])
		b = append(b, ip...)
	}
	b = append(b, l4...)

	n := len(b) - 16
	us := t.UnixMicro()
	binary.LittleEndian.PutUint32(b[0:], uint32(us/1e6))
	binary.LittleEndian.PutUint32(b[4:], uint32(us%1e6))
	binary.LittleEndian.PutUint32(b[8:], uint32(min(n, pcapSnapLen)))
	binary.LittleEndian.PutUint32(b[12:], uint32(n))
	if n > pcapSnapLen {
		b = b[:16+pcapSnapLen]
	}
	pw.buf = b
	_, err := pw.w.Write(b)
	return err
}

// add adds b as big-endian 16-bit words to the one's complement sum.
func add(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

func fold(sum uint32) uint16 {
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}
