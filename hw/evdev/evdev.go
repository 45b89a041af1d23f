// Package evdev reads a Linux input device (/dev/input/event*) in pure Go:
// struct input_event records, key down/up/repeat with the kernel's
// timestamps, mapped to the phone's keys by a Keymap, and a switch event
// (EV_SW) as the hook switch.
package evdev

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"
	"unsafe"

	"phonesim/hw"
)

// WordSize is the size of the kernel's long in this build: struct
// input_event starts with a struct timeval of two of them, so a record is
// 24 bytes on 64-bit and 16 on 32-bit ARM.
const WordSize = int(unsafe.Sizeof(uintptr(0)))

// EventSize is the size of struct input_event for a word size.
func EventSize(word int) int { return 2*word + 8 }

// Raw is one struct input_event.
type Raw struct {
	Time  time.Time
	Type  uint16
	Code  uint16
	Value int32
}

// Decode reads one input_event laid out for word-byte longs.
func Decode(b []byte, word int) Raw {
	var sec, usec int64
	if word == 8 {
		sec, usec = int64(binary.NativeEndian.Uint64(b)), int64(binary.NativeEndian.Uint64(b[8:]))
	} else {
		// a 32-bit kernel's timeval: unsigned since y2038 work (__kernel_ulong_t)
		sec, usec = int64(binary.NativeEndian.Uint32(b)), int64(binary.NativeEndian.Uint32(b[4:]))
	}
	p := b[2*word:]
	return Raw{
		Time:  time.Unix(sec, usec*1000),
		Type:  binary.NativeEndian.Uint16(p),
		Code:  binary.NativeEndian.Uint16(p[2:]),
		Value: int32(binary.NativeEndian.Uint32(p[4:])),
	}
}

// Append adds e to b as an input_event for word-byte longs: recorded
// streams for tests and stand-in devices.
func Append(b []byte, word int, e Raw) []byte {
	sec, usec := e.Time.Unix(), int64(e.Time.Nanosecond()/1000)
	if word == 8 {
		b = binary.NativeEndian.AppendUint64(b, uint64(sec))
		b = binary.NativeEndian.AppendUint64(b, uint64(usec))
	} else {
		b = binary.NativeEndian.AppendUint32(b, uint32(sec))
		b = binary.NativeEndian.AppendUint32(b, uint32(usec))
	}
	b = binary.NativeEndian.AppendUint16(b, e.Type)
	b = binary.NativeEndian.AppendUint16(b, e.Code)
	return binary.NativeEndian.AppendUint32(b, uint32(e.Value))
}

// Config says how to read a device.
type Config struct {
	Keymap Keymap  // nil: DefaultKeymap
	Switch *Switch // the hook switch; nil: DefaultSwitch
	// WordSize of the records: 0 for this build's; 4 or 8 to read a
	// stream recorded on another architecture.
	WordSize int
}

// Device is an open input device or a recorded stream.
type Device struct {
	r      io.Reader
	file   *os.File  // the input device, for ioctls
	closer io.Closer // a recorded stream's file
	path   string
	cfg    Config
	buf    []byte
}

// Open opens an input device (or a file holding a recorded stream).
func Open(path string, cfg Config) (*Device, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("evdev: %s: %w", path, hw.ErrAbsent)
		}
		return nil, fmt.Errorf("evdev: %w", err)
	}
	d := New(f, cfg)
	d.path = f.Name()
	if st, err := f.Stat(); err == nil && st.Mode()&fs.ModeCharDevice != 0 {
		d.file = f // ioctls only on a device: a recorded stream is a plain file
	} else {
		d.closer = f
	}
	return d, nil
}

// New reads events from r.
func New(r io.Reader, cfg Config) *Device {
	if cfg.Keymap == nil {
		cfg.Keymap = DefaultKeymap()
	}
	if cfg.WordSize == 0 {
		cfg.WordSize = WordSize
	}
	if cfg.Switch == nil {
		sw := DefaultSwitch
		cfg.Switch = &sw
	}
	return &Device{r: r, cfg: cfg, buf: make([]byte, EventSize(cfg.WordSize))}
}

// Path is the device's path ("" for a reader).
func (d *Device) Path() string { return d.path }

