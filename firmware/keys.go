package firmware

import (
	"strconv"
	"strings"

	"phonesim/keypad"
	"phonesim/provisioning"
)

// press handles one key.
func (p *Phone) press(k keypad.Key) {
	if p.menuKey(k) || p.actionKey(k) {
		return
	}
	if d, ok := k.Digit(); ok {
		p.digit(d)
		return
	}
	if i, ok := k.SoftkeyIndex(); ok {
		p.softkey(p.softkeys()[i])
		return
	}
	if i, ok := k.FunctionIndex(); ok {
		p.functionKey(i)
		return
	}
	p.act(k)
}

// act carries out a hard key or the key a softkey stands for.
func (p *Phone) act(k keypad.Key) {
	active := p.find(p.active)
	switch k {
	case keypad.OffHook:
		p.lift(Handset)
	case keypad.Speaker:
		p.toggleHook(HandsFree)
	case keypad.Headset:
		p.toggleHook(Headset)
	case keypad.OnHook:
		p.putDown()
	case keypad.Enter:
		switch {
		case p.ringing() != nil && !p.typing():
			p.answer(p.ringing())
		case p.screen != ScreenIdle:
			if l := p.list(); p.cursor < len(l) {
				p.screen = ScreenIdle
				p.dial(l[p.cursor].Remote.URI)
			}
		case p.ndigits > 0:
			p.send()
		}
	case keypad.Cancel:
		switch {
		case p.screen != ScreenIdle:
			p.screen = ScreenIdle
			p.render()
		case p.transferring != "":
			p.transferring = ""
			p.ndigits = 0
			p.render()
		case p.ringing() != nil && !p.typing():
			// a ringing call has the user's attention: X declines it,
			// the call in progress (if any) goes on
			p.hangup(p.ringing())
		case active != nil && active.state != OnHold:
			p.hangup(active)
		case p.message != "":
			p.message = ""
			p.render()
		}
	case keypad.Action:
		p.manualAction(0)
	case keypad.Record:
		if active != nil && active.state == Connected {
			p.emit(ToggleRecording{Call: active.id})
		}
	case keypad.Reprovision:
		p.logf(Info, "provisioning: fetching the setting server")
		p.emit(Reprovision{})
	case keypad.DND:
		if !p.locked("dnd_mode", "DND") {
			p.setDND(!p.dnd)
		}
	case keypad.Redirect:
		if !p.locked("redirect_event", "Redirection") {
			p.toggleRedirect()
		}
	case keypad.Redial:
		if p.lastDialed == "" {
			p.say("Nothing to redial")
			p.render()
			return
		}
		p.dial(p.lastDialed)
	case keypad.Hold:
		switch {
		case active != nil && active.state == Connected:
			p.hold(active)
		default:
			p.resume(p.heldCall())
		}
	case keypad.Transfer:
		if active != nil && active.state == Connected && p.transferring == "" {
			p.transferring = active.id
			p.ndigits = 0
			p.lastDigitAt = p.ticks
			p.render()
		} else if p.transferring != "" && p.ndigits > 0 {
			p.send()
		} else if p.transferring != "" {
			p.attendedTransfer() // no number: to the call on hold
		}
	case keypad.Mute:
		if active != nil && active.state == Connected {
			active.muted = !active.muted
			p.emit(MuteCall{Call: active.id, Muted: active.muted})
			p.syncLEDs()
			p.render()
		}
	case keypad.VolumeUp:
		p.volume = clamp(p.volume+1, 0, 15)
		p.render()
	case keypad.VolumeDown:
		p.volume = clamp(p.volume-1, 0, 15)
		p.render()
	case keypad.Up, keypad.Down:
		p.scroll(k == keypad.Down)
	case keypad.Conference:
		p.conferenceKey() // conference.go
	case keypad.Menu:
		if p.ringing() == nil && active == nil {
			p.screen, p.cursor = ScreenMenu, 0
			p.ndigits = 0
			p.render()
		}
	case keypad.Left:
		if p.ndigits > 0 {
			p.ndigits--
			p.render()
		}
	}
}

// digit is 0-9, * or #.
func (p *Phone) digit(d byte) {
	active := p.find(p.active)
	if active != nil && active.state == Connected && p.transferring == "" {
		p.emit(SendDTMF{Call: active.id, Digits: string(rune(d))})
		return
	}
	if active != nil && active.live() && active.state != Connected {
		return // the call is being set up: nothing to dial
	}
	if d == '#' && p.ndigits > 0 {
		p.send()
		return
	}
	if p.transferring == "" && p.dialingCall() == nil && p.startDialing() == nil {
		return
	}
	if p.ndigits < len(p.digits) {
		p.digits[p.ndigits] = d
		p.ndigits++
	}
	p.lastDigitAt = p.ticks
	p.render()
}

