package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/gdamore/tcell/v2"
	xterm "golang.org/x/term"

	"phonesim/device"
	"phonesim/display/term"
	"phonesim/firmware"
	"phonesim/hw/board"
	"phonesim/phonelog"
	"phonesim/provisioning"
	"phonesim/sipua"
	"phonesim/sipua/media"
	"phonesim/webui"
)

// echoKey is the function key the echo phone is put on (P5: P1-P4 are
// the line keys).
const echoKey = 4

func runPhone(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var onBoard *board.Profile
	if o.board.Chosen() {
		p, err := o.board.Profile()
		if err != nil {
			return err
		}
		if p.Hardware {
			onBoard = &p
		}
	}
	headless := o.headless || onBoard != nil || !isTerminal(stdout)
	log := phonelog.New(2000, time.Now)
	log.SetLevel(o.level) // stderr and the log pages' default; the SIP stack's debug records are made only at debug
	log.SetFormat(o.format)
	if headless {
		log.SetOutput(stderr)
	}

	if o.audioIn != "" { // --audio-in: a file we cannot play is an error now, not a silent call later
		abs, err := filepath.Abs(o.audioIn)
		if err == nil {
			_, err = media.LoadWAV(abs)
		}
		if err != nil {
			return fmt.Errorf("--audio-in: %w", err)
		}
		o.audioIn = abs
	}

	var base *provisioning.File
	if (o.echo || o.firstRun()) && !o.noEcho {
		uri, err := startEcho(ctx)
		if err != nil {
			return fmt.Errorf("echo phone: %w", err)
		}
		// the echo key is the lowest source: any file or --set wins
		key := strconv.Itoa(echoKey)
		base = &provisioning.File{Name: "built-in echo phone", Entries: []provisioning.Entry{
			{Name: "fkey" + key, Value: "dest " + uri}, {Name: "fkey_label" + key, Value: "Echo"}}}
	}
	store, findings, err := o.store(base)
	if err != nil {
		return err
	}
	for _, f := range findings {
		log.Add(firmware.Warning, f.String())
	}

	rec, closeTrace, err := openTrace(o, log) // trace.go: --sip-trace, --pcap
	if err != nil {
		return err
	}
	defer closeTrace()
	cfg := device.Config{Store: store, SIP: o.sip, Media: sipua.MediaTone, Log: log, Data: o.data, Trace: rec}
	phone, err := startDevice(ctx, cfg)
	if err != nil && o.sipDefault && errors.Is(err, syscall.EADDRINUSE) {
		log.Add(firmware.Notice, "SIP port "+o.sip+" is in use; taking a free port (--sip sets one)")
		cfg.SIP = "127.0.0.1:0"
		phone, err = startDevice(ctx, cfg)
	}
	if err != nil {
		return err
	}

	if o.http != "off" {
		settings := phone.Settings()
		srv, addr, err := serveWeb(ctx, o.http, phone, settings)
		if err != nil && o.httpDefault && errors.Is(err, syscall.EADDRINUSE) {
			log.Add(firmware.Notice, "web port "+o.http+" is in use; taking a free port (--http sets one)")
			srv, addr, err = serveWeb(ctx, "127.0.0.1:0", phone, settings)
		}
		if err != nil {
			return err
		}
		defer srv.Close()
		log.Add(firmware.Info, "web interface on http://"+addr+"/")
	}

	if onBoard != nil {
		err = runBoard(ctx, phone, *onBoard)
		cancel()
		<-phone.Done()
		return err
	}
	if headless {
		select {
		case <-ctx.Done():
		case <-phone.Done():
		}
		cancel()
		<-phone.Done()
		return nil
	}
	err = runTerminal(ctx, phone)
	cancel()
	<-phone.Done()
	return err
}

func startDevice(ctx context.Context, cfg device.Config) (*device.Device, error) {
	phone, err := device.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("SIP %s: %w", cfg.SIP, err)
	}
	if err := phone.Start(ctx); err != nil {
		return nil, fmt.Errorf("SIP %s: %w", cfg.SIP, err)
	}
	return phone, nil
}

