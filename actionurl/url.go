package actionurl

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

var (
	// ErrScheme is returned by Allowed for a URL that is not http or https.
	ErrScheme = errors.New("actionurl: only http and https are fetched")
	// ErrNoHost is returned by Allowed for a URL without a host.
	ErrNoHost = errors.New("actionurl: no host")
)

// Allowed reports whether an expanded URL may be fetched: it must parse,
// its scheme must be http or https, and it must name a host.
func Allowed(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // ue repeats the URL, which may hold a password
		}
		return fmt.Errorf("actionurl: bad URL: %w", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return fmt.Errorf("%w (got %q)", ErrScheme, clean(u.Scheme))
	}
	if u.Hostname() == "" {
		return ErrNoHost
	}
	return nil
}

// Redact returns rawURL fit for a log line: a password in the user info is
// blanked ("http://user:@host/") and control bytes are percent-encoded, so
// the line cannot be split. It works on URLs that do not parse, too.
func Redact(rawURL string) string {
	s := rawURL
	if i := strings.Index(s, "://"); i >= 0 {
		a := i + 3
		e := len(s)
		if j := strings.IndexAny(s[a:], "/?#"); j >= 0 {
			e = a + j
		}
		if at := strings.LastIndexByte(s[a:e], '@'); at >= 0 {
			if c := strings.IndexByte(s[a:a+at], ':'); c >= 0 {
				s = s[:a+c+1] + s[a+at:]
			}
		}
	}
	return clean(s)
}

// clean percent-encodes control bytes.
func clean(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			var b strings.Builder
			for j := 0; j < len(s); j++ {
				c := s[j]
				if c < 0x20 || c == 0x7f {
					b.WriteByte('%')
					b.WriteByte(hexDigits[c>>4])
					b.WriteByte(hexDigits[c&15])
				} else {
					b.WriteByte(c)
				}
			}
			return b.String()
		}
	}
	return s
}
