package firmware

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxTargetLen caps a SIP URI the phone sends a call, a transfer or a
// redirection to.
const maxTargetLen = 512

// CheckSIPURI tells whether s is a SIP URI the phone may put in a
// Request-URI, Refer-To or Contact (RFC 3261 §25.1): sip: or sips:, a
// user part of unreserved characters, escapes (%HH) and user-unreserved
// ones (& = + $ , ; ? /), an optional password, a host name, IPv4
// address or [IPv6] reference, an optional port, then URI parameters and
// headers of their own characters. A space, a bare %, a raw # (it is
// %23), a control character or anything outside ASCII makes it invalid;
// the error says what is wrong.
func CheckSIPURI(s string) error {
	if len(s) > maxTargetLen {
		return fmt.Errorf("longer than %d characters", maxTargetLen)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ':
			return errors.New("a space")
		case c < 0x20 || c == 0x7f:
			return errors.New("a control character")
		case c >= 0x80:
			return errors.New("a character outside ASCII")
		}
	}
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || !(strings.EqualFold(scheme, "sip") || strings.EqualFold(scheme, "sips")) {
		return errors.New("not a sip: or sips: URI")
	}
	// the user part ends at the @; the host part has none
	hostpart := rest
	if at := strings.IndexByte(rest, '@'); at >= 0 {
		userinfo := rest[:at]
		hostpart = rest[at+1:]
		user, password, hasPassword := strings.Cut(userinfo, ":")
		if user == "" {
			return errors.New("an empty user part before @")
		}
		if err := checkChars(user, userChars, "user part"); err != nil {
			return err
		}
		if hasPassword {
			if err := checkChars(password, passwordChars, "password"); err != nil {
				return err
			}
		}
	}
	hostport, tail := hostpart, ""
	if i := strings.IndexAny(hostpart, ";?"); i >= 0 {
		hostport, tail = hostpart[:i], hostpart[i:]
	}
	if err := checkHostPort(hostport); err != nil {
		return err
	}
	params, headers, _ := strings.Cut(tail, "?")
	for p := range strings.SplitSeq(strings.TrimPrefix(params, ";"), ";") {
		if params == "" {
			break
		}
		name, value, _ := strings.Cut(p, "=")
		if name == "" {
			return errors.New("an empty URI parameter")
		}
		if err := checkChars(name, paramChars, "URI parameter"); err != nil {
			return err
		}
		if err := checkChars(value, paramChars, "URI parameter"); err != nil {
			return err
		}
	}
	if headers != "" {
		for h := range strings.SplitSeq(headers, "&") {
			name, value, _ := strings.Cut(h, "=")
			if name == "" {
				return errors.New("an empty URI header")
			}
			if err := checkChars(name, headerChars, "URI header"); err != nil {
				return err
			}
			if err := checkChars(value, headerChars, "URI header"); err != nil {
				return err
			}
		}
	}
	return nil
}

// The characters each part of a SIP URI takes besides unreserved ones
// (alphanumerics and - _ . ! ~ * ' ( )) and escapes (RFC 3261 §25.1).
const (
	userChars     = "&=+$,;?/"
	passwordChars = "&=+$,"
	paramChars    = "[]/:&+$"
	headerChars   = "[]/?:+$"
)

func unreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("-_.!~*'()", c) >= 0
}

func hexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// checkChars checks a part of a URI against its character set.
func checkChars(s, extra, what string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) || !hexDigit(s[i+1]) || !hexDigit(s[i+2]) {
				return fmt.Errorf("a %% in the %s that is not an escape (%%HH)", what)
			}
			i += 2
		case unreserved(c) || strings.IndexByte(extra, c) >= 0:
		case c == '#':
			return fmt.Errorf("a # in the %s (write %%23)", what)
		default:
			return fmt.Errorf("%q in the %s", c, what)
		}
	}
	return nil
}

// checkHostPort checks host[:port]: a host name, an IPv4 address or an
// [IPv6] reference.
func checkHostPort(hp string) error {
	host, port := hp, ""
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return errors.New("an IPv6 reference without ]")
		}
		host, port = hp[:end+1], hp[end+1:]
		for _, c := range []byte(host[1:end]) {
			if !hexDigit(c) && c != ':' && c != '.' {
				return fmt.Errorf("%q in the IPv6 reference", c)
			}
		}
		if end == 1 {
			return errors.New("an empty IPv6 reference")
		}
		if port != "" && !strings.HasPrefix(port, ":") {
			return errors.New("junk after the IPv6 reference")
		}
		port = strings.TrimPrefix(port, ":")
	} else if i := strings.IndexByte(hp, ':'); i >= 0 {
		host, port = hp[:i], hp[i+1:]
		if port == "" {
			return errors.New("an empty port")
		}
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '+' {
			return fmt.Errorf("port %q", port)
		}
	}
	if strings.HasPrefix(host, "[") {
		return nil
	}
	if host == "" {
		return errors.New("no host")
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("host %q", host)
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("%q in the host", c)
			}
		}
	}
	return nil
}

// escapeHash writes the # of a user part as %23: a number like *21#
// dials as sip:*21%23@host (a raw # is not allowed in a SIP URI).
func escapeHash(uri string) string {
	scheme, rest, ok := strings.Cut(uri, ":")
	at := strings.IndexByte(rest, '@')
	if !ok || at < 0 || !strings.Contains(rest[:at], "#") {
		return uri
	}
	return scheme + ":" + strings.ReplaceAll(rest[:at], "#", "%23") + rest[at:]
}
