// Package fb draws a display.Frame on a Linux framebuffer (/dev/fb0) with
// the built-in bitmap font, in pure Go: the geometry and pixel format come
// from the FBIOGET_VSCREENINFO and FBIOGET_FSCREENINFO ioctls, the pixels
// go out with pwrite at their offsets (no mmap), so a plain file with an
// explicit geometry stands in for the device in tests.
//
// Only the cells that changed since the last frame are written again.
package fb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"phonesim/display"
	"phonesim/hw"
)

// Device is what a Display writes to: the framebuffer device or a file.
type Device interface {
	io.WriterAt
	io.ReaderAt
}

// Display is a framebuffer showing frames of display cells.
type Display struct {
	dev   Device
	file  *os.File // when we opened it
	g     Geometry
	id    string
	scale int
	cols  int
	rows  int
	x0    int // pixel margins that centre the cell grid
	y0    int

	prev    []display.Cell // what the screen shows
	stale   bool           // the screen is unknown: draw it all
	band    []byte
	pal     [numStyles]colours
	written int64
}

// Options tune a Display.
type Options struct {
	// Scale is how many pixels one font pixel takes (1: 6×10 cells). 0
	// picks the largest that still gives the handset picture its
	// display.MinWidth×MinHeight cells, else 1.
	Scale int
}

// Open opens a framebuffer device and reads its geometry from it.
func Open(path string, opt Options) (*Display, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("fb: %s: %w", path, hw.ErrAbsent)
		}
		return nil, fmt.Errorf("fb: %w", err)
	}
	g, id, err := queryGeometry(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w (%s: give the geometry for a plain file)", err, path)
	}
	d, err := New(f, g, opt)
	if err != nil {
		f.Close()
		return nil, err
	}
	d.file, d.id = f, id
	return d, nil
}

// OpenFile opens a file that stands in for a framebuffer with geometry
// g, growing it to the screen's size; a device path works too (the
// ioctls are not asked).
func OpenFile(path string, g Geometry, opt Options) (*Display, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("fb: %s: %w", path, hw.ErrAbsent)
		}
		return nil, fmt.Errorf("fb: %w", err)
	}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() < g.Size() {
		if err := f.Truncate(g.Size()); err != nil {
			f.Close()
			return nil, fmt.Errorf("fb: %w", err)
		}
	}
	d, err := New(f, g, opt)
	if err != nil {
		f.Close()
		return nil, err
	}
	d.file, d.id = f, "file"
	return d, nil
}

// New draws on dev, whose screen has geometry g.
func New(dev Device, g Geometry, opt Options) (*Display, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	scale := opt.Scale
	if scale <= 0 {
		scale = 1
		for s := 2; g.Width/(CellW*s) >= display.MinWidth && g.Height/(CellH*s) >= display.MinHeight; s++ {
			scale = s
		}
	}
	cols, rows := g.Width/(CellW*scale), g.Height/(CellH*scale)
	if cols < 1 || rows < 1 {
		return nil, fmt.Errorf("fb: %dx%d pixels hold no %dx%d cell", g.Width, g.Height, CellW*scale, CellH*scale)
	}
	d := &Display{dev: dev, g: g, scale: scale, cols: cols, rows: rows,
		x0: (g.Width - cols*CellW*scale) / 2, y0: (g.Height - rows*CellH*scale) / 2}
	d.pal = palette(g.Format)
	return d, nil
}

// Size is the cell grid: what display.Draw should be given.
func (d *Display) Size() (cols, rows int) { return d.cols, d.rows }

// Geometry is the screen's.
func (d *Display) Geometry() Geometry { return d.g }

// ID is the driver's name for the framebuffer (fb_fix_screeninfo.id).
func (d *Display) ID() string { return d.id }

// CellPixels is the size of one cell on the screen.
func (d *Display) CellPixels() (w, h int) { return CellW * d.scale, CellH * d.scale }

// Describe says what the display is, for the self-test's report.
func (d *Display) Describe() string {
	cw, ch := d.CellPixels()
	s := fmt.Sprintf("%v, %dx%d cells of %dx%d", d.g, d.cols, d.rows, cw, ch)
	if d.id != "" {
		s += " (" + d.id + ")"
	}
	return s
}

// Written counts the bytes written to the device so far.
func (d *Display) Written() int64 { return d.written }

// Close closes the device if Open or OpenFile opened it.
func (d *Display) Close() error {
	if d.file != nil {
		return d.file.Close()
	}
	return nil
}

// Invalidate forgets what the screen shows: the next Show draws it all.
func (d *Display) Invalidate() { d.stale = true }

// Show draws f: the cells that differ from the last frame shown, or all
// of them (and the margins) the first time. Cells outside f are blank;
// f's cells outside the grid are not drawn.
func (d *Display) Show(f *display.Frame) error {
	full := d.prev == nil || d.stale
	if full {
		if d.prev == nil {
			d.prev = make([]display.Cell, d.cols*d.rows)
		}
		if err := d.clearMargins(); err != nil {
			return err
		}
		d.stale = false
	}
	for y := range d.rows {
		row := d.prev[y*d.cols : (y+1)*d.cols]
		first, last := -1, -1
		for x := range d.cols {
			c := cellOf(f, x, y)
			if full || c != row[x] {
				if first < 0 {
					first = x
				}
				last = x
			}
		}
		if first < 0 {
			continue
		}
		for x := first; x <= last; x++ {
			row[x] = cellOf(f, x, y)
		}
		if err := d.writeSpan(y, first, last+1); err != nil {
			d.stale = true // the screen is in doubt: draw it all next time
			return err
		}
	}
	return nil
}

