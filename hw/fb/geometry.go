package fb

import (
	"fmt"
	"strconv"
	"strings"
)

// Field is where one colour lies in a pixel: Length bits from bit Offset.
type Field struct{ Offset, Length int }

// Format is a pixel format: its size and where red, green and blue lie,
// as the kernel's fb_var_screeninfo says. Pixels are little-endian, as
// on every ARM board this runs on.
type Format struct {
	BitsPerPixel     int
	Red, Green, Blue Field
}

// The two formats a handset panel comes with.
var (
	RGB565   = Format{16, Field{11, 5}, Field{5, 6}, Field{0, 5}}
	XRGB8888 = Format{32, Field{16, 8}, Field{8, 8}, Field{0, 8}}
)

func (f Format) String() string {
	switch f {
	case RGB565:
		return "RGB565"
	case XRGB8888:
		return "XRGB8888"
	}
	return fmt.Sprintf("%dbpp r%d:%d g%d:%d b%d:%d", f.BitsPerPixel,
		f.Red.Offset, f.Red.Length, f.Green.Offset, f.Green.Length, f.Blue.Offset, f.Blue.Length)
}

func (f Format) check() error {
	if f.BitsPerPixel != 16 && f.BitsPerPixel != 32 {
		return fmt.Errorf("fb: %d bits per pixel: only 16 and 32 are drawn", f.BitsPerPixel)
	}
	for _, c := range []Field{f.Red, f.Green, f.Blue} {
		if c.Length < 1 || c.Length > 8 || c.Offset < 0 || c.Offset+c.Length > f.BitsPerPixel {
			return fmt.Errorf("fb: pixel format %v: a colour field lies outside the pixel", f)
		}
	}
	return nil
}

// pack turns an 8-bit-per-channel colour into this format's pixel bytes.
func (f Format) pack(r, g, b uint8, dst []byte) {
	v := uint32(r)>>(8-f.Red.Length)<<f.Red.Offset |
		uint32(g)>>(8-f.Green.Length)<<f.Green.Offset |
		uint32(b)>>(8-f.Blue.Length)<<f.Blue.Offset
	for i := range f.BitsPerPixel / 8 {
		dst[i] = byte(v >> (8 * i))
	}
}

// Geometry is the visible screen: Width×Height pixels, Stride bytes from
// one pixel row to the next, the first visible pixel at byte Offset.
type Geometry struct {
	Width, Height int
	Stride        int
	Offset        int64
	Format        Format
}

func (g Geometry) String() string {
	return fmt.Sprintf("%dx%d %s", g.Width, g.Height, g.Format)
}

// bytesPerPixel of the format.
func (g Geometry) bpp() int { return g.Format.BitsPerPixel / 8 }

// Size is how many bytes the visible screen spans in the device.
func (g Geometry) Size() int64 {
	if g.Height == 0 {
		return g.Offset
	}
	return g.Offset + int64(g.Height-1)*int64(g.Stride) + int64(g.Width*g.bpp())
}

func (g Geometry) check() error {
	if err := g.Format.check(); err != nil {
		return err
	}
	if g.Width <= 0 || g.Height <= 0 || g.Width > 1<<14 || g.Height > 1<<14 {
		return fmt.Errorf("fb: %dx%d pixels: out of range", g.Width, g.Height)
	}
	if g.Stride < g.Width*g.bpp() {
		return fmt.Errorf("fb: line length %d bytes is shorter than %d pixels", g.Stride, g.Width)
	}
	return nil
}

// ParseGeometry reads "WIDTHxHEIGHTxBPP" (BPP 16: RGB565, 32: XRGB8888),
// the geometry of a framebuffer stand-in that has no ioctls: a plain file.
func ParseGeometry(s string) (Geometry, error) {
	parts := strings.Split(strings.ToLower(strings.TrimSpace(s)), "x")
	if len(parts) != 3 {
		return Geometry{}, fmt.Errorf("fb: geometry %q: want WIDTHxHEIGHTxBPP (320x240x16)", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v <= 0 {
			return Geometry{}, fmt.Errorf("fb: geometry %q: %q is not a positive number", s, p)
		}
		n[i] = v
	}
	var f Format
	switch n[2] {
	case 16:
		f = RGB565
	case 32:
		f = XRGB8888
	default:
		return Geometry{}, fmt.Errorf("fb: geometry %q: bits per pixel must be 16 or 32", s)
	}
	g := Geometry{Width: n[0], Height: n[1], Stride: n[0] * n[2] / 8, Format: f}
	return g, g.check()
}
