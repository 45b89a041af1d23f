package display

import (
	"strconv"

	"phonesim/firmware"
	"phonesim/keypad"
)

// The smallest terminal the handset fits on.
const (
	MinWidth  = 80
	MinHeight = 24
)

// Layout rules (see Draw):
const (
	maxHandsetWidth  = 100 // wider terminals centre the handset
	maxHandsetHeight = 42  // taller ones too
	moduleWidth      = 22  // one expansion module: 18 keys in a column
	logMinWidth      = 32  // the log pane goes right of the handset from this width on
	logWidth         = 64  // and takes up to this many columns before the handset widens
	logMinHeight     = 8   // else it goes below, at least this tall
	minHandsetRows   = 14  // the handset's rows when the log pane is below it: 9 display rows
	bottomRows       = 4   // keypad and hard keys
	fkeysPerSide     = keypad.BaseFunctionKeys / 2
)

// Options is what the picture needs beyond the phone's View: state of
// the user interface itself.
type Options struct {
	Help      bool     // show the key map over the handset
	Log       []string // when non-nil, show the phone log in a pane, newest last
	Blink     bool     // the dark half of the slow blink cycle
	FastBlink bool     // the dark half of the fast blink cycle
	Title     string   // shown at the right of the bottom line
}

// Draw draws the handset showing v on a width×height grid.
//
// Layout: the status bar (identity, registration, clock) is the top row and
// the key hints the bottom row. Between them, the handset: the display box
// with the function keys beside it, P1–P16 left and P17–P32 right, one row
// each (two rows each once the display area has 32 rows), so all 32 keys
// show from 80×24 on; the four softkeys under the display; the keypad, the
// hard keys and the navigation keys in four rows at the bottom. The handset
// takes at most 100×42 cells and is centred in a larger grid. Expansion
// modules (v.Modules, 18 keys each, P33 on) stand right of the handset, as
// many as leave the handset its 80 columns (each takes 23 columns and 20
// rows). The log pane (opt.Log non-nil) goes right of everything when 33
// columns remain; else below the handset, which then shrinks (to 16 rows on
// 80×24: its display has 9 rows, and P1–P9 and P17–P25 show, one row each,
// since each side shows as many keys as the display has rows, at most 16).
// Below 80×24 the frame holds only a "terminal too small" notice.
func Draw(v firmware.View, width, height int, opt Options) *Frame {
	f := newFrame(width, height)
	if width < MinWidth || height < MinHeight {
		tooSmall(f)
		return f
	}
	d := drawer{f: f, v: v, opt: opt}
	l := plan(v, width, height, opt)
	d.status()
	d.hints()
	d.handset(l.hand)
	for i, rc := range l.modules {
		d.module(i, rc)
	}
	if opt.Log != nil {
		d.logPane(l.log)
	}
	if opt.Help {
		d.help()
	}
	return f
}

func tooSmall(f *Frame) {
	msg := [2]string{"terminal too small (need " + strconv.Itoa(MinWidth) + "x" + strconv.Itoa(MinHeight) + ")",
		"have " + strconv.Itoa(f.W) + "x" + strconv.Itoa(f.H)}
	y := max(0, f.H/2-1)
	for i, m := range msg {
		f.putCenter(0, y+i, f.W, m, Title)
	}
}

type layout struct {
	hand    Rect
	modules []Rect
	log     Rect
}

func plan(v firmware.View, w, h int, opt Options) layout {
	var l layout
	avail := w
	mods := 0
	for mods < min(max(v.Modules, 0), keypad.MaxModules) && avail-moduleWidth-1 >= MinWidth {
		mods++
		avail -= moduleWidth + 1
	}
	logRight := opt.Log != nil && avail-logMinWidth-1 >= MinWidth
	hw := min(avail, maxHandsetWidth)
	if logRight { // the log gets up to logWidth columns before the handset grows
		hw = min(max(avail-logWidth-1, MinWidth), maxHandsetWidth)
	}
	body := h - 2 // between the status bar and the hint line
	hh := body
	if opt.Log != nil && !logRight {
		logH := max(logMinHeight, h/3)
		hh = max(body-logH, minHandsetRows)
		l.log = Rect{0, 1 + hh, w, body - hh}
	}
	room := hh
	hh = min(hh, maxHandsetHeight-2)
	group := hw + mods*(moduleWidth+1)
	x0 := (w - group) / 2
	if logRight {
		x0 = 0
		l.log = Rect{group + 1, 1, w - group - 1, body}
	}
	l.hand = Rect{x0, 1 + (room-hh)/2, hw, hh}
	for i := range mods {
		l.modules = append(l.modules, Rect{x0 + hw + 1 + i*(moduleWidth+1), l.hand.Y, moduleWidth, min(hh, 2+2*keypad.ModuleKeys)})
	}
	return l
}

