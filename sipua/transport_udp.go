package sipua

import (
	"bytes"
	"net"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
)

// maxUDPMessage is the largest SIP message a UDP datagram carries (65 535
// less the IPv4 and UDP headers).
const maxUDPMessage = 65507

// sipgo refuses to write any UDP message over UDPMTUSize-200 (1300) bytes
// and the refusal kills the server transaction: a large 180/200 (a long
// display name, many Record-Route) never left, and each INVITE
// retransmission became a new call. RFC 3261 §18.2.2 sends a response
// over the transport the request came on, whatever its size; the
// maintainer's advice is to raise the variable (sipgo #206, #208). Set
// before any transport runs, so no goroutine reads it concurrently.
func init() { sip.UDPMTUSize = maxUDPMessage + 200 }

// screenDatagram is sipgo's UDP read filter. sipgo drops a datagram it
// cannot parse without a word; for the framing and request-line errors
// that RFC 3261 §18.3 and RFC 4475 (clerr, ncl, mcl01, ltgtruri,
// lwsruri, lwsstart, trws, novelsc) want answered, it answers 400 (416
// for a Request-URI scheme) statelessly and drops the datagram. It only
// looks at the start line and the Content-Length lines: no allocation on
// the good path. Streams are framed by sipgo, which closes a connection
// whose framing breaks.
func (u *UA) screenDatagram(p sip.TransportReadProps, data []byte) ([]byte, error) {
	if p.Transport != "UDP" {
		return data, nil
	}
	status, reason := checkDatagram(data)
	if status == 0 {
		return data, nil
	}
	if res := statelessResponse(data, status, reason, u.cfg.UserAgent); res != nil {
		if to := responseAddr(data, p.RemoteAddr); to != nil {
			if _, err := u.writeUDP(res, to); err != nil {
				u.logf(firmware.Debug, "sip: answering a malformed datagram: %v", err)
			}
		}
	}
	u.logf(firmware.Notice, "sip: malformed request from %s refused: %d %s", p.RemoteAddr, status, reason)
	return nil, nil // never an error: sipgo would stop reading
}

// writeUDP sends b from the listening socket through sipgo's connection,
// so the SIP trace (trace.go) sees it like any other message.
func (u *UA) writeUDP(b []byte, to net.Addr) (int, error) {
	if c, err := u.sua.TransportLayer().GetConnection("udp", u.udp.LocalAddr().String()); err == nil {
		defer c.TryClose() // GetConnection took a reference
		if uc, ok := c.(*sip.UDPConnection); ok {
			return uc.WriteTo(b, to)
		}
	}
	return u.udp.WriteTo(b, to)
}

// checkDatagram returns the answer a malformed request datagram gets, 0
// for anything else (good requests, responses, keep-alives, noise).
func checkDatagram(data []byte) (int, string) {
	eol := bytes.IndexByte(data, '\n')
	if eol < 0 || bytes.HasPrefix(data, []byte("SIP/")) {
		return 0, ""
	}
	line := bytes.TrimSuffix(data[:eol], []byte("\r"))
	// Only what looks like a request line ends in a SIP version.
	sp := bytes.LastIndexByte(bytes.TrimRight(line, " \t"), ' ')
	if sp < 0 || len(line) < sp+5 || !bytes.EqualFold(line[sp+1:sp+5], []byte("SIP/")) {
		return 0, ""
	}
	method, rest, _ := bytes.Cut(line, []byte(" "))
	uri, version, ok := bytes.Cut(rest, []byte(" "))
	if len(method) == 0 || !ok || len(uri) == 0 || bytes.ContainsAny(version, " \t") || bytes.ContainsAny(uri, " \t") {
		return 400, "Bad Request (request line)"
	}
	if bytes.Equal(method, []byte("ACK")) {
		return 0, "" // never answered; sipgo drops it if it must
	}
	if uri[0] == '<' {
		return 400, "Bad Request (Request-URI in <>)"
	}
	scheme, _, ok := bytes.Cut(uri, []byte(":"))
	if !ok {
		return 400, "Bad Request (Request-URI)"
	}
	if !bytes.EqualFold(scheme, []byte("sip")) && !bytes.EqualFold(scheme, []byte("sips")) && !bytes.EqualFold(scheme, []byte("tel")) {
		return 416, "Unsupported URI Scheme"
	}
	// §18.3: a datagram's body is what follows the headers; Content-Length
	// may not claim more, nor be given twice, nor be negative.
	end := bytes.Index(data, []byte("\r\n\r\n"))
	if end < 0 {
		return 0, "" // sipgo's to judge (bare LF lines, a cut message)
	}
	body := len(data) - end - 4
	count, length := 0, 0
	for hdr := data[eol+1 : end+2]; len(hdr) > 0; {
		i := bytes.IndexByte(hdr, '\n')
		l := hdr[:i+1]
		hdr = hdr[i+1:]
		name, value, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimRight(name, " \t")
		if !bytes.EqualFold(name, []byte("Content-Length")) && !bytes.EqualFold(name, []byte("l")) {
			continue
		}
		count++
		n, err := strconv.Atoi(string(bytes.TrimSpace(value)))
		if err != nil || n < 0 {
			return 400, "Bad Request (Content-Length)"
		}
		length = n
	}
	if count > 1 {
		return 400, "Bad Request (more than one Content-Length)"
	}
	if length > body {
		return 400, "Bad Request (Content-Length beyond the datagram)"
	}
	return 0, ""
}

