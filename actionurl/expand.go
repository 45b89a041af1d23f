// Package actionurl expands snom Action URL templates and pascom client
// action arguments. It is pure: no I/O, no clock, no goroutines, so the
// firmware core can use it. Sending the requests is actionurl/dispatch's job.
package actionurl

import (
	"strings"
)

// Vars looks up a variable's value by name ("local", "call-id",
// "user_name1", "mac"). A header taken from the call's first INVITE is
// looked up as "sip_header:" plus its name in lower case
// ("sip_header:x-crm-id"). ok is false for a name Vars does not know; a
// known variable that does not apply to the event should report "", true.
type Vars interface {
	Lookup(name string) (value string, ok bool)
}

// Map is Vars held in a map.
type Map map[string]string

// Lookup returns m[name].
func (m Map) Lookup(name string) (string, bool) {
	v, ok := m[name]
	return v, ok
}

// HeaderVar is the name under which Vars holds a SIP header's value for
// $sip_header(NAME): "sip_header:" plus NAME in lower case.
func HeaderVar(name string) string { return "sip_header:" + strings.ToLower(name) }

// Expand substitutes $name, ${name} and $sip_header(NAME) in a URL
// template, following snom:
//
//   - a bare $name is the longest run of [A-Za-z0-9_-] that Vars knows
//     ($local_ip before $local); the rest of the run stays as text. When no
//     prefix of the run is known, the whole run expands to empty.
//   - ${name} names exactly name; unknown, it expands to empty.
//   - $sip_header(NAME) is Vars' HeaderVar(NAME).
//   - a '&' directly after a bare $name ends the name and is dropped
//     (http://h/$mac&/x), except in the query when it is followed by a
//     parameter name and '=' (?a=$local&b=2): there it is the separator
//     and stays.
//   - a '$' that starts none of these stays as it is.
//
// Values are cleaned and encoded for where they stand, so that no value
// can change the scheme, host, port or path structure, or add a query
// parameter: CR, LF and NUL are removed; in the host and port only
// letters, digits and "-._~" are kept (and ':' inside a literal "[...]");
// everywhere else (user info, path, query, fragment) every byte but
// letters, digits and "-._~" is percent-encoded, and in the path a value
// made only of dots is encoded whole ("%2E%2E"). Where a value stands is
// decided by the template's own characters: the authority follows a
// literal "scheme://" (or a leading "//") up to the first '/', '?' or '#';
// the query follows the first '?'; the fragment the first '#'. The
// template's text outside variables is copied unchanged, with one
// exception: a template with no literal authority whose expansion would
// start one (empty values joining slashes: "http:/$a/$b") has the second
// slash encoded as "%2F", so values cannot supply a host.
func Expand(template string, vars Vars) string {
	if strings.IndexByte(template, '$') < 0 {
		return template
	}
	l := layout(template)
	var b strings.Builder
	b.Grow(len(template) + 32)
	for i := 0; i < len(template); {
		if template[i] != '$' {
			j := strings.IndexByte(template[i:], '$')
			if j < 0 {
				j = len(template) - i
			}
			b.WriteString(template[i : i+j])
			i += j
			continue
		}
		r := l.regionAt(template, i)
		name, end, bare, ok := reference(template, i, vars)
		if !ok {
			b.WriteByte('$')
			i++
			continue
		}
		var v string
		if vars != nil {
			v, _ = vars.Lookup(name)
		}
		writeValue(&b, v, r)
		i = end
		if bare && i < len(template) && template[i] == '&' && !(r == query && startsParam(template[i+1:])) {
			i++
		}
	}
	out := b.String()
	if l.authStart < 0 {
		// Empty values may join literal slashes ("http:/$a/$b"): keep the
		// result from growing an authority the template did not have.
		if p := afterScheme(out); strings.HasPrefix(out[p:], "//") {
			out = out[:p+1] + "%2F" + out[p+2:]
		}
	}
	return out
}

// afterScheme is the index after "scheme:" at the start of s, or 0.
func afterScheme(s string) int {
	if n := schemeLen(s); n > 0 && n < len(s) && s[n] == ':' {
		return n + 1
	}
	return 0
}

// region is where in a URL a byte stands.
type region uint8

const (
	path region = iota
	userinfo
	host
	hostBracket // inside a literal [...] in the host: an IPv6 literal
	query
	fragment
)

// shape is the template's URL structure, from its literal characters.
// '/', '?', '#', '@', '[' and ']' never occur inside a variable reference,
// so they can be found before expansion.
type shape struct {
	authStart, userEnd, authEnd int // userEnd: index of the '@', or -1
	queryStart, fragStart       int // len(template) when absent
}