type drawer struct {
	f   *Frame
	v   firmware.View
	opt Options
}

func (d *drawer) active() (firmware.CallView, bool) {
	for _, c := range d.v.Calls {
		if c.ID == d.v.Active && d.v.Active != "" {
			return c, true
		}
	}
	return firmware.CallView{}, false
}

// status draws the top row: who the phone is, whether it is registered,
// what is switched on, the time.
func (d *drawer) status() {
	f, v := d.f, d.v
	f.fill(Rect{0, 0, f.W, 1}, ' ', Bar)
	right := ""
	if v.DND {
		right += "DND  "
	}
	if v.Redirect != "" {
		right += "Fwd  "
	}
	if v.Missed > 0 {
		right += strconv.Itoa(v.Missed) + " missed  "
	}
	if v.Now.IsZero() {
		right += "--:--"
	} else {
		right += v.Now.Format("15:04")
	}
	rw := f.putRight(0, 0, f.W-1, right, Bar)

	id := v.Identity
	who := "no identity"
	if id.User != "" {
		addr := id.Address
		if addr == "" {
			addr = id.User
			if id.Host != "" {
				addr += "@" + id.Host
			}
		}
		who = "<" + addr + ">"
		if id.Display != "" {
			who = id.Display + " " + who
		}
	}
	var mark string
	switch {
	case id.User == "":
	case id.RegError != "":
		mark = "✗ " + id.RegError
	case id.Host == "" && id.Registered:
		mark = "✓ local"
	case id.Registered:
		mark = "✓ registered"
	default:
		mark = "… registering"
	}
	left := f.W - rw - 3
	n := f.put(1, 0, left, who, Bar)
	if mark != "" && left-n > 4 {
		f.put(n+3, 0, left-n-2, mark, Bar)
	}
}

// hints draws the bottom row.
func (d *drawer) hints() {
	f := d.f
	y := f.H - 1
	n := f.put(1, y, f.W-2, "? keys  l log  q quit", Dim)
	if d.opt.Title != "" && f.W-n-4 > 0 {
		f.putRight(n+3, y, f.W-n-4, d.opt.Title, Dim)
	}
}

// led returns the glyph and style of an LED in the current blink phase.
func (d *drawer) led(l firmware.LED) (rune, Style) {
	lit := [...]Style{LEDGreen, LEDRed, LEDOrange}
	blink := [...]Style{LEDGreenBlink, LEDRedBlink, LEDOrangeBlink}
	c := min(int(l.Color), 2)
	switch l.State {
	case firmware.LEDOn:
		return GlyphLEDOn, lit[c]
	case firmware.LEDSlowBlink, firmware.LEDFastBlink:
		d.f.Blinking = true
		dark := d.opt.Blink
		if l.State == firmware.LEDFastBlink {
			dark = d.opt.FastBlink
		}
		if dark {
			return GlyphLEDBlink, LEDOff
		}
		return GlyphLEDBlink, blink[c]
	}
	return GlyphLEDOff, LEDOff
}

func onOff(on bool, c firmware.LEDColor) firmware.LED {
	if on {
		return firmware.LED{State: firmware.LEDOn, Color: c}
	}
	return firmware.LED{}
}

func (d *drawer) keyView(i int) firmware.KeyView {
	if i < len(d.v.Keys) {
		return d.v.Keys[i]
	}
	return firmware.KeyView{}
}

// fkey draws function key i (0-based) as one row w cells wide: LED, name,
// label; mirrored (label, name, LED) for the right-hand column.
func (d *drawer) fkey(i, x, y, w int, mirror bool) {
	f := d.f
	k := d.keyView(i)
	r, st := d.led(k.LED)
	name := "P" + strconv.Itoa(i+1)
	lw := w - 6
	if mirror {
		f.set(x+w-1, y, r, st)
		f.putRight(x+w-6, y, 4, name, Dim)
		f.putRight(x, y, lw, k.Label, Normal)
	} else {
		f.set(x, y, r, st)
		f.put(x+2, y, 4, name, Dim)
		f.put(x+6, y, lw, k.Label, Normal)
	}
	f.hotspot(Rect{x, y, w, 1}, keypad.FunctionKey(i))
}

func (d *drawer) handset(rc Rect) {
	mid := rc.H - 1 - bottomRows // display rows
	fw := 20 + (rc.W-MinWidth)/5
	box := Rect{rc.X + fw + 1, rc.Y, rc.W - 2*fw - 2, mid}

	// Function keys beside the display.
	gap := 1
	if mid >= 2*fkeysPerSide {
		gap = 2
	}
	n := min(fkeysPerSide, mid)
	top := rc.Y + (mid-(n-1)*gap-1)/2
	for j := range n {
		d.fkey(j, rc.X, top+j*gap, fw, false)
		d.fkey(fkeysPerSide+j, rc.X+rc.W-fw, top+j*gap, fw, true)
	}

	d.screen(box)
	d.softkeys(Rect{box.X, rc.Y + mid, box.W, 1})
	d.bottom(Rect{rc.X, rc.Y + mid + 1, rc.W, bottomRows})
}

