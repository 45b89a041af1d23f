package fb

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"phonesim/display"
	"phonesim/firmware"
	"phonesim/keypad"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var now = time.Date(2025, time.March, 14, 9, 26, 53, 0, time.UTC)

// idleView is a registered phone at rest with a few function keys set up.
func idleView() firmware.View {
	id := firmware.IdentityView{Index: 1, User: "100", Host: "pbx.example.com", Display: "Bob Desk", Registered: true}
	keys := make([]firmware.KeyView, keypad.BaseFunctionKeys)
	keys[0] = firmware.KeyView{Label: "Line 1", Kind: "line", LED: firmware.LED{State: firmware.LEDOn, Color: firmware.Green}}
	keys[1] = firmware.KeyView{Label: "Line 2", Kind: "line"}
	keys[2] = firmware.KeyView{Label: "Alice", Kind: "blf", LED: firmware.LED{State: firmware.LEDFastBlink, Color: firmware.Red}}
	keys[3] = firmware.KeyView{Label: "Carol", Kind: "blf", LED: firmware.LED{State: firmware.LEDOn, Color: firmware.Red}}
	keys[16] = firmware.KeyView{Label: "Voicemail", Kind: "speed", LED: firmware.LED{State: firmware.LEDSlowBlink, Color: firmware.Orange}}
	return firmware.View{
		Now: now, Identity: id, Identities: []firmware.IdentityView{id},
		Softkeys: [4]string{"Menu", "Missed", "DND", "Fwd"}, Keys: keys, Volume: 5,
	}
}

// ringingView is the same phone with Alice calling.
func ringingView() firmware.View {
	v := idleView()
	v.Calls = []firmware.CallView{{ID: "c1", State: firmware.Ringing, Direction: firmware.Incoming,
		Remote: firmware.Party{URI: "sip:alice@127.0.0.1:5062", Display: "Alice"}}}
	v.Active = "c1"
	v.Softkeys = [4]string{"Answer", "Reject", "Fwd", "Silence"}
	v.Keys[0].LED = firmware.LED{State: firmware.LEDFastBlink, Color: firmware.Green}
	return v
}

// memDev is a framebuffer in memory.
type memDev struct{ b []byte }

func (m *memDev) WriteAt(p []byte, off int64) (int, error) {
	if int(off)+len(p) > len(m.b) {
		return 0, io.ErrShortWrite
	}
	return copy(m.b[off:], p), nil
}

func (m *memDev) ReadAt(p []byte, off int64) (int, error) {
	if int(off)+len(p) > len(m.b) {
		return 0, io.EOF
	}
	return copy(p, m.b[off:]), nil
}

// handset is a 480×240 panel: 80×24 cells of 6×10, the handset picture's
// smallest size.
func handset(format Format) Geometry {
	return Geometry{Width: 480, Height: 240, Stride: 480 * format.BitsPerPixel / 8, Format: format}
}

func drawFor(d *Display, v firmware.View) *display.Frame {
	cols, rows := d.Size()
	return display.Draw(v, cols, rows, display.Options{})
}

