package board

import (
	"strconv"

	"github.com/rivo/uniseg"

	"phonesim/display"
	"phonesim/firmware"
)

// Frame is the picture a board shows on a cols×rows grid: the whole
// handset (display.Draw) when the grid holds it, its terminal key hints
// blanked; on a smaller panel, the display area alone (LCD).
func Frame(v firmware.View, cols, rows int, opt display.Options) *display.Frame {
	if cols >= display.MinWidth && rows >= display.MinHeight {
		f := display.Draw(v, cols, rows, opt)
		// The bottom row is the terminal's key hints: no use on a board.
		for x := range f.W {
			f.Cells[(f.H-1)*f.W+x] = display.Cell{Rune: ' ', Style: display.Normal}
		}
		return f
	}
	return LCD(v, cols, rows)
}

// LCD draws what a handset's small display shows: a status bar (who, the
// clock), the display's lines (display.ScreenLines) and the softkeys.
// The function keys' LEDs are on the board, not on the panel. The frame
// has no keys drawn on it: nothing may call its KeyAt.
func LCD(v firmware.View, cols, rows int) *display.Frame {
	cols, rows = max(cols, 1), max(rows, 1)
	f := &display.Frame{W: cols, H: rows, Cells: make([]display.Cell, cols*rows)}
	for i := range f.Cells {
		f.Cells[i] = display.Cell{Rune: ' '}
	}
	put := func(x, y, width int, s string, st display.Style) int {
		if y < 0 || y >= rows || width <= 0 {
			return 0
		}
		used := 0
		for _, r := range display.Clean(s, width) {
			w := uniseg.StringWidth(string(r))
			if w < 1 || x+used+w > cols || used+w > width {
				break
			}
			f.Cells[y*cols+x+used] = display.Cell{Rune: r, Style: st}
			if w == 2 {
				f.Cells[y*cols+x+used+1] = display.Cell{Rune: 0, Style: st}
			}
			used += w
		}
		return used
	}
	fill := func(y int, st display.Style) {
		for x := range cols {
			f.Cells[y*cols+x] = display.Cell{Rune: ' ', Style: st}
		}
	}

	// status bar
	fill(0, display.Bar)
	clock := "--:--"
	if !v.Now.IsZero() {
		clock = v.Now.Format("15:04")
	}
	right := clock
	if v.DND {
		right = "DND " + right
	}
	if v.Missed > 0 {
		right = strconv.Itoa(v.Missed) + "! " + right
	}
	rw := min(len(right), cols)
	put(cols-rw, 0, rw, right, display.Bar)
	who := v.Identity.Display
	if who == "" {
		who = v.Identity.User
	}
	if v.Identity.User != "" && !v.Identity.Registered {
		who += " …"
	}
	put(0, 0, cols-rw-1, who, display.Bar)

	// display lines
	lines := display.ScreenLines(v)
	soft := rows >= 3
	body := rows - 1
	if soft {
		body--
	}
	for i := 0; i < len(lines) && i < body; i++ {
		st := display.Normal
		if i == 0 {
			st = display.Title
		}
		put(0, 1+i, cols, lines[i], st)
	}

	// softkeys, F1–F4
	if soft {
		y := rows - 1
		fill(y, display.Normal)
		for i, label := range v.Softkeys {
			x := i * cols / 4
			w := (i+1)*cols/4 - x - 1
			if w < 1 {
				continue
			}
			for j := range w {
				f.Cells[y*cols+x+j] = display.Cell{Rune: ' ', Style: display.KeyFace}
			}
			lw := min(uniseg.StringWidth(display.Clean(label, w)), w)
			put(x+(w-lw)/2, y, w, label, display.KeyFace)
		}
	}
	return f
}