// Close closes the device; a blocked ReadEvent returns.
func (d *Device) Close() error {
	if d.file != nil {
		return d.file.Close()
	}
	if d.closer != nil {
		return d.closer.Close()
	}
	return nil
}

// ReadRaw reads the next input_event, whatever its type.
func (d *Device) ReadRaw() (Raw, error) {
	if _, err := io.ReadFull(d.r, d.buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return Raw{}, fmt.Errorf("evdev: a record cut short (%d-byte records): %w", len(d.buf), err)
		}
		return Raw{}, err
	}
	return Decode(d.buf, d.cfg.WordSize), nil
}

// ReadEvent returns the next key or hook-switch event; sync reports,
// other event types and other switches are skipped. Key codes missing
// from the keymap come with an empty Key.
func (d *Device) ReadEvent() (hw.Event, error) {
	for {
		r, err := d.ReadRaw()
		if err != nil {
			return hw.Event{}, err
		}
		if e, ok := d.translate(r); ok {
			return e, nil
		}
	}
}

func (d *Device) translate(r Raw) (hw.Event, bool) {
	switch r.Type {
	case EvKey:
		e := hw.Event{Key: d.cfg.Keymap[r.Code], Code: r.Code, Time: r.Time}
		switch r.Value {
		case 0:
			e.Kind = hw.KeyUp
		case 1:
			e.Kind = hw.KeyDown
		case 2:
			e.Kind = hw.KeyRepeat
		default:
			return hw.Event{}, false
		}
		return e, true
	case EvSW:
		sw := *d.cfg.Switch
		if sw.No || r.Code != sw.Code {
			return hw.Event{}, false
		}
		if (r.Value != 0) != sw.Invert {
			return hw.Event{Kind: hw.HookOff, Code: r.Code, Time: r.Time}, true
		}
		return hw.Event{Kind: hw.HookOn, Code: r.Code, Time: r.Time}, true
	}
	return hw.Event{}, false
}

// ErrNotDevice: the file is no input device (a recorded stream).
var ErrNotDevice = errors.New("evdev: not an input device")

// ioctl request numbers: _IOC(_IOC_READ, 'E', nr, size), the same on
// arm, arm64, 386 and amd64.
func eviocRead(nr, size uintptr) uintptr { return 2<<30 | size<<16 | 'E'<<8 | nr }

func (d *Device) ioctl(nr uintptr, buf []byte) error {
	if d.file == nil {
		return ErrNotDevice
	}
	rc, err := d.file.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, eviocRead(nr, uintptr(len(buf))), uintptr(unsafe.Pointer(&buf[0])))
	}); err != nil {
		return err
	}
	switch errno {
	case 0:
		return nil
	case syscall.ENOTTY, syscall.EINVAL:
		return ErrNotDevice
	}
	return errno
}

// Name is the device's name (EVIOCGNAME).
func (d *Device) Name() (string, error) {
	b := make([]byte, 256)
	if err := d.ioctl(0x06, b); err != nil {
		return "", err
	}
	n := 0
	for n < len(b) && b[n] != 0 {
		n++
	}
	return string(b[:n]), nil
}

// KeyCodes lists the key codes the device can send (EVIOCGBIT(EV_KEY)).
func (d *Device) KeyCodes() ([]uint16, error) {
	b := make([]byte, 0x300/8)
	if err := d.ioctl(0x20+EvKey, b); err != nil {
		return nil, err
	}
	var codes []uint16
	for i, by := range b {
		for bit := range 8 {
			if by>>bit&1 != 0 {
				codes = append(codes, uint16(i*8+bit))
			}
		}
	}
	return codes, nil
}

// OffHook reads the hook switch's state now (EVIOCGSW).
func (d *Device) OffHook() (bool, error) {
	sw := *d.cfg.Switch
	if sw.No {
		return false, fmt.Errorf("evdev: no hook switch: %w", hw.ErrAbsent)
	}
	b := make([]byte, 8)
	if err := d.ioctl(0x1b, b); err != nil {
		return false, err
	}
	set := b[sw.Code/8]>>(sw.Code%8)&1 != 0
	return set != sw.Invert, nil
}
