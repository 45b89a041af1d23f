package fb

import (
	"encoding/binary"
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// The framebuffer ioctls (linux/fb.h).
const (
	ioctlGetVScreenInfo = 0x4600 // FBIOGET_VSCREENINFO
	ioctlGetFScreenInfo = 0x4602 // FBIOGET_FSCREENINFO
)

// wordSize is the size of the kernel's unsigned long in this build: it
// moves the fields of fb_fix_screeninfo.
const wordSize = int(unsafe.Sizeof(uintptr(0)))

// Sizes of the kernel's structs: fb_var_screeninfo is 40 u32s on every
// architecture; fb_fix_screeninfo has two unsigned longs in it.
const varInfoSize = 160

func fixInfoSize(word int) int {
	if word == 8 {
		return 80
	}
	return 68
}

// decodeVarInfo reads the visible size, the panning offsets and the
// pixel format from an fb_var_screeninfo.
func decodeVarInfo(b []byte) (w, h, xoff, yoff int, f Format) {
	u := func(i int) int { return int(binary.NativeEndian.Uint32(b[4*i:])) }
	w, h = u(0), u(1)
	xoff, yoff = u(4), u(5)
	f = Format{
		BitsPerPixel: u(6),
		Red:          Field{u(8), u(9)},
		Green:        Field{u(11), u(12)},
		Blue:         Field{u(14), u(15)},
	}
	return
}

// decodeFixInfo reads the line length (bytes per pixel row) from an
// fb_fix_screeninfo laid out for a kernel whose unsigned long is word
// bytes: id[16], smem_start (word), smem_len, type, type_aux, visual,
// xpanstep, ypanstep, ywrapstep (u16 each, then padding), line_length.
func decodeFixInfo(b []byte, word int) (id string, lineLength int) {
	n := 0
	for n < 16 && b[n] != 0 {
		n++
	}
	off := 16 + word + 4*4 + 3*2 // past id, smem_start, smem_len, type, type_aux, visual, the three u16s
	off = (off + 3) &^ 3         // line_length is u32-aligned
	return string(b[:n]), int(binary.NativeEndian.Uint32(b[off:]))
}

func ioctl(f *os.File, req uintptr, buf []byte) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(unsafe.Pointer(&buf[0])))
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// queryGeometry asks the framebuffer device for its geometry.
func queryGeometry(f *os.File) (Geometry, string, error) {
	vb := make([]byte, varInfoSize)
	if err := ioctl(f, ioctlGetVScreenInfo, vb); err != nil {
		return Geometry{}, "", fmt.Errorf("fb: FBIOGET_VSCREENINFO: %w", err)
	}
	fbuf := make([]byte, fixInfoSize(wordSize))
	if err := ioctl(f, ioctlGetFScreenInfo, fbuf); err != nil {
		return Geometry{}, "", fmt.Errorf("fb: FBIOGET_FSCREENINFO: %w", err)
	}
	w, h, xoff, yoff, format := decodeVarInfo(vb)
	id, line := decodeFixInfo(fbuf, wordSize)
	g := Geometry{Width: w, Height: h, Stride: line, Format: format,
		Offset: int64(yoff)*int64(line) + int64(xoff)*int64(format.BitsPerPixel/8)}
	return g, id, g.check()
}
