// Package firmware is the phone's core: a deterministic state machine in
// the style of etcd's raft. Step takes an Event (a key press, a SIP
// message translated by the SIP adapter, a clock tick) and returns the
// Effects the adapters must carry out. It does no I/O, reads no clock and
// starts no goroutine; the same settings and events always give the same
// effects.
package firmware

import (
	"strconv"
	"strings"
	"time"

	"phonesim/keypad"
	"phonesim/provisioning"
)

// MaxAppearances is the most call appearances a phone has (max_calls is
// capped at it).
const MaxAppearances = 12

// maxListEntries caps each call list.
const maxListEntries = 100

// messageTicks is how long a transient notice stays (3 s).
const messageTicks = 3 * ticksPerSecond

// endedTicks is how long an ended call stays on the display (2 s).
const endedTicks = 2 * ticksPerSecond

// Phone is one desk phone's state. It is not safe for concurrent use: one
// goroutine owns it and feeds it events.
type Phone struct {
	s *provisioning.Settings

	ticks  int64
	now    time.Time
	tickAt time.Time // the time ticks stands for: a Tick counts the intervals since
	netIP  string
	port   int
	booted bool

	hook     Hook
	dnd      bool
	redirect string // "", "all", "busy", "time"
	volume   int

	calls    [MaxAppearances]call
	maxCalls int
	seq      int // orders calls by creation, names outgoing ones
	token    string
	callIDs  int // SIP Call-IDs handed out
	active   CallID

	digits       [128]byte
	ndigits      int
	lastDigitAt  int64
	transferring CallID // a blind transfer is collecting its target

	message      string
	messageUntil int64

	screen                   Screen
	cursor                   int
	editing                  string // the setting the menu edits
	edit                     []byte // its value being typed
	missed, received, dialed []ListEntry
	missedUnseen             int
	lastDialed               string

	keys    []fkey
	modules int

	regs [provisioning.MaxIdentities + 1]regState

	out     []Effect // effects of the Step in progress
	changed bool     // the Memory changed in this Step

	dataErr string // why the data folder takes no writes ("" while it does)

	sub subState // blf.go, mwi.go: BLF states and mailboxes

	hotdesk [provisioning.MaxIdentities + 1]bool // hotdesk.go: identities logged on by hot-desking

	xfer pendingXfer // transfer.go: an attended transfer awaiting its outcome
	page pageState   // multicast.go: multicast paging
}

type regState struct {
	registered bool
	err        string
}

// call is one call appearance. A zero ID means the slot is free.
type call struct {
	id        CallID
	sipCallID string
	state     CallState
	dir       Direction
	remote    Party
	identity  int
	seq       int   // creation order
	since     int64 // tick of the last state change
	connected int64 // tick the call was connected
	seconds   int   // connected seconds, last rendered
	muted     bool
	deadline  int64 // redirect-on-time deadline (0 = none)
	giveUp    int64 // ringing_time: stop ringing, the call is missed (0 = never)
	hops      int   // 3xx redirections followed for this call
	headers   map[string]string
	cancel    string     // Reason of a CANCEL
	key       int        // line key index showing this call, -1 none
	alert     alertState // Alert-Info / Call-Info / caller ID (alerting.go)
	referrer  CallID     // transfer.go: the call whose REFER placed this one
	conf      CallID     // conference.go: the call this one is in a conference with
}

// New returns a phone configured by s. s is copied; later changes come as
// SettingChanged events.
func New(s *provisioning.Settings) *Phone {
	p := &Phone{s: s.Clone(), volume: 8}
	p.configure()
	p.dnd = p.s.On("dnd_mode")
	p.redirect = redirectMode(p.s.Get("redirect_event"))
	return p
}

// configure reads the settings that shape the phone: appearances,
// function keys, modules.
func (p *Phone) configure() {
	p.maxCalls = clamp(p.s.Int("max_calls", 4), 1, MaxAppearances)
	p.modules = clamp(p.s.Int("expansion_modules", 0), 0, keypad.MaxModules)
	n := keypad.BaseFunctionKeys + p.modules*keypad.ModuleKeys
	p.keys = make([]fkey, n)
	for i := range p.keys {
		p.keys[i] = parseFkey(p.s.Get("fkey"+strconv.Itoa(i)), p.s.Get("fkey_label"+strconv.Itoa(i)))
		p.keys[i].context = keyContext(p.s.Get("fkey_context" + strconv.Itoa(i)))
	}
	p.assignLineKeys()
}

