package phonelog

import (
	"strconv"
	"unicode/utf8"
)

// Inert returns s with everything that could act on a terminal or break a
// line replaced by a visible escape: C0 controls (ESC as \x1b, LF as \n,
// CR as \r, TAB as \t), DEL (\x7f), C1 controls (\u009b), the Unicode line
// and paragraph separators, bidirectional overrides and isolates, and
// bytes that are not UTF-8 (\xff). Backslashes are left alone, so Inert
// is idempotent: Inert(Inert(s)) == Inert(s).
func Inert(s string) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !needsEscape(r, n) {
			i += n
			continue
		}
		b := make([]byte, 0, len(s)+16)
		b = append(b, s[:i]...)
		return string(appendInert(b, s[i:]))
	}
	return s
}

// appendInert appends Inert(s) to b.
func appendInert(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case !needsEscape(r, n):
			b = append(b, s[i:i+n]...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c == '\t':
			b = append(b, `\t`...)
		case r == utf8.RuneError && n == 1, r < 0x80:
			b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, `\u`...)
			h := strconv.FormatUint(uint64(r), 16)
			for k := len(h); k < 4; k++ {
				b = append(b, '0')
			}
			b = append(b, h...)
		}
		i += n
	}
	return b
}

func needsEscape(r rune, n int) bool {
	switch {
	case r == utf8.RuneError && n == 1: // not UTF-8: a lone 0x9b is CSI to an 8-bit terminal
		return true
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f: // C0, DEL, C1
		return true
	case r == 0x2028, r == 0x2029: // line and paragraph separators
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c: // bidi controls
		return true
	case r == 0xfeff: // zero-width no-break space (BOM)
		return true
	}
	return false
}
