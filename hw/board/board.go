package board

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"phonesim/display"
	"phonesim/firmware"
	"phonesim/hw"
	"phonesim/hw/audio"
	"phonesim/hw/evdev"
	"phonesim/hw/fb"
	"phonesim/hw/sysled"
)

// Board is a board's hardware, opened. A part that is not fitted, or did
// not open, is nil, and its error says which: errors.Is(err, hw.ErrAbsent)
// for a part that is not there, anything else for one that failed.
type Board struct {
	Profile Profile
	Keymap  evdev.Keymap // the keymap in force: the default with the profile's changes

	Display    hw.Display
	DisplayErr error
	Input      hw.Input // every input device, merged
	InputErr   error    // may be set with Input too: some of several devices failed
	LEDs       hw.LEDs
	LEDErr     error
	AudioIn    hw.AudioIn
	AudioOut   hw.AudioOut
	AudioErr   error

	// Logf, when set, hears about what goes wrong while Run runs (a
	// display write that failed, an input device that went away).
	Logf func(format string, args ...any)

	closers []io.Closer
}

// absent is the error of a part the profile does not fit.
func absent(what string) error {
	return fmt.Errorf("board: no %s in this profile: %w", what, hw.ErrAbsent)
}

// Open opens every part the profile names. It fails only for a profile
// that cannot be read (a bad keymap); a part that is missing or broken is
// left nil with its error set.
func Open(p Profile) (*Board, error) {
	b := &Board{Profile: p}
	keymap, err := evdev.ParseKeymap(p.Keymap, nil)
	if err != nil {
		return nil, err
	}
	b.Keymap = keymap
	sw, err := evdev.ParseSwitch(p.HookSwitch)
	if err != nil {
		return nil, err
	}
	var ledMap sysled.Map
	if p.LEDMap != "" {
		if ledMap, err = sysled.ParseMap(p.LEDMap); err != nil {
			return nil, err
		}
	}
	var geometry *fb.Geometry
	if p.FBGeometry != "" {
		g, err := fb.ParseGeometry(p.FBGeometry)
		if err != nil {
			return nil, err
		}
		geometry = &g
	}

	// display
	switch {
	case p.FB == "":
		b.DisplayErr = absent("display")
	case geometry != nil:
		d, err := fb.OpenFile(p.FB, *geometry, fb.Options{Scale: p.FontScale})
		b.setDisplay(d, err)
	default:
		d, err := fb.Open(p.FB, fb.Options{Scale: p.FontScale})
		b.setDisplay(d, err)
	}

	// keys and hook switch
	var paths []string
	for _, pattern := range p.Evdev {
		m, _ := filepath.Glob(pattern)
		if m == nil {
			m = []string{pattern} // opening it says why it is not there
		}
		paths = append(paths, m...)
	}
	sort.Strings(paths)
	var devs []*evdev.Device
	var errs []error
	for _, path := range paths {
		d, err := evdev.Open(path, evdev.Config{Keymap: keymap, Switch: &sw})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		devs = append(devs, d)
	}
	switch {
	case len(p.Evdev) == 0:
		b.InputErr = absent("keys")
	case len(devs) == 0:
		b.InputErr = errors.Join(errs...)
	default:
		in := &inputs{devs: devs}
		b.Input = in
		b.closers = append(b.closers, in)
		b.InputErr = errors.Join(errs...) // some of several devices failed
	}

	// LEDs
	if p.LEDs == "" {
		b.LEDErr = absent("LEDs")
	} else if bank, err := sysled.Open(p.LEDs, ledMap); err != nil {
		b.LEDErr = err
	} else {
		b.LEDs = bank
	}

	// audio
	switch p.Audio {
	case "loopback":
		l := audio.NewLoopback(50)
		b.AudioIn, b.AudioOut = l, l
		b.closers = append(b.closers, l)
	default:
		b.AudioErr = fmt.Errorf("board: no audio driver for this board (see docs/boards.md): %w", hw.ErrAbsent)
	}
	return b, nil
}

func (b *Board) setDisplay(d *fb.Display, err error) {
	if err != nil {
		b.DisplayErr = err
		return
	}
	b.Display = d
	b.closers = append(b.closers, d)
}

// Close closes every device; a blocked read of an input returns.
func (b *Board) Close() error {
	var errs []error
	for _, c := range b.closers {
		errs = append(errs, c.Close())
	}
	b.closers = nil
	return errors.Join(errs...)
}

// IsAbsent reports whether a part's error means "not fitted" rather than
// "broken".
func IsAbsent(err error) bool {
	return errors.Is(err, hw.ErrAbsent) || errors.Is(err, fs.ErrNotExist)
}

// inputs merges several input devices into one stream.
type inputs struct {
	devs      []*evdev.Device
	once      sync.Once
	ch        chan inputResult
	alive     int
	closeOnce sync.Once
	closeErr  error
}

// Close closes every device, once.
func (in *inputs) Close() error {
	in.closeOnce.Do(func() {
		var errs []error
		for _, d := range in.devs {
			errs = append(errs, d.Close())
		}
		in.closeErr = errors.Join(errs...)
	})
	return in.closeErr
}

type inputResult struct {
	e   hw.Event
	err error
}