// startEcho starts the built-in echo phone: an ordinary phone, headless,
// that answers at once and sends back what it receives.
func startEcho(ctx context.Context) (string, error) {
	s := provisioning.New()
	_ = s.Set("user_name1", "echo")
	_ = s.Set("user_realname1", "Echo")
	_ = s.Set("user_auto_connect1", "on")
	_ = s.Set("max_calls", "12")
	echo, err := device.New(device.Config{Settings: s, SIP: "127.0.0.1:0", Media: sipua.MediaEcho,
		Log: phonelog.New(200, time.Now)})
	if err != nil {
		return "", err
	}
	if err := echo.Start(ctx); err != nil {
		return "", err
	}
	ip, port := echo.SIPAddr()
	return "sip:echo@" + net.JoinHostPort(ip, strconv.Itoa(port)), nil
}

func serveWeb(ctx context.Context, addr string, phone *device.Device, s *provisioning.Settings) (*http.Server, string, error) {
	if err := webui.CheckListen(addr, s.Get("http_pass")); err != nil {
		return nil, "", err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("--http %s: %w", addr, err)
	}
	// Bounded connections (weblimits.go). /api/events outlives
	// WriteTimeout (events.go clears its write deadline) and ReadTimeout
	// (net/http clears the read deadline once the handler runs).
	l := webLimits
	srv := &http.Server{
		Handler:           webui.New(phone, webui.Options{User: s.Get("http_user"), Pass: s.Get("http_pass")}),
		ReadHeaderTimeout: l.header,
		ReadTimeout:       l.read,
		WriteTimeout:      l.write,
		IdleTimeout:       l.idle,
		MaxHeaderBytes:    l.maxHeader,
	}
	go func() {
		if err := srv.Serve(newLimitListener(ln, l.maxConns)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			phone.Log().Add(firmware.Error, "web interface: "+err.Error())
		}
	}()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	return srv, ln.Addr().String(), nil
}

// postKeys hands the key presses sent on the channel it returns to the
// phone's loop, until ctx ends or the phone stops.
func postKeys(ctx context.Context, phone *device.Device) chan firmware.KeyPressed {
	keys := make(chan firmware.KeyPressed, 16)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case k := <-keys:
				if phone.Post(k) != nil {
					return
				}
			}
		}
	}()
	return keys
}

// runBoard runs the phone on a board's own display, keys and LEDs
// (--board): the board's loop draws each View and posts the key presses.
func runBoard(ctx context.Context, phone *device.Device, p board.Profile) error {
	b, err := board.Open(p)
	if err != nil {
		return err
	}
	defer b.Close()
	b.Logf = func(f string, a ...any) { phone.Log().Add(firmware.Warning, fmt.Sprintf(f, a...)) }
	for part, err := range map[string]error{"display": b.DisplayErr, "keys": b.InputErr, "LEDs": b.LEDErr} {
		if err != nil {
			phone.Log().Add(firmware.Warning, "board "+p.Name+": "+part+": "+err.Error())
		}
	}
	keys := postKeys(ctx, phone)
	return b.Run(ctx, phone.Views(), keys)
}

func runTerminal(ctx context.Context, phone *device.Device) error {
	screen, err := tcell.NewScreen()
	if err != nil {
		return fmt.Errorf("terminal: %w", err)
	}
	if err := screen.Init(); err != nil {
		return fmt.Errorf("terminal: %w", err)
	}
	defer screen.Fini()
	keys := postKeys(ctx, phone)
	return term.New(screen).Run(ctx, phone.Views(), keys, func() []string { return phoneEvents(phone.Log()) })
}

// phoneEvents are the log lines the terminal's log pane shows: what the
// phone did, without the SIP stack's debug chatter (the log page has all).
func phoneEvents(log *phonelog.Log) []string {
	var lines []string
	for _, e := range log.Entries() {
		if e.Level >= firmware.Info {
			lines = append(lines, e.String())
		}
	}
	return lines
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && xterm.IsTerminal(int(f.Fd()))
}
