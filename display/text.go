package display

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Every string that reaches a Frame goes through Frame.put, and every rune
// through cellWidth: network text (display names, URIs, log lines) can
// carry escape sequences, bidi overrides and zero-width tricks. None of
// them reaches a cell.

// cellWidth returns how many cells r takes, or 0 when r must not be drawn:
// C0 and C1 controls, DEL, format characters (bidi overrides, zero-width
// joiners), combining marks, line and paragraph separators.
func cellWidth(r rune) int {
	if r < utf8.RuneSelf {
		if r < ' ' || r == 0x7f {
			return 0
		}
		return 1
	}
	if r <= 0x9f {
		return 0 // C1
	}
	switch {
	case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Mn, r), unicode.Is(unicode.Me, r),
		unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r), unicode.Is(unicode.Cc, r),
		r >= 0xfe00 && r <= 0xfe0f, r >= 0xe0100 && r <= 0xe01ef: // variation selectors
		return 0
	}
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	switch w := uniseg.StringWidth(string(buf[:n])); {
	case w >= 2:
		return 2
	case w == 1:
		return 1
	}
	return 0
}

// normal maps the runes we keep but do not draw as they are: other spaces
// become a plain space.
func normal(r rune) rune {
	if r > utf8.RuneSelf && unicode.Is(unicode.Zs, r) {
		return ' '
	}
	return r
}

// textWidth is the width of s in cells once cleaned.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		n += cellWidth(r)
	}
	return n
}

// Clean returns s as a Frame would show it in a field width cells wide:
// controls and invisible runes dropped, cut to width with a trailing "…"
// when it does not fit. A width < 0 means no limit.
func Clean(s string, width int) string {
	total := textWidth(s)
	limit := width
	if width < 0 || total <= width {
		limit = total
	} else {
		limit = width - 1 // room for the ellipsis
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		w := cellWidth(r)
		if w == 0 {
			continue
		}
		if used+w > limit {
			break
		}
		b.WriteRune(normal(r))
		used += w
	}
	if width >= 0 && total > width && width > 0 {
		b.WriteRune('…')
	}
	return b.String()
}

// put draws s at x, y in a field width cells wide, cleaned and cut like
// Clean, and returns the cells used. It is the only way text enters a Frame.
func (f *Frame) put(x, y, width int, s string, st Style) int {
	if width <= 0 || y < 0 || y >= f.H {
		return 0
	}
	limit := width
	cut := false
	if len(s) > width || !ascii(s) { // only then can it overflow
		if total := textWidth(s); total > width {
			limit, cut = width-1, true
		}
	}
	used := 0
	for _, r := range s {
		w := cellWidth(r)
		if w == 0 {
			continue
		}
		if used+w > limit {
			break
		}
		f.set(x+used, y, normal(r), st)
		if w == 2 {
			if x+used+1 >= f.W {
				f.set(x+used, y, ' ', st) // no room for the right half
			} else {
				f.set(x+used+1, y, ' ', st)
				f.Cells[y*f.W+x+used+1].Rune = 0
			}
		}
		used += w
	}
	if cut {
		f.set(x+used, y, '…', st)
		used++
	}
	return used
}

// ascii reports whether s is printable ASCII only (its width is its length).
func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// putRight draws s right-aligned so that it ends just before x+width.
func (f *Frame) putRight(x, y, width int, s string, st Style) int {
	w := min(textWidth(s), width)
	return f.put(x+width-w, y, w, s, st)
}

// putCenter draws s centred in a field width cells wide.
func (f *Frame) putCenter(x, y, width int, s string, st Style) int {
	w := min(textWidth(s), width)
	return f.put(x+(width-w)/2, y, w, s, st)
}