// Settings returns the settings in force.
//
// It is the phone's own, never changed: a change replaces it (copy on
// write), so a caller may keep it, compare it with the last one to see a
// change, and must not modify it (Clone first).
func (p *Phone) Settings() *provisioning.Settings { return p.s }

// Step applies one event and returns what the adapters must do.
func (p *Phone) Step(ev Event) []Effect {
	p.out = nil
	p.changed = false
	switch e := ev.(type) {
	case MemoryLoaded:
		p.loadMemory(e.Memory)
	case DataFolderFailed:
		p.dataFolder(true, e.Reason)
	case DataFolderRecovered:
		p.dataFolder(false, "")
	case PoweredOn:
		p.token = e.Token
		if p.token == "" {
			p.token = "phonesim"
		}
		p.powerOn()
	case NetworkUp:
		if e.IP == p.netIP && e.Port == p.port {
			break // the device reports it before boot, the adapter again
		}
		p.netIP, p.port = e.IP, e.Port
		p.render()
	case Tick:
		p.tick(e)
	case KeyPressed:
		if e.Held >= LongPress && p.longPress(e.Key) {
			break
		}
		p.press(e.Key)
	case CallTransferred:
		p.transferred(e)
	case NumberDialed:
		p.dialNumber(e.Number)
	case HangUpRequested:
		p.hangup(p.find(e.Call))
	case SettingChanged:
		p.setting(e.Name, e.Value)
	case SettingsChanged:
		if e.Settings != nil {
			p.applySettings(e.Settings, e.ByUser)
		}
	case CallOffered:
		if e.Replaces != "" {
			p.replacing(e) // transfer.go: an INVITE with Replaces
		} else {
			p.offered(e)
		}
	case AttendedTransferDone:
		p.attendedTransferDone(e) // transfer.go
	case AttendedTransferAccepted:
		p.attendedTransferAccepted(e) // transfer.go
	case MulticastStarted:
		p.multicastStarted(e) // multicast.go
	case MulticastStopped:
		p.multicastStopped(e) // multicast.go
	case CallReferred:
		p.referred(e) // transfer.go
	case LogOnRequested:
		p.logOn(e)
	case LogOffRequested:
		p.logOff(e)
	case CallSent:
		if c := p.find(e.Call); c != nil {
			c.sipCallID = e.SIPCallID
		}
	case CallProgressed:
		p.progressed(e)
	case CallAnswered:
		p.referOutcome(e.Call, 200, "OK") // a call a REFER placed: tell the referrer
		p.answered(e)
	case CallFailed:
		p.referOutcome(e.Call, e.Status, e.Reason)
		p.failed(e)
	case CallRedirected:
		p.referOutcome(e.Call, e.Status, "Redirected")
		p.redirected(e)
	case CallCanceled:
		p.canceled(e)
	case CallEnded:
		p.ended(e)
	case DTMFReceived:
		if c := p.find(e.Call); c != nil {
			p.logf(Info, "DTMF received: "+string(e.Digit))
		}
	case Registered:
		if e.Identity >= 1 && e.Identity <= provisioning.MaxIdentities {
			p.regs[e.Identity] = regState{registered: true}
			p.logf(Info, "identity "+strconv.Itoa(e.Identity)+" registered")
			p.fireIdentity("action_registered_url", e.Identity)
			p.subscribeAll(e.Identity) // blf.go, mwi.go
			p.render()
		}
	case DialogStateChanged:
		p.dialogState(e) // blf.go
	case SubscriptionFailed:
		p.subscriptionFailed(e)
	case MessageSummary:
		p.messageSummary(e) // mwi.go
	case RegistrationFailed:
		if e.Identity >= 1 && e.Identity <= provisioning.MaxIdentities {
			p.regs[e.Identity] = regState{err: strconv.Itoa(e.Status) + " " + e.Reason}
			p.logf(Warning, "identity "+strconv.Itoa(e.Identity)+" registration failed: "+strconv.Itoa(e.Status)+" "+e.Reason)
			p.fireIdentity("action_reg_failed", e.Identity)
			p.render()
		}
	}
	p.multicastDue() // multicast.go: the paging policy after any change (a call, DND, settings)
	if p.changed {
		p.emit(SaveMemory{})
	}
	return p.out
}

