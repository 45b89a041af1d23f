// Package device runs one phone: the goroutine that owns a firmware.Phone,
// feeds it events from the adapters (SIP, keys, web, clock) and carries
// out the effects it returns. Adapters talk to it only through channels;
// nothing they do can block the loop.
package device

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"phonesim/actionurl"
	"phonesim/actionurl/dispatch"
	"phonesim/firmware"
	"phonesim/phonelog"
	"phonesim/provisioning"
	"phonesim/sipua"
	"phonesim/trace"
	"phonesim/webui"
)

// ErrStopped is returned by Post once the phone's loop has ended.
var ErrStopped = errors.New("device: phone stopped")

// Config describes one phone.
type Config struct {
	// Store holds the settings' sources (files, --set); the device owns
	// it from New on and adds the setting server and the user's changes.
	// With Store nil, Settings is the one source (as one setting file).
	Store    *provisioning.Store
	Settings *provisioning.Settings
	SIP      string // SIP listen address ("127.0.0.1:0" = any free port)
	// SIPHost, when set, is a SIP port the phone shares with others (a
	// fleet: sipua.Host); SIP is then unused.
	SIPHost *sipua.Host
	Media   sipua.MediaMode // what the phone sends in a call
	Log     *phonelog.Log   // where log lines go; nil makes one
	Clock   func() time.Time
	Data    string // folder for what the phone keeps across restarts; "" keeps nothing
	// Trace records the phone's SIP and RTP (--sip-trace, --pcap) and
	// keeps the ladder of /ladder.htm; nil: a recorder of the ladder only.
	Trace *trace.Recorder
	// ActionURLSent, when set, hears of each Action URL sent: its event,
	// the time from the phone's event to the receiver's answer, and
	// whether the answer was below 400 (a fleet's results). It must not
	// block.
	ActionURLSent func(event string, latency time.Duration, ok bool)
}

// Device is one running phone.
type Device struct {
	phone  *firmware.Phone
	log    *phonelog.Log
	clock  func() time.Time
	ua     *sipua.UA
	fetch  *dispatch.Dispatcher
	apps   *dispatch.Apps
	events chan firmware.Event
	done   chan struct{}

	view      atomic.Pointer[firmware.View]
	viewStale atomic.Bool // the phone changed since view was built (nobody watched)
	wantViews atomic.Bool // a terminal reads Views: build each one
	settings  atomic.Pointer[provisioning.Settings]
	views     chan firmware.View // latest view for a terminal, newest wins

	data      string
	saves     chan firmware.Memory // to the writer, newest wins
	userSaves chan userSave        // to the writer, newest wins
	kept      keptState            // how far the writer got

	dataState dataState // the data folder as the writer knows it (memory.go)

	store        *provisioning.Store // owned by the loop
	ops          chan func()         // work that must run on the loop (it owns store and phone)
	ctx          context.Context     // the loop's, for fetches it starts
	provisioning atomic.Bool         // a setting-server fetch is under way
	lastFetch    time.Time           // the last setting-server fetch (provisioning_interval counts from it)
	lastTick     time.Time           // when the loop sent the last Tick (monotonic)
	hosted       bool                // on a shared SIP port (Config.SIPHost)
	users        []string            // the users the shared port routes to us (routeUsers)

	mu         sync.Mutex
	subs       map[chan webui.Notice]struct{}
	taps       []*tap // Tap, TapFunc; replaced, never changed, under mu
	tapDropped atomic.Int64
}

// New builds a phone and its SIP adapter; Run starts it.
func New(cfg Config) (*Device, error) {
	if cfg.Store == nil {
		cfg.Store = provisioning.NewStore()
		if cfg.Settings != nil {
			cfg.Store.AddFile(provisioning.FileOf("settings", cfg.Settings))
		}
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = phonelog.New(1000, cfg.Clock)
	}
	d := &Device{
		store:     cfg.Store,
		ops:       make(chan func(), 16),
		userSaves: make(chan userSave, 1),
		log:       cfg.Log,
		clock:     cfg.Clock,
		events:    make(chan firmware.Event, 64),
		done:      make(chan struct{}),
		views:     make(chan firmware.View, 1),
		subs:      map[chan webui.Notice]struct{}{},
		data:      cfg.Data,
		saves:     make(chan firmware.Memory, 1),
	}
	if cfg.Data != "" {
		d.dataState.probe = prepareData(cfg.Data)
		d.restoreUser()
	}
	d.phone = firmware.New(d.store.Resolve())
	ua, err := sipua.New(sipua.Config{
		Listen:    cfg.SIP,
		Host:      cfg.SIPHost,
		UserAgent: "phonesim",
		Media:     cfg.Media,
		Logf:      d.logf,
		// the SIP stack's debug records are not even formatted unless
		// the log keeps debug lines
		LogEnabled: d.log.Enabled,
	}, d.events)
	if err != nil {
		return nil, err
	}
	ua.SetRecorder(cfg.Trace) // sipua/trace.go
	d.hosted = cfg.SIPHost != nil
	d.ua = ua
	d.fetch = dispatch.New(dispatch.Config{Logf: d.logf, Sent: cfg.ActionURLSent})
	d.apps = dispatch.NewApps(dispatch.AppsConfig{Logf: d.logf, Done: d.appDone})
	v := d.phone.View()
	d.view.Store(&v)
	d.settings.Store(d.phone.Settings())
	d.applyMedia()
	return d, nil
}

