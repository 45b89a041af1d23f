package trace

import (
	"bytes"
	"fmt"
	"net/netip"
	"time"
)

// writeText writes one SIP message as "ngrep -qt -W byline" prints a
// packet: an empty line, the header line
//
//	U 2026/11/30 14:02:11.123456 127.0.0.1:5060 -> 127.0.0.1:5070 #3
//
// (U for UDP, T for TCP followed by the TCP flags " [AP]"; local time with
// microseconds; source -> destination; #N counts the messages of this
// trace), then the message line by line with every byte that is not
// printable ASCII shown as '.', so each CRLF line end shows as ".", and a
// newline. The difference from ngrep: ngrep prints TCP segments, this
// prints whole messages (cut out of the stream), and #N counts messages,
// not captured frames.
func writeText(b *bytes.Buffer, p Packet, msg []byte, frame uint64) {
	ident, flags := "U", ""
	if p.Transport == "TCP" {
		ident, flags = "T", " [AP]"
	}
	fmt.Fprintf(b, "\n%s %s %s -> %s%s #%d\n", ident, ngrepTime(p.Time), ngrepAddr(p.Src()), ngrepAddr(p.Dst()), flags, frame)
	for _, c := range msg {
		switch {
		case c == '\n':
			b.WriteByte('\n')
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			b.WriteByte('.')
		}
	}
	b.WriteByte('\n')
}

// ngrepTime is ngrep -t's time stamp: local time, microseconds.
func ngrepTime(t time.Time) string {
	t = t.Local()
	return fmt.Sprintf("%04d/%02d/%02d %02d:%02d:%02d.%06d", t.Year(), int(t.Month()), t.Day(),
		t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/1000)
}

// ngrepAddr is ngrep's "ip:port" (IPv6 without brackets, as ngrep has it).
func ngrepAddr(a netip.AddrPort) string {
	return fmt.Sprintf("%s:%d", a.Addr().Unmap(), a.Port())
}
