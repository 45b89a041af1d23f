// Package term puts the handset on a terminal with tcell: it draws each
// display.Frame and turns keys and mouse clicks into keypad keys. It is the
// only package that sees a tcell.Event.
//
// Key map (the help overlay, "?", shows it too; display.KeyHelp):
//
//	0-9 * #      digits
//	Enter        ENTER (OK)
//	Esc          CANCEL (closes the help overlay first, if open)
//	Backspace    LEFT (snom's left arrow deletes the last digit)
//	arrows       UP DOWN LEFT RIGHT
//	F1-F4        softkeys F1-F4
//	F5-F12       function keys P1-P8 (with Alt: a long press)
//	Space        hook switch: OFFHOOK when on the hook, else ONHOOK
//	s e          SPEAKER, HEADSET
//	d f          DND, REDIRECT
//	r o t m      REDIAL, HOLD, TRANSFER, MUTE
//	a            ACTION (the favourite client action)
//	+ -          VOLUME_UP, VOLUME_DOWN
//	?            help overlay on/off
//	l            log pane on/off
//	q, Ctrl-C    quit
//
// A left click on any drawn key presses it (display.Frame.KeyAt); a right
// click long-presses it. Terminals report no key release, so a long
// press (action_longpress_url) is asked for by Alt or the right button.
package term

import (
	"context"
	"fmt"
	"time"

	"github.com/gdamore/tcell/v2"

	"phonesim/display"
	"phonesim/firmware"
	"phonesim/keypad"
)

// blinkTick is half the fast blink period; the slow blink takes twice as long.
const blinkTick = 250 * time.Millisecond

// maxPending caps the keys waiting for the phone to take them; a phone
// that stalls loses keys rather than stalling the screen.
const maxPending = 64

// Terminal is the handset on a terminal.
type Terminal struct {
	screen tcell.Screen
	title  string

	// afterDraw, when set (by tests), runs after each frame is shown.
	afterDraw func()
}

// New returns a Terminal drawing on screen. Run initialises the screen if
// the caller has not (and then finalises it when it returns); a screen the
// caller initialised is left to the caller to finalise.
func New(screen tcell.Screen) *Terminal {
	return &Terminal{screen: screen}
}

// SetTitle sets the text shown at the right of the bottom line (the model,
// say).
func (t *Terminal) SetTitle(s string) { t.title = s }

// ui is what the terminal shows beyond the phone's View.
type ui struct {
	view    firmware.View
	offHook bool // the hook as last seen or switched: what space sends next
	help    bool
	log     bool
	phase   int // blink ticks
	frame   *display.Frame
	pending []firmware.KeyPressed
}

// Run draws every View received on views, turns keyboard and mouse into
// keys sent on keys, and returns when ctx is done, views is closed, or the
// user quits (q or Ctrl-C); all of these return nil. logLines returns the
// current phone log; it is called while the log pane is open. Run never
// blocks on keys: it keeps drawing while the phone is busy, holding up to
// 64 keys.
func (t *Terminal) Run(ctx context.Context, views <-chan firmware.View, keys chan<- firmware.KeyPressed, logLines func() []string) error {
	s := t.screen
	if w, h := s.Size(); w == 0 && h == 0 {
		if err := s.Init(); err != nil {
			return fmt.Errorf("term: %w", err)
		}
		defer s.Fini()
	}
	s.EnableMouse(tcell.MouseButtonEvents)
	s.HideCursor()

	// One goroutine polls the screen and hands events over on a channel
	// this loop owns; it ends when quit is closed.
	events := make(chan tcell.Event, 32)
	quit := make(chan struct{})
	defer close(quit)
	go s.ChannelEvents(events, quit)

	blink := time.NewTicker(blinkTick)
	defer blink.Stop()

	u := &ui{}
	t.draw(u, logLines)
	for {
		var send chan<- firmware.KeyPressed
		var next firmware.KeyPressed
		if len(u.pending) > 0 {
			send, next = keys, u.pending[0]
		}
		select {
		case <-ctx.Done():
			return nil
		case v, ok := <-views:
			if !ok {
				return nil
			}
			u.view, u.offHook = v, v.Hook != firmware.OnHook
			t.draw(u, logLines)
		case send <- next:
			u.pending = u.pending[1:]
		case <-blink.C:
			u.phase++
			if u.frame != nil && u.frame.Blinking || u.log {
				t.draw(u, logLines)
			}
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			switch ev := ev.(type) {
			case *tcell.EventResize:
				s.Sync()
				u.frame = nil // draw every cell
				t.draw(u, logLines)
			case *tcell.EventKey:
				k, act := keyOf(ev, u.offHook)
				if act == actKey && ev.Modifiers()&tcell.ModAlt != 0 {
					act = actLongPress
				}
				switch act {
				case actQuit:
					return nil
				case actHelp:
					u.help = !u.help
				case actLog:
					u.log = !u.log
				case actCancel:
					if u.help {
						u.help = false
					} else {
						u.press(keypad.Cancel)
					}
				case actKey:
					u.press(k)
				case actLongPress:
					u.pressFor(k, firmware.LongPress)
				}
				if act != actKey && act != actLongPress {
					t.draw(u, logLines)
				}
			case *tcell.EventMouse:
				if ev.Buttons()&(tcell.Button1|tcell.Button2) == 0 || u.frame == nil {
					continue
				}
				if u.help {
					u.help = false
					t.draw(u, logLines)
					continue
				}
				if k, ok := u.frame.KeyAt(ev.Position()); ok {
					if ev.Buttons()&tcell.Button2 != 0 { // the right button
						u.pressFor(k, firmware.LongPress)
					} else {
						u.press(k)
					}
				}
			}
		}
	}
}

func (u *ui) press(k keypad.Key) { u.pressFor(k, 0) }