// TestGoldenFramebuffer draws the idle and the ringing handset into a
// framebuffer that is a temp file, in both pixel formats, and checks the
// file's bytes against testdata (gzip'd; -update rewrites them, with a
// PNG beside each for people to look at).
func TestGoldenFramebuffer(t *testing.T) {
	for _, format := range []struct {
		name string
		f    Format
	}{{"rgb565", RGB565}, {"xrgb8888", XRGB8888}} {
		for _, screen := range []struct {
			name string
			view func() firmware.View
		}{{"idle", idleView}, {"ringing", ringingView}} {
			t.Run(screen.name+"_"+format.name, func(t *testing.T) {
				g := handset(format.f)
				path := filepath.Join(t.TempDir(), "fb0")
				if err := os.WriteFile(path, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				d, err := OpenFile(path, g, Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				if cols, rows := d.Size(); cols != 80 || rows != 24 {
					t.Fatalf("Size() = %dx%d, want 80x24", cols, rows)
				}
				if err := d.Show(drawFor(d, screen.view())); err != nil {
					t.Fatal(err)
				}
				if err := d.Verify(); err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if int64(len(got)) != g.Size() {
					t.Fatalf("file is %d bytes, want %d", len(got), g.Size())
				}
				golden := filepath.Join("testdata", screen.name+"_"+format.name+".fb.gz")
				if *update {
					writeGolden(t, golden, got)
					writePNG(t, filepath.Join("testdata", screen.name+"_"+format.name+".png"), got, g)
					return
				}
				want := readGolden(t, golden)
				if !bytes.Equal(got, want) {
					t.Fatalf("framebuffer bytes differ from %s at %s (run with -update and look at the PNG)", golden, firstDiff(got, want, g))
				}
			})
		}
	}
}

// TestPartialEqualsFull: drawing the ringing screen over the idle one
// writes less than a full screen and leaves the same bytes as drawing it
// on a blank framebuffer.
func TestPartialEqualsFull(t *testing.T) {
	for _, f := range []Format{RGB565, XRGB8888} {
		g := handset(f)
		full, partial := &memDev{make([]byte, g.Size())}, &memDev{make([]byte, g.Size())}
		df, _ := New(full, g, Options{})
		dp, _ := New(partial, g, Options{})
		if err := dp.Show(drawFor(dp, idleView())); err != nil {
			t.Fatal(err)
		}
		before := dp.Written()
		if before != g.Size() {
			t.Errorf("%v: the first frame wrote %d bytes, want the whole screen, %d", f, before, g.Size())
		}
		if err := dp.Show(drawFor(dp, ringingView())); err != nil {
			t.Fatal(err)
		}
		if err := df.Show(drawFor(df, ringingView())); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(full.b, partial.b) {
			t.Fatalf("%v: partial redraw differs from a full draw at %s", f, firstDiff(partial.b, full.b, g))
		}
		delta := dp.Written() - before
		if delta <= 0 || delta >= g.Size()/2 {
			t.Errorf("%v: idle→ringing wrote %d bytes of %d", f, delta, g.Size())
		}
		// The same frame again writes nothing.
		at := dp.Written()
		if err := dp.Show(drawFor(dp, ringingView())); err != nil {
			t.Fatal(err)
		}
		if dp.Written() != at {
			t.Errorf("%v: an unchanged frame wrote %d bytes", f, dp.Written()-at)
		}
	}
}

// TestOneCellWritesOneCell: a change of one cell rewrites that cell's
// pixels only, one pwrite per pixel row.
func TestOneCellWritesOneCell(t *testing.T) {
	g := handset(RGB565)
	dev := &memDev{make([]byte, g.Size())}
	d, _ := New(dev, g, Options{})
	f := drawFor(d, idleView())
	if err := d.Show(f); err != nil {
		t.Fatal(err)
	}
	f.Cells[5*f.W+40] = display.Cell{Rune: 'X', Style: display.Normal}
	at := d.Written()
	if err := d.Show(f); err != nil {
		t.Fatal(err)
	}
	if got, want := d.Written()-at, int64(CellW*CellH*2); got != want {
		t.Errorf("one cell wrote %d bytes, want %d", got, want)
	}
	if err := d.Verify(); err != nil {
		t.Fatal(err)
	}
}

// TestMarginsAndStride: a panel larger than the grid, with padding at
// the end of each line and a panned origin, keeps the grid centred and
// writes nothing outside the visible screen.
func TestMarginsAndStride(t *testing.T) {
	g := Geometry{Width: 500, Height: 250, Stride: 500*2 + 24, Offset: 1024*3 + 8, Format: RGB565}
	dev := &memDev{make([]byte, g.Size()+4096)}
	for i := range dev.b {
		dev.b[i] = 0xAA
	}
	d, err := New(dev, g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cols, rows := d.Size(); cols != 83 || rows != 25 {
		t.Fatalf("Size() = %dx%d, want 83x25", cols, rows)
	}
	if err := d.Show(drawFor(d, idleView())); err != nil {
		t.Fatal(err)
	}
	if err := d.Verify(); err != nil {
		t.Fatal(err)
	}
	for i := int64(0); i < g.Offset; i++ {
		if dev.b[i] != 0xAA {
			t.Fatalf("byte %d before the visible origin was written", i)
		}
	}
	for y := range g.Height {
		pad := g.Offset + int64(y*g.Stride+g.Width*2)
		if y < g.Height-1 && dev.b[pad] != 0xAA {
			t.Fatalf("line padding of row %d was written", y)
		}
		for x := range g.Width { // every visible pixel was painted
			if off := g.Offset + int64(y*g.Stride+x*2); dev.b[off] == 0xAA && dev.b[off+1] == 0xAA {
				t.Fatalf("pixel %d,%d was never drawn", x, y)
			}
		}
	}
}

func TestScale(t *testing.T) {
	for _, tc := range []struct {
		w, h, scale, cols, rows int
	}{
		{480, 272, 1, 80, 27},
		{800, 480, 1, 133, 48},
		{1024, 600, 2, 85, 30},
		{1920, 1080, 4, 80, 27},
		{320, 240, 1, 53, 24},
	} {
		d, err := New(&memDev{}, Geometry{Width: tc.w, Height: tc.h, Stride: tc.w * 2, Format: RGB565}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		cols, rows := d.Size()
		if d.scale != tc.scale || cols != tc.cols || rows != tc.rows {
			t.Errorf("%dx%d: scale %d, %dx%d cells; want scale %d, %dx%d", tc.w, tc.h, d.scale, cols, rows, tc.scale, tc.cols, tc.rows)
		}
	}
}

func TestParseGeometry(t *testing.T) {
	g, err := ParseGeometry("320x240x16")
	if err != nil || g.Width != 320 || g.Height != 240 || g.Stride != 640 || g.Format != RGB565 {
		t.Errorf("320x240x16: %+v, %v", g, err)
	}
	g, err = ParseGeometry("800X480X32")
	if err != nil || g.Stride != 3200 || g.Format != XRGB8888 {
		t.Errorf("800x480x32: %+v, %v", g, err)
	}
	for _, bad := range []string{"", "320x240", "320x240x24", "0x240x16", "axbxc", "99999x1x16"} {
		if _, err := ParseGeometry(bad); err == nil {
			t.Errorf("ParseGeometry(%q) accepted", bad)
		}
	}
}

// TestScreenInfoLayouts decodes fb_var_screeninfo and fb_fix_screeninfo
// as a 32-bit ARM kernel and a 64-bit one lay them out.
func TestScreenInfoLayouts(t *testing.T) {
	v := make([]byte, varInfoSize)
	put := func(i int, x uint32) { binary.NativeEndian.PutUint32(v[4*i:], x) }
	put(0, 480)
	put(1, 272)
	put(4, 0)
	put(5, 272) // panned to the second buffer
	put(6, 16)
	put(8, 11)
	put(9, 5)
	put(11, 5)
	put(12, 6)
	put(14, 0)
	put(15, 5)
	w, h, xoff, yoff, f := decodeVarInfo(v)
	if w != 480 || h != 272 || xoff != 0 || yoff != 272 || f != RGB565 {
		t.Errorf("var info: %d %d %d %d %v", w, h, xoff, yoff, f)
	}
	for _, word := range []int{4, 8} {
		fix := make([]byte, fixInfoSize(word))
		copy(fix, "mxsfb-drm")
		lineAt := map[int]int{4: 44, 8: 48}[word]
		binary.NativeEndian.PutUint32(fix[lineAt:], 960)
		id, line := decodeFixInfo(fix, word)
		if id != "mxsfb-drm" || line != 960 {
			t.Errorf("word %d: fix info id %q line %d", word, id, line)
		}
	}
}

func TestOpenAbsentAndPlainFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "fb9"), Options{}); err == nil {
		t.Fatal("Open of a missing device succeeded")
	}
	plain := filepath.Join(dir, "fb0")
	os.WriteFile(plain, nil, 0o644)
	if _, err := Open(plain, Options{}); err == nil {
		t.Fatal("Open of a plain file (no ioctls) succeeded")
	}
}

func TestGlyphs(t *testing.T) {
	for r := rune(' '); r < 0x7f; r++ {
		if _, ok := glyphs()[r]; !ok {
			t.Errorf("no glyph for %q", r)
		}
	}
	for _, r := range "─│┌┐└┘●○◐▲▼◀▶…✓✗" {
		if glyphOf(r) == tofu {
			t.Errorf("%q draws as a box", r)
		}
	}
	if glyphOf('中') != tofu {
		t.Error("an unknown rune should draw as a box")
	}
	// Box lines join: '─' reaches both side edges, '│' both top and bottom.
	h, v := glyphOf('─'), glyphOf('│')
	if h[4] != 1<<CellW-1 {
		t.Errorf("─ row: %06b", h[4])
	}
	if v[0] == 0 || v[CellH-1] == 0 {
		t.Error("│ does not reach the cell's edges")
	}
}

// BenchmarkRedraw: a full redraw of the 80×24 handset on a 480×240
// framebuffer in a temp file, and a redraw where one text row changed
// (the date on the display).
func BenchmarkRedraw(b *testing.B) {
	for _, f := range []struct {
		name string
		f    Format
	}{{"rgb565", RGB565}, {"xrgb8888", XRGB8888}} {
		g := handset(f.f)
		path := filepath.Join(b.TempDir(), "fb0")
		os.WriteFile(path, nil, 0o644)
		d, err := OpenFile(path, g, Options{})
		if err != nil {
			b.Fatal(err)
		}
		idle := drawFor(d, idleView())
		ring := drawFor(d, ringingView())
		b.Run("full/"+f.name, func(b *testing.B) {
			b.SetBytes(g.Size())
			for i := 0; b.Loop(); i++ {
				d.Invalidate()
				if err := d.Show([]*display.Frame{idle, ring}[i%2]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("line/"+f.name, func(b *testing.B) {
			// One text row changes: the display's date line.
			a := drawFor(d, idleView())
			c := *a
			c.Cells = append([]display.Cell(nil), a.Cells...)
			row := -1
			for y := range a.H {
				if strings.Contains(string(runesOf(a, y)), "Fri 14 Mar 2025") {
					row = y
				}
			}
			if row < 0 {
				b.Fatal("no date line")
			}
			line := string(runesOf(a, row))
			i := strings.Index(line, "Fri 14 Mar 2025")
			for j, r := range "Sat 15 Mar 2025" {
				c.Cells[row*c.W+i+j].Rune = r
			}
			d.Invalidate()
			d.Show(a)
			for i := 0; b.Loop(); i++ {
				if err := d.Show([]*display.Frame{&c, a}[i%2]); err != nil {
					b.Fatal(err)
				}
			}
		})
		d.Close()
	}
}

func runesOf(f *display.Frame, y int) []rune {
	r := make([]rune, f.W)
	for x := range f.W {
		r[x] = f.Cells[y*f.W+x].Rune
	}
	return r
}

func firstDiff(got, want []byte, g Geometry) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			off := int64(i) - g.Offset
			y := int(off / int64(g.Stride))
			x := int(off%int64(g.Stride)) / g.bpp()
			return "pixel " + itoa(x) + "," + itoa(y) + " (cell " + itoa(x/CellW) + "," + itoa(y/CellH) + ")"
		}
	}
	return "length " + itoa(len(got)) + " vs " + itoa(len(want))
}

func itoa(i int) string { return string(binaryItoa(i)) }

func binaryItoa(i int) []byte {
	if i == 0 {
		return []byte("0")
	}
	neg := i < 0
	if neg {
		i = -i
	}
	var b []byte
	for i > 0 {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return b
}

func writeGolden(t *testing.T, path string, b []byte) {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readGolden(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writePNG turns framebuffer bytes back into a picture.
func writePNG(t *testing.T, path string, b []byte, g Geometry) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, g.Width, g.Height))
	f := g.Format
	for y := range g.Height {
		for x := range g.Width {
			off := g.Offset + int64(y*g.Stride+x*g.bpp())
			var v uint32
			for i := range g.bpp() {
				v |= uint32(b[off+int64(i)]) << (8 * i)
			}
			ch := func(c Field) uint8 { return uint8((v >> c.Offset & (1<<c.Length - 1)) << (8 - c.Length)) }
			img.Set(x, y, color.RGBA{ch(f.Red), ch(f.Green), ch(f.Blue), 0xff})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