// cellOf is f's cell at x, y, blank outside f; the right half of a wide
// rune is kept as Rune 0 (drawn blank in its style).
func cellOf(f *display.Frame, x, y int) display.Cell {
	if f == nil || x >= f.W || y >= f.H {
		return display.Cell{Rune: ' '}
	}
	return f.Cells[y*f.W+x]
}

// render draws the cells x0..x1 of grid row y into d.band: CellH*scale
// pixel rows of (x1-x0)*CellW*scale pixels each.
func (d *Display) render(y, x0, x1 int) (band []byte, rowBytes int) {
	bpp := d.g.bpp()
	cw := CellW * d.scale
	rowBytes = (x1 - x0) * cw * bpp
	n := rowBytes * CellH * d.scale
	if cap(d.band) < n {
		d.band = make([]byte, n)
	}
	band = d.band[:n]
	cellBytes := cw * bpp
	for x := x0; x < x1; x++ {
		c := d.prev[y*d.cols+x]
		gl := glyphOf(c.Rune)
		col := &d.pal[min(int(c.Style), numStyles-1)]
		bold := c.Style == display.Title
		for gy := range CellH {
			bits := gl[gy]
			if bold {
				bits |= bits >> 1
			}
			line := band[gy*d.scale*rowBytes+(x-x0)*cellBytes:]
			line = line[:cellBytes]
			p := 0
			for gx := CellW - 1; gx >= 0; gx-- {
				v := col.bgv
				if bits>>gx&1 != 0 {
					v = col.fgv
				}
				if bpp == 2 {
					for range d.scale {
						binary.LittleEndian.PutUint16(line[p:], uint16(v))
						p += 2
					}
				} else {
					for range d.scale {
						binary.LittleEndian.PutUint32(line[p:], v)
						p += 4
					}
				}
			}
			for sy := 1; sy < d.scale; sy++ {
				copy(band[(gy*d.scale+sy)*rowBytes+(x-x0)*cellBytes:], line)
			}
		}
	}
	return band, rowBytes
}

// writeSpan draws cells x0..x1 of grid row y on the screen: one pwrite
// per pixel row, or one for the whole band when its rows lie back to back.
func (d *Display) writeSpan(y, x0, x1 int) error {
	band, rowBytes := d.render(y, x0, x1)
	bpp := d.g.bpp()
	lines := CellH * d.scale
	px := d.x0 + x0*CellW*d.scale
	py := d.y0 + y*lines
	off := d.g.Offset + int64(py)*int64(d.g.Stride) + int64(px*bpp)
	if rowBytes == d.g.Stride {
		return d.write(band, off)
	}
	for i := range lines {
		if err := d.write(band[i*rowBytes:(i+1)*rowBytes], off+int64(i)*int64(d.g.Stride)); err != nil {
			return err
		}
	}
	return nil
}

func (d *Display) write(b []byte, off int64) error {
	n, err := d.dev.WriteAt(b, off)
	d.written += int64(n)
	if err != nil {
		return fmt.Errorf("fb: write at %d: %w", off, err)
	}
	return nil
}

// clearMargins paints the pixels around the cell grid in the background
// colour.
func (d *Display) clearMargins() error {
	if d.x0 == 0 && d.y0 == 0 && d.cols*CellW*d.scale == d.g.Width && d.rows*CellH*d.scale == d.g.Height {
		return nil
	}
	bpp := d.g.bpp()
	line := make([]byte, d.g.Width*bpp)
	for x := range d.g.Width {
		copy(line[x*bpp:], d.pal[display.Normal].bg[:bpp])
	}
	gridW := d.cols * CellW * d.scale * bpp
	gridH := d.rows * CellH * d.scale
	for y := range d.g.Height {
		off := d.g.Offset + int64(y)*int64(d.g.Stride)
		if y < d.y0 || y >= d.y0+gridH {
			if err := d.write(line, off); err != nil {
				return err
			}
			continue
		}
		if d.x0 > 0 {
			if err := d.write(line[:d.x0*bpp], off); err != nil {
				return err
			}
		}
		if rest := len(line) - d.x0*bpp - gridW; rest > 0 {
			if err := d.write(line[:rest], off+int64(d.x0*bpp+gridW)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Verify reads the screen back and compares it with what the last Show
// drew: a framebuffer that loses writes, or a wrong geometry, fails it.
func (d *Display) Verify() error {
	if d.prev == nil || d.stale {
		return errors.New("fb: nothing shown yet")
	}
	lines := CellH * d.scale
	for y := range d.rows {
		band, rowBytes := d.render(y, 0, d.cols)
		got := make([]byte, rowBytes)
		for i := range lines {
			off := d.g.Offset + int64(d.y0+y*lines+i)*int64(d.g.Stride) + int64(d.x0*d.g.bpp())
			if _, err := d.dev.ReadAt(got, off); err != nil {
				return fmt.Errorf("fb: read back at %d: %w", off, err)
			}
			if want := band[i*rowBytes : (i+1)*rowBytes]; !bytes.Equal(got, want) {
				for x := range rowBytes {
					if got[x] != want[x] {
						return fmt.Errorf("fb: pixel row %d, cell %d reads back wrong", d.y0+y*lines+i, x/(CellW*d.scale*d.g.bpp()))
					}
				}
			}
		}
	}
	return nil
}