// lift takes the handset (or headset) off hook.
func (p *Phone) lift(h Hook) {
	if p.hook != OnHook {
		if p.hook != h {
			p.setHook(h)
		}
		return
	}
	p.setHook(h)
	if r := p.ringing(); r != nil {
		p.answer(r)
		return
	}
	if p.dialingCall() != nil && p.ndigits > 0 {
		p.send()
		return
	}
	if a := p.find(p.active); a == nil || !a.live() {
		p.startDialing()
	}
}

// putDown hangs up the call that has the audio path.
func (p *Phone) putDown() {
	if p.hook == OnHook {
		return
	}
	for i := range p.calls {
		if c := &p.calls[i]; c.id != "" && (c.live() || c.state == Dialing) {
			p.hangup(c)
		}
	}
	p.transferring = ""
	p.ndigits = 0
	p.setHook(OnHook)
}

// toggleHook is the speaker or headset key: off hook in that mode, or back
// on hook when already in it.
func (p *Phone) toggleHook(h Hook) {
	switch p.hook {
	case h:
		p.putDown()
	case OnHook:
		p.lift(h)
	default:
		p.setHook(h)
	}
}

func (p *Phone) toggleRedirect() {
	if p.redirect != "" {
		p.setRedirect("")
		return
	}
	if p.s.Get("redirect_number") == "" {
		p.say("No redirect target")
		p.render()
		return
	}
	p.setRedirect("all")
}

// typing reports whether the user is entering a number (to dial or to
// transfer to): then OK and X act on that, not on a ringing call.
func (p *Phone) typing() bool {
	if p.transferring != "" {
		return true
	}
	d := p.dialingCall()
	return d != nil && d.id == p.active && p.ndigits > 0
}

func (p *Phone) heldCall() *call {
	var best *call
	for i := range p.calls {
		c := &p.calls[i]
		if c.id != "" && c.state == OnHold && (best == nil || c.seq > best.seq) {
			best = c
		}
	}
	return best
}

func (p *Phone) list() []ListEntry {
	switch p.screen {
	case ScreenMissed:
		return p.missed
	case ScreenReceived:
		return p.received
	case ScreenDialed:
		return p.dialed
	}
	return nil
}

func (p *Phone) showList(s Screen) {
	p.screen = s
	p.cursor = 0
	if s == ScreenMissed {
		p.changed = p.changed || p.missedUnseen > 0
		p.missedUnseen = 0
	}
	p.render()
}

func (p *Phone) scroll(down bool) {
	if p.screen == ScreenIdle {
		return
	}
	n := len(p.list())
	if down && p.cursor < n-1 {
		p.cursor++
	} else if !down && p.cursor > 0 {
		p.cursor--
	}
	p.render()
}

// --- softkeys ---

// softAction is what a softkey does.
type softAction uint8

const (
	softNone softAction = iota
	softKey             // acts as a hard key
	softMissed
	softReceived
	softDialed
	softEnd
	softReject
)

type softkey struct {
	label  string
	action softAction
	key    keypad.Key
}

func (p *Phone) softkey(sk softkey) {
	switch sk.action {
	case softKey:
		p.act(sk.key)
	case softMissed:
		p.showList(ScreenMissed)
	case softReceived:
		p.showList(ScreenReceived)
	case softDialed:
		p.showList(ScreenDialed)
	case softEnd:
		c := p.find(p.active)
		if c == nil || c.state == Ended {
			c = p.heldCall() // End on the hold screen ends the held call
		}
		p.hangup(c)
	case softReject:
		p.hangup(p.ringing())
	}
}

var (
	skNone     = softkey{}
	skAnswer   = softkey{"Answer", softKey, keypad.Enter}
	skReject   = softkey{"Reject", softReject, ""}
	skDial     = softkey{"Dial", softKey, keypad.Enter}
	skDel      = softkey{"Del", softKey, keypad.Left}
	skCancel   = softkey{"Cancel", softKey, keypad.Cancel}
	skEnd      = softkey{"End", softEnd, ""}
	skHold     = softkey{"Hold", softKey, keypad.Hold}
	skResume   = softkey{"Resume", softKey, keypad.Hold}
	skXfer     = softkey{"Xfer", softKey, keypad.Transfer}
	skMute     = softkey{"Mute", softKey, keypad.Mute}
	skUnmute   = softkey{"Unmute", softKey, keypad.Mute}
	skMissed   = softkey{"Missed", softMissed, ""}
	skReceived = softkey{"Recvd", softReceived, ""}
	skDialed   = softkey{"Dialed", softDialed, ""}
	skDND      = softkey{"DND", softKey, keypad.DND}
	skBack     = softkey{"Back", softKey, keypad.Cancel}
	skUp       = softkey{"Up", softKey, keypad.Up}
	skDown     = softkey{"Down", softKey, keypad.Down}
)