// screen draws the LCD: a box with the lines of ScreenLines, the list
// cursor in reverse, a long list scrolled to keep the cursor in view.
func (d *drawer) screen(box Rect) {
	f := d.f
	f.box(box, "", Normal)
	lines, sel := screenLines(d.v)
	rows := box.H - 2
	x, w := box.X+2, box.W-4
	if rows <= 0 {
		return
	}
	// The other call appearances, one line each, at the bottom.
	if shown, ok := activeCall(d.v); ok && len(d.v.Calls) > 1 {
		n := min(len(d.v.Calls)-1, rows-len(lines)-1)
		y := box.Y + box.H - 1 - n
		for i, c := range d.v.Calls {
			if c.ID == shown.ID || n <= 0 {
				continue
			}
			f.put(x, y, w, strconv.Itoa(i+1)+": "+callSummary(c), Dim)
			y++
			n--
			rows--
		}
	}
	first := 1 // the first line after the title that shows
	if sel >= first+rows-1 {
		first = sel - (rows - 2)
	}
	y := box.Y + 1
	for i, line := range lines {
		if i > 0 && i < first {
			continue
		}
		if y >= box.Y+1+rows {
			break
		}
		st := Normal
		switch {
		case i == 0:
			st = Title
		case i == sel:
			st = Selected
			f.fill(Rect{box.X + 1, y, box.W - 2, 1}, ' ', Selected)
		}
		f.put(x, y, w, line, st)
		y++
	}
}

// callSummary is one call appearance in a line: who and what state.
func callSummary(c firmware.CallView) string {
	who := partyName(c.Remote)
	switch c.State {
	case firmware.Connected, firmware.OnHold:
		return who + "  " + c.State.String() + " " + Timer(c.Seconds)
	case firmware.Ringing:
		if c.Direction == firmware.Incoming {
			return who + "  incoming"
		}
	}
	return who + "  " + c.State.String()
}

// softkeys draws the four context keys under the display, F1–F4.
func (d *drawer) softkeys(rc Rect) {
	f := d.f
	for i, label := range d.v.Softkeys {
		x := rc.X + i*(rc.W+1)/4
		w := rc.X + (i+1)*(rc.W+1)/4 - x - 1
		f.fill(Rect{x, rc.Y, w, 1}, ' ', KeyFace)
		f.set(x, rc.Y, '[', KeyFace)
		f.set(x+w-1, rc.Y, ']', KeyFace)
		f.putCenter(x+1, rc.Y, w-2, label, KeyFace)
		f.hotspot(Rect{x, rc.Y, w, 1}, keypad.Key("F"+strconv.Itoa(i+1)))
	}
}

// button draws a key face "[label]" or "[● label]" at x, y and returns
// its width.
func (d *drawer) button(x, y int, label string, k keypad.Key, led *firmware.LED) int {
	f := d.f
	w := textWidth(label) + 2
	f.set(x, y, '[', KeyFace)
	i := x + 1
	if led != nil {
		r, st := d.led(*led)
		f.set(i, y, r, st)
		f.set(i+1, y, ' ', KeyFace)
		i += 2
		w += 2
	}
	i += f.put(i, y, textWidth(label), label, KeyFace)
	f.set(i, y, ']', KeyFace)
	f.hotspot(Rect{x, y, w, 1}, k)
	return w
}

type hardKey struct {
	label string
	key   keypad.Key
	led   *firmware.LED
}