func layout(t string) shape {
	s := shape{authStart: -1, userEnd: -1, authEnd: -1, queryStart: len(t), fragStart: len(t)}
	if f := strings.IndexByte(t, '#'); f >= 0 {
		s.fragStart = f
	}
	if q := strings.IndexByte(t[:s.fragStart], '?'); q >= 0 {
		s.queryStart = q
	}
	if p := afterScheme(t); strings.HasPrefix(t[p:], "//") {
		s.authStart = p + 2
		s.authEnd = len(t)
		if e := strings.IndexAny(t[s.authStart:], "/?#"); e >= 0 {
			s.authEnd = s.authStart + e
		}
		if a := strings.LastIndexByte(t[s.authStart:s.authEnd], '@'); a >= 0 {
			s.userEnd = s.authStart + a
		}
	}
	return s
}

// schemeLen is the length of a literal scheme at the start of t, or 0.
func schemeLen(t string) int {
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return i
		}
	}
	return len(t)
}

func (s shape) regionAt(t string, i int) region {
	switch {
	case i >= s.fragStart:
		return fragment
	case i >= s.queryStart:
		return query
	case s.authStart < 0 || i >= s.authEnd:
		return path
	case i < s.userEnd:
		return userinfo
	}
	// In the host: inside brackets when the last bracket before i opens.
	start := s.authStart
	if s.userEnd >= 0 {
		start = s.userEnd + 1
	}
	if o := strings.LastIndexAny(t[start:i], "[]"); o >= 0 && t[start+o] == '[' {
		return hostBracket
	}
	return host
}

// reference reads the variable reference that starts with the '$' at i.
// It returns the name to look up, the index after the reference, whether
// it was a bare $name, and ok=false when the '$' starts no reference.
func reference(t string, i int, vars Vars) (name string, end int, bare, ok bool) {
	rest := t[i+1:]
	switch {
	case strings.HasPrefix(rest, "{"):
		n := 1
		for n < len(rest) && isNameByte(rest[n]) {
			n++
		}
		if n == 1 || n >= len(rest) || rest[n] != '}' {
			return "", 0, false, false
		}
		return rest[1:n], i + 1 + n + 1, false, true
	case strings.HasPrefix(rest, "sip_header("):
		const p = len("sip_header(")
		n := p
		for n < len(rest) && isTokenByte(rest[n]) {
			n++
		}
		if n > p && n < len(rest) && rest[n] == ')' {
			return HeaderVar(rest[p:n]), i + 1 + n + 1, false, true
		}
	}
	n := 0
	for n < len(rest) && isNameByte(rest[n]) {
		n++
	}
	if n == 0 {
		return "", 0, false, false
	}
	if vars != nil {
		for k := n; k > 0; k-- {
			if _, known := vars.Lookup(rest[:k]); known {
				return rest[:k], i + 1 + k, k == n, true
			}
		}
	}
	// Unknown: the whole run expands to empty.
	return rest[:n], i + 1 + n, true, true
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// isTokenByte reports whether c may stand in a SIP header name (RFC 3261 token).
func isTokenByte(c byte) bool {
	return isNameByte(c) || strings.IndexByte(".!%*+`'~", c) >= 0
}

func isUnreserved(c byte) bool {
	return isNameByte(c) || c == '.' || c == '~'
}

// startsParam reports whether s begins with a query parameter's name and '='.
func startsParam(s string) bool {
	n := 0
	for n < len(s) && (isUnreserved(s[n]) || s[n] == '%' || s[n] == '[' || s[n] == ']') {
		n++
	}
	return n > 0 && n < len(s) && s[n] == '='
}

const hexDigits = "0123456789ABCDEF"

func writeValue(b *strings.Builder, v string, r region) {
	if r != host && r != hostBracket && plain(v) {
		b.WriteString(v)
		return
	}
	allDots := r == path && v != "" && strings.Trim(v, ".\r\n\x00") == ""
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\r' || c == '\n' || c == 0:
		case r == host || r == hostBracket:
			if isUnreserved(c) || r == hostBracket && c == ':' {
				b.WriteByte(c)
			}
		case isUnreserved(c) && !(allDots && c == '.'):
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
}

// plain reports whether v holds only unreserved bytes and is not all dots,
// so that it stands as it is anywhere but the host.
func plain(v string) bool {
	dots := true
	for i := 0; i < len(v); i++ {
		if !isUnreserved(v[i]) {
			return false
		}
		dots = dots && v[i] == '.'
	}
	return !dots || v == ""
}