// favoriteKey is a softkey that runs the favourite client action, named
// after it, or otherwise when there is none (Mute and Back stay on their
// hard keys).
func (p *Phone) favoriteKey(otherwise softkey) softkey {
	if a, ok := p.favorite(); ok {
		return softkey{a.name, softKey, keypad.Action}
	}
	return otherwise
}

// softkeys returns F1-F4 for the current state.
func (p *Phone) softkeys() [4]softkey {
	active := p.find(p.active)
	switch {
	case p.transferring != "":
		return [4]softkey{{"Xfer", softKey, keypad.Transfer}, skDel, skNone, skCancel}
	case p.inConference() && p.ringing() == nil: // conference.go
		return [4]softkey{{"Split", softKey, keypad.Conference}, skNone, skNone, skEnd}
	case p.ringing() != nil && !p.typing():
		if active != nil && active.live() {
			// call waiting: answering puts the current call on hold;
			// End ends the current one
			return [4]softkey{skAnswer, skReject, p.favoriteKey(skNone), skEnd}
		}
		return [4]softkey{skAnswer, skReject, p.favoriteKey(skNone), skNone}
	case active != nil && active.state == Dialing:
		return [4]softkey{skDial, skDel, skNone, skCancel}
	case active != nil && (active.state == Calling || active.state == Ringing || active.state == EarlyMedia):
		return [4]softkey{skNone, skNone, skNone, skCancel}
	case active != nil && active.state == Connected:
		mute := skMute
		if active.muted {
			mute = skUnmute
		}
		return [4]softkey{skHold, skXfer, p.favoriteKey(mute), skEnd}
	case p.heldCall() != nil:
		return [4]softkey{skResume, skNone, skNone, skEnd}
	case p.screen == ScreenMenu && p.editing != "":
		return [4]softkey{{"Save", softKey, keypad.Enter}, skDel, skNone, skCancel}
	case p.screen == ScreenMenu:
		return [4]softkey{{"Change", softKey, keypad.Enter}, skUp, skDown, skBack}
	case p.screen != ScreenIdle:
		return [4]softkey{skDial, skUp, skDown, p.favoriteKey(skBack)}
	}
	return [4]softkey{skMissed, skReceived, skDialed, skDND}
}

// --- function keys ---

type fkey struct {
	kind  string // line, dest, speed, blf, url, keyevent, dtmf, none
	arg   string
	label string
	led   LED
	slot  int // line keys: the call appearance they show, -1 none
	// context is the identity the key acts for (fkey_contextN): its
	// calls go out through it, a blf key subscribes through it; 0: the
	// active identity (a blf key: the first with a registrar).
	context int
}

// keyContext reads fkey_contextN: "active" (0) or an identity 1-12.
func keyContext(v string) int {
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 1 && n <= provisioning.MaxIdentities {
		return n
	}
	return 0
}

func parseFkey(value, label string) fkey {
	value = strings.TrimSpace(value)
	kind, arg, _ := strings.Cut(value, " ")
	kind = strings.ToLower(kind)
	arg = strings.TrimSpace(arg)
	switch kind {
	case "line", "dest", "speed", "blf", "url", "keyevent", "dtmf", "none":
	case "":
		kind = "none"
	default:
		kind = "none"
	}
	k := fkey{kind: kind, arg: arg, label: label, slot: -1}
	if k.label == "" {
		k.label = defaultLabel(kind, arg)
	}
	return k
}

func defaultLabel(kind, arg string) string {
	switch kind {
	case "line":
		return "Line"
	case "dest", "speed", "blf":
		a := strings.TrimSuffix(strings.TrimPrefix(arg, "<"), ">")
		a = strings.TrimPrefix(strings.TrimPrefix(a, "sip:"), "sips:")
		if at := strings.IndexByte(a, '@'); at > 0 {
			a = a[:at]
		}
		return a
	case "url":
		return "URL"
	case "keyevent":
		switch strings.ToUpper(arg) {
		case "F_DND":
			return "DND"
		case "F_REDIAL":
			return "Redial"
		case "F_HOLD":
			return "Hold"
		case "F_TRANSFER":
			return "Transfer"
		case "F_MUTE":
			return "Mute"
		}
		return arg
	case "dtmf":
		return "DTMF " + arg
	}
	return ""
}

// assignLineKeys gives each line key a call appearance: the n-th line key
// shows the n-th call, oldest first.
func (p *Phone) assignLineKeys() {
	var calls []*call
	for _, c := range p.ordered() {
		if c.state != Ended {
			calls = append(calls, c)
		}
	}
	n := 0
	for i := range p.keys {
		if p.keys[i].kind != "line" {
			continue
		}
		p.keys[i].slot = -1
		if n < len(calls) {
			for j := range p.calls {
				if &p.calls[j] == calls[n] {
					p.keys[i].slot = j
				}
			}
		}
		n++
	}
}