// toggleRecording starts or stops recording a call (the REC key).
func (d *Device) toggleRecording(c firmware.CallID) {
	if d.ua.Stats(c).RecordingActive {
		if path, err := d.ua.StopRecording(c); err != nil {
			d.log.Add(firmware.Warning, "recording: "+err.Error())
		} else {
			d.log.Add(firmware.Info, "recording stopped: "+path)
		}
		return
	}
	if path, err := d.ua.StartRecording(c); err != nil {
		d.log.Add(firmware.Warning, "recording: "+err.Error())
	} else {
		d.log.Add(firmware.Info, "recording to "+path)
	}
}

// applyMedia hands the media settings in force (codecs, tone scheme,
// microphone file, recording) to the SIP adapter; it does nothing when
// they did not change.
func (d *Device) applyMedia() {
	if err := d.ua.SetMediaConfig(sipua.MediaConfigFrom(d.settings.Load().Get)); err != nil {
		d.log.Add(firmware.Warning, "media settings: "+err.Error())
	}
}

func (d *Device) logf(level firmware.Level, format string, args ...any) {
	d.log.Add(level, fmt.Sprintf(format, args...))
}

// Start binds the SIP sockets and starts the phone's loop; it returns once
// the phone answers on its SIP port. The loop ends when ctx is done.
func (d *Device) Start(ctx context.Context) error {
	// The loop alone closes the UA (run's defer), so Done waits for the
	// calls' BYEs and CANCELs to be answered; the UA must not close
	// itself on ctx, or a second Close would return at once.
	if err := d.ua.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	d.ctx = ctx
	d.bootFetch(ctx)
	d.routeUsers()                 // before Start returns: a call to the phone finds it at once
	fetched := make(chan struct{}) // the Action URL sender is done: a stopped phone sends none
	go func() { d.fetch.Run(ctx); close(fetched) }()
	stopped := make(chan struct{})
	kept := make(chan struct{})
	go func() {
		defer close(kept)
		if d.data != "" {
			d.keep(stopped)
		}
	}()
	go func() {
		d.run(ctx)
		close(stopped)
		<-kept // Done means the last Memory is on disk
		<-fetched
		close(d.done)
	}()
	return nil
}

// keep writes each Memory the phone hands out, off the phone's loop.
// Once the loop has stopped it writes the last one still waiting.
func (d *Device) keep(stopped <-chan struct{}) {
	d.reportData(d.dataState.probe, stopped) // a read-only or full folder shows at once
	write := func(m firmware.Memory) {
		err := saveMemory(d.data, m)
		if err != nil {
			d.log.Add(firmware.Error, "cannot keep the call lists: "+err.Error())
		}
		d.reportData(err, stopped)
	}
	writeUser := func(u userSave) {
		err := saveUserSettings(d.data, u.values)
		if err != nil {
			d.log.Add(firmware.Error, "cannot keep the user's settings: "+err.Error())
		}
		d.kept.done(u.gen, err)
		d.reportData(err, stopped)
	}
	for {
		select {
		case m := <-d.saves:
			write(m)
		case m := <-d.userSaves:
			writeUser(m)
		case <-stopped:
			select {
			case m := <-d.saves:
				write(m)
			default:
			}
			select {
			case m := <-d.userSaves:
				writeUser(m)
			default:
			}
			return
		}
	}
}

func (d *Device) run(ctx context.Context) {
	defer d.ua.Close()
	defer func() { // View after Done: the phone as it stopped
		if d.viewStale.Load() {
			d.refreshView()
		}
	}()
	timer := time.NewTimer(firmware.TickInterval)
	defer timer.Stop()
	d.step(firmware.Tick{Now: d.clock()})
	ip, port := d.ua.Addr()
	d.step(firmware.NetworkUp{IP: ip, Port: port}) // before boot, so action_setup_url knows $phone_ip
	if d.data != "" {
		switch m, ok, err := loadMemory(d.data); {
		case err != nil:
			d.log.Add(firmware.Warning, "starting without the kept call lists: "+err.Error())
		case ok:
			d.step(firmware.MemoryLoaded{Memory: m})
		}
	}
	d.step(firmware.PoweredOn{Token: bootToken()})
	armed := time.Now().Add(firmware.TickInterval)
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-d.events:
			d.step(ev)
		case op := <-d.ops:
			op()
		case <-timer.C:
			armed = time.Time{}
			d.step(firmware.Tick{Now: d.clock()})
		}
		// Tickless: the next Tick comes when the phone next has something
		// to do, else at the next minute (the idle screen's clock,
		// provisioning_interval); a phone costs no CPU between.
		next := d.nextTick()
		if !next.Equal(armed) {
			armed = next
			timer.Reset(time.Until(next))
		}
	}
}

