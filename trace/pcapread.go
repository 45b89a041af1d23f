package trace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// Frame is one packet of a pcap file, decoded as far as this package
// writes them: Ethernet, IPv4 or IPv6, UDP or TCP.
type Frame struct {
	Time      time.Time
	Transport string // "UDP" or "TCP"
	Src, Dst  netip.AddrPort
	Seq, Ack  uint32 // TCP
	Flags     uint8  // TCP
	Payload   []byte
	// ChecksumOK: the IPv4 header checksum (if any) and the UDP or TCP
	// checksum verify.
	ChecksumOK bool
}

// ReadPcap reads a classic pcap file of Ethernet frames (what Recorder
// writes, or tcpdump on most interfaces) and decodes each packet. A
// frame that is not IP carrying UDP or TCP is an error.
func ReadPcap(r io.Reader) ([]Frame, error) {
	var h [24]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("pcap header: %w", err)
	}
	var order binary.ByteOrder = binary.LittleEndian
	nano := false
	switch binary.LittleEndian.Uint32(h[:]) {
	case 0xa1b2c3d4:
	case 0xa1b23c4d:
		nano = true
	case 0xd4c3b2a1:
		order = binary.BigEndian
	case 0x4d3cb2a1:
		order, nano = binary.BigEndian, true
	default:
		return nil, errors.New("pcap: not a pcap file")
	}
	if lt := order.Uint32(h[20:]); lt != linkEthernet {
		return nil, fmt.Errorf("pcap: link type %d, want Ethernet", lt)
	}
	var frames []Frame
	for {
		var rh [16]byte
		if _, err := io.ReadFull(r, rh[:]); err == io.EOF {
			return frames, nil
		} else if err != nil {
			return frames, fmt.Errorf("pcap record %d: %w", len(frames)+1, err)
		}
		sec, frac := int64(order.Uint32(rh[0:])), int64(order.Uint32(rh[4:]))
		if !nano {
			frac *= 1000
		}
		n := order.Uint32(rh[8:])
		if n > pcapSnapLen {
			return frames, fmt.Errorf("pcap record %d: length %d", len(frames)+1, n)
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(r, data); err != nil {
			return frames, fmt.Errorf("pcap record %d: %w", len(frames)+1, err)
		}
		f, err := decodeFrame(data)
		if err != nil {
			return frames, fmt.Errorf("pcap record %d: %w", len(frames)+1, err)
		}
		f.Time = time.Unix(sec, frac)
		frames = append(frames, f)
	}
}

func decodeFrame(b []byte) (Frame, error) {
	var f Frame
	if len(b) < ethHeader {
		return f, errors.New("short Ethernet frame")
	}
	eth := binary.BigEndian.Uint16(b[12:])
	b = b[ethHeader:]
	var src, dst netip.Addr
	var proto byte
	var sum uint32
	ok := true
	switch eth {
	case 0x0800:
		if len(b) < ip4Header || b[0]>>4 != 4 {
			return f, errors.New("bad IPv4 header")
		}
		hl := int(b[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(b[2:]))
		if hl < ip4Header || total < hl || total > len(b) {
			return f, errors.New("bad IPv4 lengths")
		}
		ok = fold(add(0, b[:hl])) == 0
		proto = b[9]
		src, dst = netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
		sum = add(add(0, b[12:16]), b[16:20])
		b = b[hl:total]
	case 0x86dd:
		if len(b) < ip6Header || b[0]>>4 != 6 {
			return f, errors.New("bad IPv6 header")
		}
		pl := int(binary.BigEndian.Uint16(b[4:]))
		if ip6Header+pl > len(b) {
			return f, errors.New("bad IPv6 length")
		}
		proto = b[6]
		src, dst = netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
		sum = add(add(0, b[8:24]), b[24:40])
		b = b[ip6Header : ip6Header+pl]
	default:
		return f, fmt.Errorf("EtherType %#04x is not IP", eth)
	}
	sum += uint32(proto) + uint32(len(b))>>16 + uint32(len(b))&0xffff
	ok = ok && fold(add(sum, b)) == 0
	switch proto {
	case protoUDP:
		if len(b) < udpHeader || int(binary.BigEndian.Uint16(b[4:])) != len(b) {
			return f, errors.New("bad UDP header")
		}
		f.Transport = "UDP"
		f.Src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(b[0:]))
		f.Dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:]))
		f.Payload = b[udpHeader:]
	case protoTCP:
		if len(b) < tcpHeader || int(b[12]>>4)*4 < tcpHeader || int(b[12]>>4)*4 > len(b) {
			return f, errors.New("bad TCP header")
		}
		f.Transport = "TCP"
		f.Src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(b[0:]))
		f.Dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:]))
		f.Seq, f.Ack, f.Flags = binary.BigEndian.Uint32(b[4:]), binary.BigEndian.Uint32(b[8:]), b[13]
		f.Payload = b[int(b[12]>>4)*4:]
	default:
		return f, fmt.Errorf("IP protocol %d is not UDP or TCP", proto)
	}
	f.ChecksumOK = ok
	return f, nil
}