// bottom draws the keypad (left), the hard keys (middle) and the
// navigation keys (right).
func (d *drawer) bottom(rc Rect) {
	f, v := d.f, d.v
	pad := [4][3]string{{"1", "2", "3"}, {"4", "5", "6"}, {"7", "8", "9"}, {"*", "0", "#"}}
	for row, keys := range pad {
		for col, k := range keys {
			x := rc.X + 1 + col*6
			f.put(x, rc.Y+row, 5, "[ "+k+" ]", KeyFace)
			f.hotspot(Rect{x, rc.Y + row, 5, 1}, keypad.Key(k))
		}
	}

	c, _ := d.active()
	hook, hookKey := "Pick up", keypad.OffHook
	if v.Hook != firmware.OnHook {
		hook, hookKey = "Hang up", keypad.OnHook
	}
	led := func(on bool, col firmware.LEDColor) *firmware.LED { l := onOff(on, col); return &l }
	rows := [bottomRows][]hardKey{
		{{hook, hookKey, nil}, {"Speaker", keypad.Speaker, led(v.Hook == firmware.HandsFree, firmware.Green)},
			{"Headset", keypad.Headset, led(v.Hook == firmware.Headset, firmware.Green)}},
		{{"DND", keypad.DND, led(v.DND, firmware.Red)}, {"Fwd", keypad.Redirect, led(v.Redirect != "", firmware.Orange)},
			{"Hold", keypad.Hold, led(c.State == firmware.OnHold, firmware.Orange)}, {"Mute", keypad.Mute, led(c.Muted, firmware.Red)}},
		{{"Redial", keypad.Redial, nil}, {"Xfer", keypad.Transfer, nil}, {"Conf", keypad.Conference, nil}, {"Menu", keypad.Menu, nil}},
		{{"Vol-", keypad.VolumeDown, nil}, {"Vol+", keypad.VolumeUp, nil}},
	}
	nx := rc.X + rc.W - 17 // the navigation keys
	widest := 0
	for _, keys := range rows {
		w := -1
		for _, k := range keys {
			w += textWidth(k.label) + 3
			if k.led != nil {
				w += 2
			}
		}
		widest = max(widest, w)
	}
	x0 := rc.X + 18 + (nx-rc.X-18-widest)/2
	for row, keys := range rows {
		x := x0
		for _, k := range keys {
			x += d.button(x, rc.Y+row, k.label, k.key, k.led) + 1
		}
		if row == 3 {
			f.put(x+1, rc.Y+row, 8, "vol "+strconv.Itoa(v.Volume), Dim)
		}
	}

	d.button(nx+5, rc.Y, " ▲ ", keypad.Up, nil)
	x := nx
	x += d.button(x, rc.Y+1, " ◀ ", keypad.Left, nil)
	x += d.button(x, rc.Y+1, " OK ", keypad.Enter, nil)
	d.button(x, rc.Y+1, " ▶ ", keypad.Right, nil)
	d.button(nx+5, rc.Y+2, " ▼ ", keypad.Down, nil)
	d.button(nx+4, rc.Y+3, "Cancel", keypad.Cancel, nil)
}

// module draws expansion module i: 18 keys in a box.
func (d *drawer) module(i int, rc Rect) {
	f := d.f
	f.box(rc, "EXP "+strconv.Itoa(i+1), Dim)
	gap := 1
	if rc.H-2 >= 2*keypad.ModuleKeys {
		gap = 2
	}
	for j := range keypad.ModuleKeys {
		y := rc.Y + 1 + j*gap
		if y >= rc.Y+rc.H-1 {
			break
		}
		d.fkey(keypad.BaseFunctionKeys+i*keypad.ModuleKeys+j, rc.X+1, y, rc.W-2, false)
	}
}

// logPane draws the newest log lines that fit, newest last.
func (d *drawer) logPane(rc Rect) {
	f := d.f
	f.fill(rc, ' ', Normal)
	f.cover(rc)
	f.box(rc, "Log (l closes)", Dim)
	rows := rc.H - 2
	lines := d.opt.Log
	if len(lines) > rows {
		lines = lines[len(lines)-rows:]
	}
	for i, line := range lines {
		f.put(rc.X+1, rc.Y+1+i, rc.W-2, line, Normal)
	}
}

// KeyHelp is the terminal's key map, as the help overlay shows it; the
// terminal adapter (display/term) implements it.
var KeyHelp = [][2]string{
	{"0-9 * #", "digits"},
	{"Enter", "OK"},
	{"Esc", "Cancel (closes this help)"},
	{"Backspace", "Left (deletes a digit)"},
	{"arrows", "Up Down Left Right"},
	{"F1-F4", "softkeys"},
	{"F5-F12", "function keys P1-P8 (Alt: held)"},
	{"Space", "hook: pick up / hang up"},
	{"s / e", "speaker / headset"},
	{"d / f", "DND / forward (redirect)"},
	{"r / o / t", "redial / hold / transfer"},
	{"m / a", "mute / client action"},
	{"+ / -", "volume"},
	{"mouse", "click a key (right: held)"},
	{"? / l", "this help / the log pane"},
	{"q, Ctrl-C", "quit"},
}

// help draws the key map over the handset.
func (d *drawer) help() {
	f := d.f
	w := min(f.W-4, 48)
	h := min(f.H-2, len(KeyHelp)+2)
	rc := Rect{(f.W - w) / 2, (f.H - h) / 2, w, h}
	f.fill(rc, ' ', Normal)
	f.cover(rc)
	f.box(rc, "Keys (? closes)", Title)
	for i, kv := range KeyHelp {
		if i >= h-2 {
			break
		}
		f.put(rc.X+2, rc.Y+1+i, 11, kv[0], Title)
		f.put(rc.X+14, rc.Y+1+i, w-16, kv[1], Normal)
	}
}