// routeUsers tells a shared SIP port (Config.SIPHost) the phone's users
// (user_nameN), when they changed: its requests are routed by them.
func (d *Device) routeUsers() {
	if !d.hosted {
		return
	}
	s := d.settings.Load()
	users := d.users[:0:0]
	for i := 1; i <= provisioning.MaxIdentities; i++ {
		if u := s.Get(userNames[i]); u != "" {
			users = append(users, u)
		}
	}
	if slices.Equal(users, d.users) {
		return
	}
	d.users = users
	d.ua.SetUsers(users)
}

// userNames are the settings user_name1..12, made once.
var userNames = func() (n [provisioning.MaxIdentities + 1]string) {
	for i := 1; i <= provisioning.MaxIdentities; i++ {
		n[i] = "user_name" + strconv.Itoa(i)
	}
	return n
}()

// nextTick is when the loop sends the next Tick: when the phone next has
// something to do (NextTick), or at the next minute for the idle clock.
func (d *Device) nextTick() time.Time {
	minute := d.lastTick.Truncate(time.Minute).Add(time.Minute)
	if n, ok := d.phone.NextTick(); ok {
		if at := d.lastTick.Add(time.Duration(n) * firmware.TickInterval); at.Before(minute) {
			return at
		}
	}
	return minute
}

// step feeds one event to the phone and carries out its effects.
func (d *Device) step(ev firmware.Event) {
	if t, tick := ev.(firmware.Tick); tick {
		d.lastTick = time.Now()
		defer d.provisionDue(t.Now)
	} else if time.Since(d.lastTick) >= firmware.TickInterval {
		// Ticks were left out while the phone needed none: one now, so
		// its clock is right for what the event does (call list times)
		d.step(firmware.Tick{Now: d.clock()})
	}
	d.publishEvent(ev) // its notice before those of its effects
	effects := d.phone.Step(ev)
	changed := false
	for _, e := range effects {
		d.publishEffect(e)
		switch e := e.(type) {
		case firmware.Render:
			changed = true
		case firmware.Log:
			d.log.Add(e.Level, e.Message)
		case firmware.FetchURL:
			d.fetch.Fire(e.Event, e.URL)
			d.publish(webui.Notice{Kind: "fetch", Data: map[string]string{"event": e.Event, "url": actionurl.Redact(e.URL)}})
		case firmware.SaveMemory:
			if d.data == "" {
				break // nothing is kept without a data folder
			}
			select { // newest wins: a Memory not yet written is replaced
			case <-d.saves:
			default:
			}
			d.saves <- d.phone.Memory()
		case firmware.SaveSetting:
			d.userChanged(e.Name, e.Value)
		case firmware.Reprovision:
			d.reprovision()
		case firmware.RunApp:
			d.runApp(e)
		case firmware.ToggleRecording:
			d.toggleRecording(e.Call)
		case firmware.SetLED:
			// the terminal and web read LEDs from the View; a board's LED driver hooks in here
		default:
			d.ua.Do(e)
		}
	}
	if _, tick := ev.(firmware.Tick); !tick {
		changed = true
		// keys change settings too (DND sets dnd_mode): /settings.htm
		// follows. The phone's settings are replaced, never changed, on
		// a change: the same pointer is the same settings.
		if s := d.phone.Settings(); s != d.settings.Load() {
			d.settings.Store(s)
			d.routeUsers()
		}
		d.tapEvent(ev)
		switch ev.(type) {
		case firmware.SettingsChanged, firmware.SettingChanged:
			d.applyMedia()
		}
	}
	if !changed {
		return
	}
	_, tick := ev.(firmware.Tick)
	if !d.wantViews.Load() && (tick || !d.listening()) {
		// Nobody watches: the View is built when someone asks (View).
		// A fleet's phones then build none per call.
		d.viewStale.Store(true)
		return
	}
	v := d.refreshView()
	if !tick {
		d.publishState(v)
	}
}

// refreshView builds the View on the loop, keeps it for View and hands it
// to the terminal (Views).
func (d *Device) refreshView() firmware.View {
	v := d.phone.View()
	d.view.Store(&v)
	d.viewStale.Store(false)
	if d.wantViews.Load() {
		select { // newest view wins: drop the one the terminal has not taken
		case <-d.views:
		default:
		}
		d.views <- v
	}
	return v
}

