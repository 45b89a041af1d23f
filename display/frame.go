package display

import (
	"strings"

	"phonesim/keypad"
)

// Style is how a cell is drawn. The set is small on purpose: a terminal
// maps it onto its colours and attributes, a board onto its panel.
type Style uint8

const (
	Normal   Style = iota
	Dim            // secondary text: hints, unlabelled keys
	Title          // bold: the first display line, box titles
	Selected       // reverse: the list cursor
	Bar            // the status bar (reverse)
	KeyFace        // a key's face: "[ 1 ]", "[Hold]"
	LEDOff         // an LED that is dark (or in the dark half of its blink)
	LEDGreen       // LEDs that are on
	LEDRed
	LEDOrange
	LEDGreenBlink // LEDs that blink, in the lit half of the cycle
	LEDRedBlink
	LEDOrangeBlink
)

var styleNames = [...]string{"normal", "dim", "title", "selected", "bar", "key",
	"led-off", "led-green", "led-red", "led-orange", "blink-green", "blink-red", "blink-orange"}

func (s Style) String() string {
	if int(s) < len(styleNames) {
		return styleNames[s]
	}
	return "style?"
}

// LED glyphs, as Text shows them.
const (
	GlyphLEDOn    = '●'
	GlyphLEDOff   = '○'
	GlyphLEDBlink = '◐'
)

// Cell is one character cell. A wide rune (CJK, emoji) occupies its cell
// and the next one, whose Rune is 0.
type Cell struct {
	Rune  rune
	Style Style
}

// Rect is a rectangle of cells.
type Rect struct{ X, Y, W, H int }

// Contains reports whether the cell x, y lies in r.
func (r Rect) Contains(x, y int) bool {
	return x >= r.X && x < r.X+r.W && y >= r.Y && y < r.Y+r.H
}

// Hotspot is a drawn key: a click inside Rect presses Key.
type Hotspot struct {
	Rect
	Key keypad.Key
}

// Frame is the handset picture as data: W×H cells, row by row, and the
// keys drawn on it.
type Frame struct {
	W, H  int
	Cells []Cell
	// Hotspots lists every drawn key, in drawing order. A key covered by
	// an overlay (help, log) stays listed; KeyAt knows what is on top.
	Hotspots []Hotspot
	// Blinking reports that some LED blinks: the picture changes with
	// Options.Blink / Options.FastBlink.
	Blinking bool

	hot []uint16 // per cell: index+1 into Hotspots, 0 for none
}

func newFrame(w, h int) *Frame {
	w, h = max(w, 0), max(h, 0)
	f := &Frame{W: w, H: h, Cells: make([]Cell, w*h), hot: make([]uint16, w*h),
		Hotspots: make([]Hotspot, 0, 128)}
	for i := range f.Cells {
		f.Cells[i].Rune = ' '
	}
	return f
}

// At returns the cell at x, y (a blank one outside the frame).
func (f *Frame) At(x, y int) Cell {
	if x < 0 || y < 0 || x >= f.W || y >= f.H {
		return Cell{Rune: ' '}
	}
	return f.Cells[y*f.W+x]
}

// KeyAt returns the key drawn at cell x, y, if any: what a click there
// presses.
func (f *Frame) KeyAt(x, y int) (keypad.Key, bool) {
	if x < 0 || y < 0 || x >= f.W || y >= f.H {
		return "", false
	}
	i := f.hot[y*f.W+x]
	if i == 0 {
		return "", false
	}
	return f.Hotspots[i-1].Key, true
}

// Text renders the frame as plain text, one line per row with trailing
// blanks removed; LEDs read as ● (on), ○ (off), ◐ (blinking).
func (f *Frame) Text() string {
	var b strings.Builder
	b.Grow(f.W*f.H + f.H)
	for y := 0; y < f.H; y++ {
		row := f.Cells[y*f.W : (y+1)*f.W]
		end := len(row)
		for end > 0 && row[end-1].Rune == ' ' {
			end--
		}
		for _, c := range row[:end] {
			if c.Rune != 0 {
				b.WriteRune(c.Rune)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// set puts one rune of width 1 at x, y; outside the frame it does nothing.
func (f *Frame) set(x, y int, r rune, s Style) {
	if x < 0 || y < 0 || x >= f.W || y >= f.H {
		return
	}
	i := y*f.W + x
	if f.Cells[i].Rune == 0 && x > 0 { // overwriting the right half of a wide rune
		f.Cells[i-1] = Cell{' ', f.Cells[i-1].Style}
	}
	if x+1 < f.W && f.Cells[i+1].Rune == 0 { // overwriting the left half
		f.Cells[i+1].Rune = ' '
	}
	f.Cells[i] = Cell{r, s}
}

// fill paints a rectangle with r.
func (f *Frame) fill(rc Rect, r rune, s Style) {
	for y := rc.Y; y < rc.Y+rc.H; y++ {
		for x := rc.X; x < rc.X+rc.W; x++ {
			f.set(x, y, r, s)
		}
	}
}

// cover removes what lies under an overlay from the clickable area.
func (f *Frame) cover(rc Rect) {
	for y := max(rc.Y, 0); y < min(rc.Y+rc.H, f.H); y++ {
		for x := max(rc.X, 0); x < min(rc.X+rc.W, f.W); x++ {
			f.hot[y*f.W+x] = 0
		}
	}
}

// hotspot makes rc press k.
func (f *Frame) hotspot(rc Rect, k keypad.Key) {
	if k == "" || rc.W <= 0 || rc.H <= 0 || len(f.Hotspots) >= 1<<16-1 {
		return
	}
	f.Hotspots = append(f.Hotspots, Hotspot{rc, k})
	n := uint16(len(f.Hotspots))
	for y := max(rc.Y, 0); y < min(rc.Y+rc.H, f.H); y++ {
		for x := max(rc.X, 0); x < min(rc.X+rc.W, f.W); x++ {
			f.hot[y*f.W+x] = n
		}
	}
}

// box draws a single-line border around rc with an optional title.
func (f *Frame) box(rc Rect, title string, s Style) {
	if rc.W < 2 || rc.H < 2 {
		return
	}
	x1, y1 := rc.X+rc.W-1, rc.Y+rc.H-1
	for x := rc.X + 1; x < x1; x++ {
		f.set(x, rc.Y, '─', s)
		f.set(x, y1, '─', s)
	}
	for y := rc.Y + 1; y < y1; y++ {
		f.set(rc.X, y, '│', s)
		f.set(x1, y, '│', s)
	}
	f.set(rc.X, rc.Y, '┌', s)
	f.set(x1, rc.Y, '┐', s)
	f.set(rc.X, y1, '└', s)
	f.set(x1, y1, '┘', s)
	if title != "" && rc.W > 6 {
		f.set(rc.X+1, rc.Y, ' ', s)
		n := f.put(rc.X+2, rc.Y, rc.W-5, title, Title)
		f.set(rc.X+2+n, rc.Y, ' ', s)
	}
}