// ledFor computes a key's LED from the phone's state.
func (p *Phone) ledFor(k *fkey) LED {
	if led, ok := p.keyLED(k); ok { // blf.go
		return led
	}
	switch k.kind {
	case "line":
		if k.slot < 0 || p.calls[k.slot].id == "" {
			return LED{}
		}
		c := &p.calls[k.slot]
		switch c.state {
		case Ringing:
			if c.dir == Incoming {
				return LED{LEDFastBlink, Green}
			}
			return LED{LEDSlowBlink, Green}
		case Dialing, Calling, EarlyMedia, Connected:
			return LED{LEDOn, Green}
		case OnHold:
			return LED{LEDSlowBlink, Orange}
		}
	case "keyevent":
		switch strings.ToUpper(k.arg) {
		case "F_DND":
			if p.dnd {
				return LED{LEDOn, Red}
			}
		case "F_MUTE":
			if a := p.find(p.active); a != nil && a.muted {
				return LED{LEDOn, Red}
			}
		case "F_HOLD":
			if p.heldCall() != nil {
				return LED{LEDSlowBlink, Orange}
			}
		}
	}
	return LED{}
}

// syncLEDs recomputes every LED and emits SetLED for those that changed.
func (p *Phone) syncLEDs() {
	for i := range p.keys {
		if led := p.ledFor(&p.keys[i]); led != p.keys[i].led {
			p.keys[i].led = led
			p.emit(SetLED{Index: i, LED: led})
		}
	}
}

func (p *Phone) functionKey(i int) {
	if i >= len(p.keys) {
		return // a module that is not attached
	}
	k := &p.keys[i]
	switch k.kind {
	case "line":
		p.lineKey(k)
	case "dest", "speed", "blf":
		target := strings.TrimSuffix(strings.TrimPrefix(k.arg, "<"), ">")
		if k.kind == "blf" {
			target = p.blfTarget(i) // blf.go: the URI, or the pickup code while it rings
		}
		if target == "" {
			return
		}
		if r := p.ringing(); r != nil && k.kind == "blf" {
			p.answer(r)
			return
		}
		if a := p.find(p.active); a != nil && a.state == Connected {
			// a speed dial during a call transfers it, as on a snom phone
			p.transferring = a.id
			p.transfer(target)
			return
		}
		if k.kind == "blf" && p.pickUp(i) { // blf.go: INVITE with Replaces to the ringing caller
			return
		}
		p.dialAs(target, k.context, "")
	case "url":
		if k.arg != "" {
			// the call that rings has the user's attention: the key is about it
			c := p.ringing()
			if c == nil {
				c = p.find(p.active)
			}
			p.fireURL("fkey"+strconv.Itoa(i), k.arg, c, keypad.FunctionKey(i))
		}
	case "keyevent":
		if p.pressSubscribed(i) { // blf.go: F_VOICEMAIL
			return
		}
		if hard, ok := keyEvents[strings.ToUpper(k.arg)]; ok {
			p.act(hard)
		} else {
			p.logf(Debug, "keyevent "+k.arg+" not supported")
		}
	case "dtmf":
		if a := p.find(p.active); a != nil && a.state == Connected && k.arg != "" {
			p.emit(SendDTMF{Call: a.id, Digits: k.arg})
		}
	}
}

// keyEvents are the keyevent names a function key may press, and the hard
// key each stands for (provisioning's schema lists the same names as the
// ones phonesim carries out).
var keyEvents = map[string]keypad.Key{
	"F_DND": keypad.DND, "F_REDIAL": keypad.Redial, "F_HOLD": keypad.Hold, "F_TRANSFER": keypad.Transfer,
	"F_MUTE": keypad.Mute, "F_REDIRECT": keypad.Redirect, "F_CONFERENCE": keypad.Conference,
	"F_MENU": keypad.Menu, "F_SETTINGS": keypad.Menu, "F_HEADSET": keypad.Headset, "F_SPEAKER": keypad.Speaker,
	"F_CANCEL": keypad.Cancel, "F_OK": keypad.Enter, "F_ENTER": keypad.Enter, "F_REC": keypad.Record,
}

func (p *Phone) lineKey(k *fkey) {
	if k.slot >= 0 && p.calls[k.slot].id != "" {
		c := &p.calls[k.slot]
		switch {
		case c.state == Ringing && c.dir == Incoming:
			p.answer(c)
		case c.state == OnHold:
			p.resume(c)
		}
		return
	}
	if a := p.find(p.active); a != nil && a.state == Connected {
		p.hold(a)
	}
	if p.startDialing() != nil {
		p.offHook()
	}
}