func (p *Phone) emit(e Effect) { p.out = append(p.out, e) }

// render asks for a redraw, once per Step.
func (p *Phone) render() {
	for _, e := range p.out {
		if _, ok := e.(Render); ok {
			return
		}
	}
	p.emit(Render{})
}

func (p *Phone) logf(l Level, msg string) { p.emit(Log{Level: l, Message: msg}) }

func (p *Phone) powerOn() {
	if p.booted {
		return
	}
	p.booted = true
	p.logf(Info, "phonesim "+p.s.Get("phone_type")+" "+p.s.Get("mac")+" started")
	for i := 1; i <= provisioning.MaxIdentities; i++ {
		if p.s.Get("user_host"+strconv.Itoa(i)) != "" {
			p.register(i)
		}
	}
	p.fire("action_setup_url", nil, "")
	p.multicastConfigure() // multicast.go
	for i, k := range p.keys {
		if k.led != (LED{}) {
			p.emit(SetLED{Index: i, LED: k.led})
		}
	}
	p.render()
}

// NextTick says how many tick intervals after the last Tick the phone
// next has something to do: take down a notice, clear an ended call,
// count a connected call's seconds, redirect, give up on or answer a
// ringing call, dial the digits typed (auto_dial), give up waiting on a
// transfer. ok is false when nothing waits on the clock. An adapter may
// send no Tick before that (nor before the next minute, for the idle
// screen's clock) but one with the current time before each event, so
// the phone's clock is right for it: a Tick counts the intervals passed
// since the last one, not one. An idle phone then costs no CPU, and a
// phone in a call wakes once a second (TestScenariosTickless runs every
// scenario this way).
func (p *Phone) NextTick() (n int64, ok bool) {
	next := int64(0)
	at := func(t int64) {
		if t > 0 && (next == 0 || t < next) {
			next = t
		}
	}
	if p.message != "" {
		at(p.messageUntil)
	}
	if p.ndigits > 0 && p.transferring == "" {
		if secs, err := strconv.Atoi(p.s.Get("auto_dial")); err == nil && secs > 0 {
			at(p.lastDigitAt + int64(secs)*ticksPerSecond)
		}
	}
	at(p.xfer.deadline)
	for i := range p.calls {
		c := &p.calls[i]
		if c.id == "" {
			continue
		}
		switch {
		case c.state == Ended:
			at(c.since + endedTicks)
		case c.state == Connected || c.state == OnHold:
			at(c.connected + int64(c.seconds+1)*ticksPerSecond)
		case c.state == Ringing && c.dir == Incoming:
			at(c.deadline)
			at(c.giveUp)
			at(c.alert.answerAt)
		}
	}
	if next == 0 {
		return 0, false
	}
	return max(next-p.ticks, 1), true
}