func (in *inputs) start() {
	in.ch = make(chan inputResult)
	in.alive = len(in.devs)
	for _, d := range in.devs {
		go func() {
			for {
				e, err := d.ReadEvent()
				in.ch <- inputResult{e, err}
				if err != nil {
					return
				}
			}
		}()
	}
}

// ReadEvent returns the next event of any device; the stream ends when
// every device has ended (io.EOF, or the last device's error).
func (in *inputs) ReadEvent() (hw.Event, error) {
	in.once.Do(in.start)
	for in.alive > 0 {
		r := <-in.ch
		if r.err == nil {
			return r.e, nil
		}
		in.alive--
		if in.alive == 0 {
			return hw.Event{}, r.err
		}
	}
	return hw.Event{}, io.EOF
}

// KeyCodes lists the key codes any device can send; evdev.ErrNotDevice
// when none is an input device (recorded streams).
func (in *inputs) KeyCodes() ([]uint16, error) {
	seen := map[uint16]bool{}
	var codes []uint16
	err := evdev.ErrNotDevice
	for _, d := range in.devs {
		c, e := d.KeyCodes()
		if e != nil {
			if !errors.Is(e, evdev.ErrNotDevice) {
				err = e
			}
			continue
		}
		err = nil
		for _, k := range c {
			if !seen[k] {
				seen[k] = true
				codes = append(codes, k)
			}
		}
	}
	sort.Slice(codes, func(i, j int) bool { return codes[i] < codes[j] })
	if len(codes) > 0 {
		return codes, nil
	}
	return nil, err
}

// OffHook asks each device for the hook switch.
func (in *inputs) OffHook() (bool, error) {
	err := error(evdev.ErrNotDevice)
	for _, d := range in.devs {
		off, e := d.OffHook()
		if e == nil {
			return off, nil
		}
		err = e
	}
	return false, err
}

// Paths lists the devices read.
func (in *inputs) Paths() []string {
	var p []string
	for _, d := range in.devs {
		p = append(p, d.Path())
	}
	return p
}

// blinkTick is half the fast blink period, as on the terminal.
const blinkTick = 250 * time.Millisecond

// maxPending bounds the key presses waiting for the phone.
const maxPending = 64

// Run is the board as the phone's handset, until ctx ends: every view is
// drawn on the display and its function keys' LEDs set; key presses (and
// the hook switch) go out on keys, long presses with their Held time. A
// missing part is skipped. It has the shape of display/term's Run.
func (b *Board) Run(ctx context.Context, views <-chan firmware.View, keys chan<- firmware.KeyPressed) error {
	pressed := make(chan firmware.KeyPressed, 16)
	if b.Input != nil {
		if h, ok := b.Input.(hw.Hook); ok {
			if off, err := h.OffHook(); err == nil && off {
				pressed <- firmware.KeyPressed{Key: "OFFHOOK"}
			}
		}
		go b.readInput(ctx, pressed)
		if c, ok := b.Input.(io.Closer); ok {
			stop := context.AfterFunc(ctx, func() { c.Close() }) // unblocks the reader
			defer stop()
		}
	}
	blink := time.NewTicker(blinkTick)
	defer blink.Stop()

	var (
		view    firmware.View
		haveV   bool
		phase   int
		frame   *display.Frame
		pending []firmware.KeyPressed
		leds    = map[int]firmware.LED{}
	)
	draw := func() {
		if b.Display == nil || !haveV {
			return
		}
		cols, rows := b.Display.Size()
		frame = Frame(view, cols, rows, display.Options{FastBlink: phase%2 == 1, Blink: phase/2%2 == 1})
		if err := b.Display.Show(frame); err != nil {
			b.logf("display: %v", err)
		}
	}
	setLEDs := func() {
		if b.LEDs == nil {
			return
		}
		for i, k := range view.Keys {
			if last, ok := leds[i]; ok && last == k.LED {
				continue
			}
			if err := b.LEDs.SetLED(i, k.LED); err != nil {
				b.logf("LED P%d: %v", i+1, err)
				continue
			}
			leds[i] = k.LED
		}
	}
	for {
		var send chan<- firmware.KeyPressed
		var next firmware.KeyPressed
		if len(pending) > 0 {
			send, next = keys, pending[0]
		}
		select {
		case <-ctx.Done():
			return nil
		case v, ok := <-views:
			if !ok {
				return nil
			}
			view, haveV = v, true
			draw()
			setLEDs()
		case send <- next:
			pending = pending[1:]
		case k := <-pressed:
			if len(pending) < maxPending {
				pending = append(pending, k)
			}
		case <-blink.C:
			phase++
			if frame != nil && frame.Blinking {
				draw()
			}
		}
	}
}

func (b *Board) readInput(ctx context.Context, pressed chan<- firmware.KeyPressed) {
	var p hw.Presses
	for {
		e, err := b.Input.ReadEvent()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrClosed) {
				b.logf("keys: %v", err)
			}
			return
		}
		if k, ok := p.Feed(e); ok {
			select {
			case pressed <- k:
			case <-ctx.Done():
				return
			}
		}
	}
}

func (b *Board) logf(format string, args ...any) {
	if b.Logf != nil {
		b.Logf(format, args...)
	}
}
