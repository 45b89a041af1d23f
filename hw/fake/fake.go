// Package fake has stand-ins for the hardware layer's interfaces, for
// tests of what uses them: a display that keeps the frames it was shown,
// an input that replays events, LEDs that remember their states.
package fake

import (
	"io"
	"sync"

	"phonesim/display"
	"phonesim/firmware"
	"phonesim/hw"
)

// Display keeps every frame shown, as text.
type Display struct {
	Cols, Rows int
	mu         sync.Mutex
	frames     []string
	Err        error // returned by Show when set
}

func (d *Display) Size() (int, int) { return d.Cols, d.Rows }

func (d *Display) Show(f *display.Frame) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.Err != nil {
		return d.Err
	}
	d.frames = append(d.frames, f.Text())
	return nil
}

// Frames returns the frames shown so far, as display.Frame.Text.
func (d *Display) Frames() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.frames...)
}

// Input replays events, then blocks until Close (or returns io.EOF when
// EOF is set).
type Input struct {
	Events []hw.Event
	EOF    bool
	mu     sync.Mutex
	next   int
	closed chan struct{}
	once   sync.Once
}

func (in *Input) init() { in.once.Do(func() { in.closed = make(chan struct{}) }) }

func (in *Input) ReadEvent() (hw.Event, error) {
	in.init()
	in.mu.Lock()
	if in.next < len(in.Events) {
		e := in.Events[in.next]
		in.next++
		in.mu.Unlock()
		return e, nil
	}
	in.mu.Unlock()
	if in.EOF {
		return hw.Event{}, io.EOF
	}
	<-in.closed
	return hw.Event{}, io.EOF
}

// Close ends a blocked ReadEvent.
func (in *Input) Close() error {
	in.init()
	select {
	case <-in.closed:
	default:
		close(in.closed)
	}
	return nil
}

// LEDs remembers each LED's state.
type LEDs struct {
	mu    sync.Mutex
	state map[int]firmware.LED
	Err   error
}

func (l *LEDs) SetLED(i int, led firmware.LED) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.Err != nil {
		return l.Err
	}
	if l.state == nil {
		l.state = map[int]firmware.LED{}
	}
	l.state[i] = led
	return nil
}

// State returns LED i's last state.
func (l *LEDs) State(i int) firmware.LED {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state[i]
}

var (
	_ hw.Display = (*Display)(nil)
	_ hw.Input   = (*Input)(nil)
	_ hw.LEDs    = (*LEDs)(nil)
)