func (p *Phone) tick(t Tick) {
	// Count the intervals since the last Tick (at least one): an adapter
	// sends none while nothing waits on the clock (NextTick).
	n := int64(1)
	if !p.tickAt.IsZero() {
		n = max(int64(t.Now.Sub(p.tickAt)/TickInterval), 1)
	}
	p.ticks += n
	if p.tickAt.IsZero() || t.Now.Before(p.tickAt) {
		p.tickAt = t.Now // the first Tick, or a clock that went back
	} else {
		p.tickAt = p.tickAt.Add(time.Duration(n) * TickInterval)
	}
	p.autoAnswerDue()
	p.attendedTransferDue() // transfer.go: the wait for a transfer's outcome
	oldMinute := p.now.Truncate(time.Minute)
	p.now = t.Now
	changed := !p.now.Truncate(time.Minute).Equal(oldMinute)
	if p.message != "" && p.ticks >= p.messageUntil {
		p.message = ""
		changed = true
	}
	for i := range p.calls {
		c := &p.calls[i]
		if c.id == "" {
			continue
		}
		switch {
		case c.state == Ended && p.ticks-c.since >= endedTicks:
			p.free(c)
			changed = true
		case c.state == Connected || c.state == OnHold:
			if s := int((p.ticks - c.connected) / ticksPerSecond); s != c.seconds {
				c.seconds = s
				changed = true
			}
		case c.state == Ringing && c.dir == Incoming && c.deadline > 0 && p.ticks >= c.deadline:
			target := p.redirectURI("time", c.identity)
			if target == "" {
				c.deadline = 0 // it rings on
				changed = true
				break
			}
			p.emit(Redirect{Call: c.id, Status: 302, Target: target})
			p.logf(Info, "call from "+c.remote.URI+" redirected after "+p.s.Get("redirect_time")+" s to "+target)
			p.free(c)
			p.syncLEDs()
			changed = true
		case c.state == Ringing && c.dir == Incoming && c.giveUp > 0 && p.ticks >= c.giveUp:
			p.emit(Reject{Call: c.id, Status: 480, Reason: "Temporarily Unavailable"})
			p.logf(Info, "no answer after "+p.s.Get("ringing_time")+" s")
			p.missedCall(c)
			p.end(c, "")
			changed = true
		}
	}
	if p.ndigits > 0 && p.transferring == "" {
		if secs, err := strconv.Atoi(p.s.Get("auto_dial")); err == nil && secs > 0 &&
			p.ticks-p.lastDigitAt >= int64(secs)*ticksPerSecond {
			p.send()
			return
		}
	}
	if changed {
		p.render()
	}
}

// setting applies one user change (a scenario's "set", the fuzzer).
func (p *Phone) setting(name, value string) {
	next := p.s.Clone()
	if err := next.Set(name, value); err != nil {
		p.logf(Warning, "setting refused: "+err.Error())
		return
	}
	p.applySettings(next, true)
}

// applySettings puts new settings in force and does what each change
// means on a running phone, without a restart: function keys and labels,
// appearances and modules are rebuilt, an identity whose registration
// settings changed registers again, DND and redirection follow. Action
// URLs are read when they fire, so they need nothing. A change the user
// made fires the URL a key press would (DND on, redirection on);
// provisioning fires none, as a phone fires none when it is provisioned.
func (p *Phone) applySettings(next *provisioning.Settings, byUser bool) {
	changed := p.s.Changed(next)
	p.s = next.Clone()
	if len(changed) == 0 {
		return
	}
	reconfigure := false
	var reregister [provisioning.MaxIdentities + 1]bool
	for _, name := range changed {
		switch {
		case name == "dnd_mode":
			if byUser {
				p.setDND(p.s.On("dnd_mode"))
			} else if on := p.s.On("dnd_mode"); on != p.dnd {
				p.dnd, p.changed = on, true
				p.logf(Info, "DND "+onOff(on)+" (provisioning)")
			}
		case name == "redirect_event":
			if byUser {
				p.setRedirect(redirectMode(p.s.Get(name)))
			} else if mode := redirectMode(p.s.Get(name)); mode != p.redirect {
				p.redirect, p.changed = mode, true
				p.logf(Info, "redirection "+p.s.Get(name)+" (provisioning)")
			}
		case identitySetting(name) > 0:
			reregister[identitySetting(name)] = true
		case strings.HasPrefix(name, "fkey"), name == "max_calls", name == "expansion_modules":
			reconfigure = true
		}
	}
	if reconfigure {
		p.configure()
	}
	p.multicastConfigure() // multicast.go: mc_address changes

	p.resubscribe() // blf.go: blf keys or mailboxes may have changed
	if p.booted {
		for i, again := range reregister {
			if again {
				p.register(i)
			}
		}
	}
	p.syncLEDs()
	if !byUser {
		p.logf(Info, "settings changed: "+summarize(changed))
	}
	p.render()
}

// summarize names changed settings for the log, secrets included by name
// only (their values are never logged).
func summarize(names []string) string {
	const most = 8
	if len(names) <= most {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:most], ", ") + " and " + strconv.Itoa(len(names)-most) + " more"
}