// Tap delivers the phone's events (not its Ticks) to ch as the loop
// steps them, in order: a typed, cheap way to follow calls (the fleet)
// where Events builds JSON-ready notices. The loop never waits: when ch
// is full the event is dropped and counted (Dropped). Call the func to
// stop.
func (d *Device) Tap(ch chan<- firmware.Event) func() {
	return d.TapFunc(func(ev firmware.Event) {
		select {
		case ch <- ev:
		default:
			d.tapDropped.Add(1)
		}
	})
}

// TapFunc is Tap with a function the loop calls for each event: it must
// return at once (no waiting, no Post: start a timer or a goroutine for
// that). A fleet's callee follows its calls so, with no goroutine of its
// own.
func (d *Device) TapFunc(f func(firmware.Event)) func() {
	t := &tap{f: f}
	d.mu.Lock()
	d.taps = append(d.taps, t)
	d.mu.Unlock()
	return func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.taps = slices.DeleteFunc(slices.Clone(d.taps), func(x *tap) bool { return x == t }) // tapEvent may be reading the old one
	}
}

type tap struct{ f func(firmware.Event) }

// Dropped is how many events a full Tap channel lost.
func (d *Device) Dropped() int64 { return d.tapDropped.Load() }

func (d *Device) tapEvent(ev firmware.Event) {
	d.mu.Lock()
	taps := d.taps
	d.mu.Unlock()
	for _, t := range taps {
		t.f(ev)
	}
}

// publish hands a notice to every subscriber. The phone never waits: a
// subscriber whose channel is full loses the notices queued there, and
// finds a webui.Lost saying how many in their place, then n.
func (d *Device) publish(n webui.Notice) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for ch := range d.subs {
		select {
		case ch <- n:
			continue
		default:
		}
		lost := 0
	drain:
		for {
			select {
			case m := <-ch:
				if l, ok := m.Data.(webui.Lost); ok {
					lost += l.N // an earlier count, not yet taken
				} else {
					lost++
				}
			default:
				break drain
			}
		}
		for _, m := range []webui.Notice{{Kind: "gap", Data: webui.Lost{N: lost}}, n} {
			select {
			case ch <- m: // room: only publish sends, and it drained the channel
			default:
			}
		}
	}
}

// Post hands an event to the phone's loop.
func (d *Device) Post(ev firmware.Event) error {
	select {
	case <-d.done:
		return ErrStopped
	default:
	}
	select {
	case d.events <- ev:
		return nil
	case <-d.done:
		return ErrStopped
	}
}

// View returns the latest snapshot of what the phone shows. When the
// phone changed since the last one was built (nobody watched), the loop
// builds it now; once the loop has stopped, the last one built.
func (d *Device) View() firmware.View {
	if d.viewStale.Load() {
		built := make(chan struct{})
		select {
		case d.ops <- func() {
			if d.viewStale.Load() {
				d.refreshView()
			}
			close(built)
		}:
			select {
			case <-built:
			case <-d.done:
			}
		case <-d.done:
		}
	}
	return *d.view.Load()
}

// Views delivers a View after each change, newest first: a slow reader
// only misses intermediate pictures. From the first call on, the loop
// builds a View after every change.
func (d *Device) Views() <-chan firmware.View {
	if !d.wantViews.Swap(true) {
		// the first reader gets the phone as it is now, not the next
		// change (an idle phone's may be a minute away)
		select {
		case d.ops <- func() { d.refreshView() }:
		case <-d.done:
		}
	}
	return d.views
}

// Settings returns a snapshot of the settings in force.
func (d *Device) Settings() *provisioning.Settings { return d.settings.Load().Clone() }

// Log is the phone log.
func (d *Device) Log() *phonelog.Log { return d.log }

// Events subscribes to phone notices; call the func to unsubscribe.
func (d *Device) Events() (<-chan webui.Notice, func()) {
	ch := make(chan webui.Notice, 64)
	d.mu.Lock()
	d.subs[ch] = struct{}{}
	d.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			d.mu.Lock()
			delete(d.subs, ch)
			d.mu.Unlock()
		})
	}
}

// SIPAddr is where the phone listens for SIP.
func (d *Device) SIPAddr() (string, int) { return d.ua.Addr() }

// Done is closed when the phone's loop has ended.
func (d *Device) Done() <-chan struct{} { return d.done }

// MediaStats reports RTP counters of a call.
func (d *Device) MediaStats(c firmware.CallID) sipua.MediaStats { return d.ua.Stats(c) }

// CallMedia is a call's media statistics for /api/state.
func (d *Device) CallMedia(c firmware.CallID) any { return d.ua.Stats(c) }

var _ webui.Phone = (*Device)(nil)

// bootToken is a random string the core builds Call-IDs from.
func bootToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