// statelessResponse builds a response to a request sipgo cannot parse
// from its header lines (RFC 3261 §8.2.6: Via, From, To with a tag,
// Call-ID, CSeq copied); nil without a Via.
func statelessResponse(data []byte, status int, reason, agent string) []byte {
	end := bytes.Index(data, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(data)
	}
	var vias, others [][2]string
	hasTag := false
	for _, l := range unfold(string(data[:end])) {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "via", "v":
			vias = append(vias, [2]string{"Via", value})
		case "from", "f":
			others = append(others, [2]string{"From", value})
		case "to", "t":
			hasTag = strings.Contains(strings.ToLower(value), "tag=")
			others = append(others, [2]string{"To", value})
		case "call-id", "i":
			others = append(others, [2]string{"Call-ID", value})
		case "cseq":
			others = append(others, [2]string{"CSeq", value})
		}
	}
	if len(vias) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("SIP/2.0 " + strconv.Itoa(status) + " " + reason + "\r\n")
	for _, h := range append(vias, others...) {
		b.WriteString(h[0] + ": " + h[1])
		if h[0] == "To" && !hasTag {
			b.WriteString(";tag=" + randomHex(8))
		}
		b.WriteString("\r\n")
	}
	b.WriteString("User-Agent: " + agent + "\r\nContent-Length: 0\r\n\r\n")
	return []byte(b.String())
}

// unfold splits a header block into lines, joining continuation lines.
func unfold(block string) []string {
	var lines []string
	for _, l := range strings.Split(block, "\n") {
		l = strings.TrimSuffix(l, "\r")
		if len(lines) > 0 && l != "" && (l[0] == ' ' || l[0] == '\t') {
			lines[len(lines)-1] += " " + strings.TrimSpace(l)
			continue
		}
		lines = append(lines, l)
	}
	return lines
}

// responseAddr is where a UDP response goes (RFC 3261 §18.2.2, RFC 3581):
// the source address, at the top Via's port unless it asks for rport.
func responseAddr(data []byte, src net.Addr) net.Addr {
	ua, ok := src.(*net.UDPAddr)
	if !ok {
		return src
	}
	end := bytes.Index(data, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(data)
	}
	for _, l := range unfold(string(data[:end])) {
		name, value, ok := strings.Cut(l, ":")
		if n := strings.ToLower(strings.TrimSpace(name)); !ok || (n != "via" && n != "v") {
			continue
		}
		value, _, _ = strings.Cut(value, ",")
		sentBy, params, _ := strings.Cut(value, ";")
		if strings.Contains(";"+strings.ToLower(strings.ReplaceAll(params, " ", ""))+";", ";rport;") {
			return ua
		}
		fields := strings.Fields(sentBy)
		port := 5060
		if len(fields) > 0 {
			hostport := fields[len(fields)-1]
			if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.HasSuffix(hostport, "]") {
				if p, err := strconv.Atoi(hostport[i+1:]); err == nil && p > 0 && p < 65536 {
					port = p
				}
			}
		}
		return &net.UDPAddr{IP: ua.IP, Port: port, Zone: ua.Zone}
	}
	return nil
}