// register asks the SIP adapter to (re)register identity i, or to stop
// when it has no registrar or is not active.
func (p *Phone) register(i int) {
	n := strconv.Itoa(i)
	r := Register{Identity: i, User: p.s.Get("user_name" + n), Host: p.s.Get("user_host" + n),
		AuthUser: p.s.Get("user_pname" + n), Password: p.s.Get("user_pass" + n),
		Expires: p.s.Int("user_expiry"+n, 3600)}
	if r.User == "" || !p.s.On("user_active"+n) {
		r.Host = ""
	}
	p.regs[i] = regState{}
	if r.Host != "" {
		p.logf(Info, "identity "+n+": registering "+r.User+"@"+r.Host)
	}
	p.emit(r)
}

// identitySetting returns N for the settings of identity N that shape its
// registration (user_nameN, user_hostN, ...), else 0.
func identitySetting(name string) int {
	for _, base := range []string{"user_name", "user_host", "user_pass", "user_pname", "user_active", "user_expiry"} {
		if rest, ok := strings.CutPrefix(name, base); ok {
			if i, err := strconv.Atoi(rest); err == nil && i >= 1 && i <= provisioning.MaxIdentities {
				return i
			}
		}
	}
	return 0
}

// View returns a snapshot of what the phone shows.
func (p *Phone) View() View {
	v := View{
		Now:        p.now,
		Hook:       p.hook,
		DND:        p.dnd,
		Redirect:   p.redirect,
		Active:     p.active,
		Digits:     string(p.digits[:p.ndigits]),
		Transfer:   p.transferring,
		Message:    p.message,
		Screen:     p.screen,
		ListCursor: p.cursor,
		Modules:    p.modules,
		Volume:     p.volume,
		Missed:     p.missedUnseen,
		DataError:  p.dataErr,
		Mailboxes:  p.mailboxes(),
		Page:       p.pageView(), // multicast.go
	}
	if p.redirect != "" {
		v.RedirectTo = p.redirectTarget(p.redirect)
	}
	for i := 1; i <= provisioning.MaxIdentities; i++ {
		if id, ok := p.identityView(i); ok {
			v.Identities = append(v.Identities, id)
		}
	}
	v.Identity, _ = p.identityView(p.activeIdentity())
	for _, c := range p.ordered() {
		v.Calls = append(v.Calls, CallView{
			ID: c.id, SIPCallID: c.sipCallID, State: c.state, Direction: c.dir,
			Remote: c.remote, Seconds: c.seconds, Muted: c.muted, Identity: c.identity,
			Ring: c.alert.ring, Info: c.alert.info,
		})
	}
	if l := p.list(); l != nil {
		v.List = append([]ListEntry(nil), l...)
	}
	if p.screen == ScreenMenu {
		for _, it := range p.menuItems() {
			v.Menu = append(v.Menu, it.label)
		}
		if p.editing != "" {
			v.Editing, v.Digits = p.editing, string(p.edit)
		}
	}
	for i, sk := range p.softkeys() {
		v.Softkeys[i] = sk.label
	}
	v.Keys = make([]KeyView, len(p.keys))
	for i, k := range p.keys {
		v.Keys[i] = KeyView{Label: k.label, LED: k.led, Kind: k.kind}
	}
	return v
}

func (p *Phone) identityView(i int) (IdentityView, bool) {
	user := p.s.Get("user_name" + strconv.Itoa(i))
	if user == "" || !p.s.On("user_active"+strconv.Itoa(i)) {
		return IdentityView{}, false
	}
	host := p.s.Get("user_host" + strconv.Itoa(i))
	id := IdentityView{Index: i, User: user, Host: host, Display: p.s.Get("user_realname" + strconv.Itoa(i)),
		Address: strings.TrimPrefix(p.localURI(i), "sip:")}
	if host == "" {
		id.Registered = p.netIP != ""
	} else {
		id.Registered = p.regs[i].registered
		id.RegError = p.regs[i].err
	}
	return id, true
}

// activeIdentity is the identity the next outgoing call uses: the active
// call's, else the first configured one.
func (p *Phone) activeIdentity() int {
	if c := p.find(p.active); c != nil && c.identity > 0 {
		return c.identity
	}
	for i := 1; i <= provisioning.MaxIdentities; i++ {
		if p.s.Get("user_name"+strconv.Itoa(i)) != "" && p.s.On("user_active"+strconv.Itoa(i)) {
			return i
		}
	}
	return 1
}