// pressFor queues a key held for held.
func (u *ui) pressFor(k keypad.Key, held time.Duration) {
	if len(u.pending) >= maxPending {
		return
	}
	u.pending = append(u.pending, firmware.KeyPressed{Key: k, Held: held})
	switch k {
	case keypad.OffHook:
		u.offHook = true
	case keypad.OnHook:
		u.offHook = false
	}
}

// draw renders the current state onto the screen.
func (t *Terminal) draw(u *ui, logLines func() []string) {
	w, h := t.screen.Size()
	opt := display.Options{
		Help:      u.help,
		Title:     t.title,
		FastBlink: u.phase%2 == 1,
		Blink:     u.phase/2%2 == 1,
	}
	if u.log {
		opt.Log = []string{}
		if logLines != nil {
			if l := logLines(); l != nil {
				opt.Log = l
			}
		}
	}
	f := display.Draw(u.view, w, h, opt)
	prev := u.frame
	if prev != nil && (prev.W != f.W || prev.H != f.H) {
		prev = nil
	}
	u.frame = f
	for y := 0; y < f.H; y++ {
		row := f.Cells[y*f.W : (y+1)*f.W]
		var old []display.Cell
		if prev != nil {
			old = prev.Cells[y*f.W : (y+1)*f.W]
		}
		for x, c := range row {
			// Unchanged cells stay; a cell's look also depends on its left
			// neighbour (an LED on a key face).
			if old != nil && c == old[x] && (x == 0 || row[x-1] == old[x-1]) {
				continue
			}
			if c.Rune == 0 { // right half of a wide rune
				continue
			}
			st := styles[c.Style]
			if x > 0 && row[x-1].Style == display.KeyFace && c.Style >= display.LEDOff {
				st = st.Background(keyFaceBG) // an LED on a key: "[● DND]"
			}
			t.screen.SetContent(x, y, c.Rune, nil, st)
		}
	}
	t.screen.Show()
	if t.afterDraw != nil {
		t.afterDraw()
	}
}

var keyFaceBG = tcell.ColorSilver

var styles = func() [display.LEDOrangeBlink + 1]tcell.Style {
	d := tcell.StyleDefault
	var s [display.LEDOrangeBlink + 1]tcell.Style
	s[display.Normal] = d
	s[display.Dim] = d.Dim(true)
	s[display.Title] = d.Bold(true)
	s[display.Selected] = d.Reverse(true)
	s[display.Bar] = d.Reverse(true)
	s[display.KeyFace] = d.Foreground(tcell.ColorBlack).Background(keyFaceBG)
	s[display.LEDOff] = d.Dim(true)
	s[display.LEDGreen] = d.Foreground(tcell.ColorGreen).Bold(true)
	s[display.LEDRed] = d.Foreground(tcell.ColorRed).Bold(true)
	s[display.LEDOrange] = d.Foreground(tcell.ColorOrange).Bold(true)
	s[display.LEDGreenBlink] = s[display.LEDGreen]
	s[display.LEDRedBlink] = s[display.LEDRed]
	s[display.LEDOrangeBlink] = s[display.LEDOrange]
	return s
}()

type action uint8

const (
	actNone action = iota
	actKey
	actLongPress // a key held long (Alt, or the right button)
	actCancel    // Esc: closes the help, else CANCEL
	actHelp
	actLog
	actQuit
)

// runeKeys maps printable keys to phone keys.
var runeKeys = map[rune]keypad.Key{
	's': keypad.Speaker, 'e': keypad.Headset, 'd': keypad.DND, 'f': keypad.Redirect,
	'r': keypad.Redial, 'o': keypad.Hold, 't': keypad.Transfer, 'm': keypad.Mute, 'a': keypad.Action,
	'+': keypad.VolumeUp, '-': keypad.VolumeDown,
}

// keyOf maps a terminal key to what it does; the hook switch (space)
// puts the handset down when it is off the hook, else lifts it.
func keyOf(ev *tcell.EventKey, offHook bool) (keypad.Key, action) {
	switch ev.Key() {
	case tcell.KeyCtrlC, tcell.KeyETX:
		return "", actQuit
	case tcell.KeyEnter, tcell.KeyLF:
		return keypad.Enter, actKey
	case tcell.KeyEscape:
		return "", actCancel
	case tcell.KeyBackspace, tcell.KeyBackspace2, tcell.KeyLeft:
		return keypad.Left, actKey
	case tcell.KeyRight:
		return keypad.Right, actKey
	case tcell.KeyUp:
		return keypad.Up, actKey
	case tcell.KeyDown:
		return keypad.Down, actKey
	case tcell.KeyRune:
	default:
		if n := int(ev.Key() - tcell.KeyF1); n >= 0 && n < 12 {
			if n < 4 {
				return keypad.Key(fmt.Sprintf("F%d", n+1)), actKey
			}
			return keypad.FunctionKey(n - 4), actKey
		}
		return "", actNone
	}
	if ev.Modifiers()&(tcell.ModCtrl|tcell.ModAlt|tcell.ModMeta) != 0 {
		if ev.Modifiers()&tcell.ModCtrl != 0 && (ev.Rune() == 'c' || ev.Rune() == 'C') {
			return "", actQuit
		}
		return "", actNone
	}
	r := ev.Rune()
	switch {
	case r >= '0' && r <= '9', r == '*', r == '#':
		return keypad.Key(string(r)), actKey
	case r == ' ':
		if offHook {
			return keypad.OnHook, actKey
		}
		return keypad.OffHook, actKey
	case r == '?':
		return "", actHelp
	case r == 'l':
		return "", actLog
	case r == 'q':
		return "", actQuit
	}
	if k, ok := runeKeys[r]; ok {
		return k, actKey
	}
	return "", actNone
}
