package sipua

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/emiago/sipgo/sip"
)

// Text from the network (display names, header values) reaches screens,
// logs, web pages and Action URLs. It is made inert here, once.
// Caps on what the phone keeps of a value from the network. They are far
// above what a real PBX sends (a display name, a Call-ID, a CRM header),
// so values reach the core, the Action URLs and the logs whole; a value
// over its cap is cut and the call's log says so (cutNote).
const (
	maxDisplayRunes = 1024
	maxHeaderRunes  = 4096
)

// cutNote names the values of an INVITE that inert cut to their cap, for
// one log line ("" when none was cut).
func cutNote(display, callID, from string, headers []sip.Header) string {
	var cut []string
	note := func(what, v string, limit int) {
		if n := utf8.RuneCountInString(v); n > limit {
			cut = append(cut, fmt.Sprintf("%s (%d characters, kept %d)", what, n, limit))
		}
	}
	note("display name", display, maxDisplayRunes)
	note("Call-ID", callID, maxHeaderRunes)
	note("From", from, maxHeaderRunes)
	for _, h := range headers {
		note(h.Name(), h.Value(), maxHeaderRunes)
	}
	return strings.Join(cut, ", ")
}

// inert removes what could drive a terminal or forge a line: every C0
// control (ESC, CR, LF; TAB becomes a space), DEL, every C1 control,
// bidirectional overrides and invalid UTF-8. It trims spaces and keeps at
// most limit runes.
func inert(s string, limit int) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(s) && n < limit; {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size <= 1:
			continue
		case r == '\t':
			r = ' '
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
			continue
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			continue
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// InertDisplay makes a display name safe to show (see inert).
func InertDisplay(s string) string { return inert(s, maxDisplayRunes) }

// privateHeaders are the headers $sip_header() may not name: routing,
// dialog identity, body framing and credentials. Compact forms included.
var privateHeaders = map[string]bool{
	"via": true, "v": true,
	"to": true, "t": true,
	"from": true, "f": true,
	"call-id": true, "i": true,
	"route": true, "record-route": true,
	"contact": true, "m": true,
	"cseq":           true,
	"max-forwards":   true,
	"content-length": true, "l": true,
	"content-type": true, "c": true,
	"content-encoding": true, "e": true,
	"authorization": true, "proxy-authorization": true,
}

// headerMap returns the headers of req that $sip_header() may name, with
// canonical names ("X-Custom", "P-Asserted-Identity") and inert values.
// Repeated headers are joined with ", ".
func headerMap(req *sip.Request) map[string]string {
	m := map[string]string{}
	for _, h := range req.Headers() {
		lower := strings.ToLower(h.Name())
		if privateHeaders[lower] || strings.HasPrefix(lower, "content-") || !isToken(lower) {
			continue
		}
		name := canonicalHeader(lower)
		v := inert(h.Value(), maxHeaderRunes)
		if old, ok := m[name]; ok {
			v = inert(old+", "+v, maxHeaderRunes)
		}
		m[name] = v
	}
	return m
}

func canonicalHeader(lower string) string {
	b := []byte(lower)
	up := true
	for i, c := range b {
		if up && c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		up = c == '-'
	}
	return string(b)
}

// isToken reports whether s is a non-empty RFC 3261 token.
func isToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-.!%*_+`'~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