// localURI is the SIP URI of identity i.
func (p *Phone) localURI(i int) string {
	user := p.s.Get("user_name" + strconv.Itoa(i))
	host := p.s.Get("user_host" + strconv.Itoa(i))
	if host == "" {
		host = p.hostPort()
	}
	if user == "" {
		return "sip:" + host
	}
	return "sip:" + user + "@" + host
}

func (p *Phone) hostPort() string {
	ip := p.netIP
	if ip == "" {
		ip = "127.0.0.1"
	}
	if p.port == 0 || p.port == 5060 {
		return ip
	}
	return ip + ":" + strconv.Itoa(p.port)
}

// targetURI turns what the user dialed into a SIP URI: a full sip: URI as
// is; user@host gets "sip:"; four groups of digits separated by "*" are an
// IP address (a fifth group is the port), as snom phones dial IPs; any
// other number goes to the identity's host (for a local identity: this
// phone's own IP, port 5060).
//
// A # in the user part is written %23 (a raw # is not allowed in a SIP
// URI). targetURI does not check what it built: target does.
func (p *Phone) targetURI(number string, identity int) string {
	n := strings.TrimSpace(number)
	lower := strings.ToLower(n)
	if strings.HasPrefix(lower, "sip:") || strings.HasPrefix(lower, "sips:") {
		return escapeHash(n)
	}
	if strings.Contains(n, "@") {
		return escapeHash("sip:" + n)
	}
	if ip, ok := starIP(n); ok {
		return "sip:" + ip
	}
	host := p.s.Get("user_host" + strconv.Itoa(identity))
	if host == "" {
		host = p.netIP
		if host == "" {
			host = "127.0.0.1"
		}
	}
	return escapeHash("sip:" + n + "@" + host)
}

// target turns what the user dialed, or a setting or a key names, into
// the SIP URI a call, transfer or redirection goes to, and checks it
// (CheckSIPURI): every target the core sends passes here. An invalid one
// is refused: the display says "Invalid number", the log says why.
func (p *Phone) target(number string, identity int, what string) (string, bool) {
	uri := p.targetURI(number, identity)
	if err := CheckSIPURI(uri); err != nil {
		p.logf(Warning, what+": invalid number "+quoteShort(number)+": "+err.Error())
		p.say("Invalid number")
		p.render()
		return "", false
	}
	return uri, true
}

// quoteShort quotes network or user text for a log line: ASCII only,
// capped.
func quoteShort(s string) string {
	const most = 80
	if len(s) > most {
		return strconv.QuoteToASCII(s[:most]) + "..."
	}
	return strconv.QuoteToASCII(s)
}

// callTimers are the timers that end a call whose other side vanished:
// the session timer (timer_support, session_timer; RFC 4028 wants at
// least 90 s) and RTP inactivity (rtp_timeout).
func (p *Phone) callTimers() CallTimers {
	var t CallTimers
	if secs := p.s.Int("session_timer", 3600); p.s.On("timer_support") && secs > 0 {
		t.SessionExpires = time.Duration(max(secs, 90)) * time.Second
	}
	if secs := p.s.Int("rtp_timeout", 0); secs > 0 {
		t.RTPTimeout = time.Duration(secs) * time.Second
	}
	return t
}

// starIP reads "127*0*0*1" or "127*0*0*1*5062" as an IP address and port.
func starIP(n string) (string, bool) {
	parts := strings.Split(n, "*")
	if len(parts) != 4 && len(parts) != 5 {
		return "", false
	}
	for i, part := range parts {
		v, err := strconv.Atoi(part)
		if err != nil || v < 0 || (i < 4 && v > 255) || (i == 4 && (v < 1 || v > 65535)) {
			return "", false
		}
	}
	s := strings.Join(parts[:4], ".")
	if len(parts) == 5 {
		s += ":" + parts[4]
	}
	return s, true
}

func redirectMode(v string) string {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "all", "busy", "time":
		return strings.ToLower(strings.TrimSpace(v))
	}
	return ""
}

func (p *Phone) redirectTarget(mode string) string {
	switch mode {
	case "busy":
		return p.s.Get("redirect_busy_number")
	case "time":
		return p.s.Get("redirect_time_number")
	}
	return p.s.Get("redirect_number")
}

func (p *Phone) say(msg string) {
	p.message = msg
	p.messageUntil = p.ticks + messageTicks
}

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
