// Package dispatch sends Action URLs: the adapter that carries out the
// firmware's FetchURL effects. Fire never blocks the phone's loop; one
// worker sends the GETs in event order through a bounded queue.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"phonesim/actionurl"
	"phonesim/firmware"
)

// Config configures a Dispatcher. Zero fields take their defaults.
type Config struct {
	// Timeout bounds each request: connecting and the whole exchange,
	// body included. Default 5 s.
	Timeout time.Duration
	// QueueSize is how many URLs may wait; when it is full the oldest is
	// dropped. Default 64.
	QueueSize int
	// MaxBody is how much of a response body is read (and discarded).
	// Default 64 KiB.
	MaxBody int64
	// Logf receives one line per URL, in snom's shape (see Line): sent,
	// refused or dropped. Fire calls it on the caller's goroutine when it
	// drops a URL, so it must not block. Nil discards.
	Logf func(level firmware.Level, format string, args ...any)
	// Sent, when set, hears of each URL sent, on the worker's goroutine:
	// its event, the time from Fire to the end of the exchange (waiting
	// in the queue included) and whether it got a response below 400.
	// It must not block. A URL refused or dropped is not sent; one the end
	// of Run cut short is not reported.
	Sent func(event string, latency time.Duration, ok bool)
}

// Defaults for Config's zero fields.
const (
	DefaultTimeout   = 5 * time.Second
	DefaultQueueSize = 64
	DefaultMaxBody   = 64 << 10
)

// Dispatcher queues Action URLs and sends them, one at a time, in order.
type Dispatcher struct {
	cfg    Config
	client *http.Client
	wake   chan struct{} // capacity 1: "the queue is not empty"

	mu    sync.Mutex
	queue []job // a ring of len QueueSize
	head  int
	n     int

	dropped atomic.Uint64
}

type job struct {
	event, url string
	at         time.Time // fired
}

// New returns a Dispatcher; start its worker with Run.
func New(cfg Config) *Dispatcher {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Logf == nil {
		cfg.Logf = func(firmware.Level, string, ...any) {}
	}
	d := &Dispatcher{
		cfg:   cfg,
		wake:  make(chan struct{}, 1),
		queue: make([]job, cfg.QueueSize),
	}
	d.client = &http.Client{
		Transport: &http.Transport{
			// No proxy: a desk phone sends Action URLs directly.
			DialContext:           (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   cfg.Timeout,
			ResponseHeaderTimeout: cfg.Timeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: checkRedirect,
	}
	return d
}

// checkRedirect follows one redirect, and only to the same host (and
// port, as written) over http or https; otherwise the 3xx is the outcome.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > 1 || !strings.EqualFold(req.URL.Host, via[0].URL.Host) || actionurl.Allowed(req.URL.String()) != nil {
		return http.ErrUseLastResponse
	}
	return nil
}

// Fire queues an expanded URL for event (the setting that fired it:
// action_incoming_url, fkey3, ...). It never blocks: when the queue is
// full the oldest waiting URL is dropped, counted and logged.
func (d *Dispatcher) Fire(event, rawURL string) {
	var at time.Time
	if d.cfg.Sent != nil {
		at = time.Now()
	}
	d.mu.Lock()
	var old job
	full := d.n == len(d.queue)
	if full {
		old = d.queue[d.head]
		d.head = (d.head + 1) % len(d.queue)
		d.n--
	}
	d.queue[(d.head+d.n)%len(d.queue)] = job{event, rawURL, at}
	d.n++
	d.mu.Unlock()
	if full {
		n := d.dropped.Add(1)
		d.cfg.Logf(firmware.Warning, "%s", Line("Dropped", old.event, old.url, fmt.Sprintf("queue full (%d dropped so far)", n), -1))
	}
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Dropped returns how many URLs were dropped because the queue was full.
func (d *Dispatcher) Dropped() uint64 { return d.dropped.Load() }

func (d *Dispatcher) pop() (job, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n == 0 {
		return job{}, false
	}
	j := d.queue[d.head]
	d.queue[d.head] = job{}
	d.head = (d.head + 1) % len(d.queue)
	d.n--
	return j, true
}

// Run is the worker: it sends the queued URLs one after the other, in the
// order they were fired, until ctx is done. Call it once, on a goroutine
// of its own. URLs still queued when ctx ends are not sent.
func (d *Dispatcher) Run(ctx context.Context) {
	defer d.client.CloseIdleConnections()
	for {
		j, ok := d.pop()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-d.wake:
				continue
			}
		}
		if ctx.Err() != nil {
			return
		}
		level, verb, outcome, took := d.send(ctx, j.url)
		d.cfg.Logf(level, "%s", Line(verb, j.event, j.url, outcome, took))
		if d.cfg.Sent != nil && took >= 0 && ctx.Err() == nil { // not one the stop cut short
			d.cfg.Sent(j.event, time.Since(j.at), level == firmware.Info)
		}
	}
}

// MaxFile caps the path and query a log line shows; a longer one is cut
// and marked "…(N bytes)" with its full length.
const MaxFile = 512

// maxOutcome caps the status line or error a log line shows: both can
// carry text from the receiver.
const maxOutcome = 256

// Line is the log line for one Action URL, in the shape of snom's
// "Sending post request host = 192.168.X.X:80, file = /test.php?..." line:
//
//	Sending GET request host = crm.example:80, file = /in?nr=200&name=Alice (event action_incoming_url): 200 OK in 3.1 ms
//
// verb is "Sending" for a request made, "Refused" for a URL not fetched,
// "Dropped" for one the full queue pushed out. The host carries its port
// (80 or 443 when the URL names none); file is the path and query, cut
// at MaxFile bytes. A password in rawURL is never shown (the host part
// leaves the user info out; see actionurl.Redact). took < 0 leaves the
// duration out.
func Line(verb, event, rawURL, outcome string, took time.Duration) string {
	host, file := where(rawURL)
	var b strings.Builder
	b.Grow(64 + len(host) + len(file) + len(event) + len(outcome))
	b.WriteString(verb)
	b.WriteString(" GET request host = ")
	b.WriteString(host)
	b.WriteString(", file = ")
	b.WriteString(clip(file, MaxFile))
	b.WriteString(" (event ")
	b.WriteString(clip(event, 64))
	b.WriteString("): ")
	b.WriteString(clip(outcome, maxOutcome))
	if took >= 0 {
		b.WriteString(" in ")
		b.WriteString(strconv.FormatFloat(float64(took)/float64(time.Millisecond), 'f', 1, 64))
		b.WriteString(" ms")
	}
	return b.String()
}

// where splits rawURL, redacted, into host:port and path?query. A URL
// that does not parse or names no host is shown whole as the file.
func where(rawURL string) (host, file string) {
	red := actionurl.Redact(rawURL)
	u, err := url.Parse(red)
	if err != nil || u.Host == "" {
		return "", red
	}
	host = u.Host
	if u.Port() == "" {
		switch strings.ToLower(u.Scheme) {
		case "http":
			host = net.JoinHostPort(u.Hostname(), "80")
		case "https":
			host = net.JoinHostPort(u.Hostname(), "443")
		}
	}
	return host, u.RequestURI()
}

// clip cuts s to at most max bytes (on a UTF-8 boundary) and marks the
// cut with the full length: "…(700 bytes)".
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}

// send GETs rawURL and says how it went: the verb for the log line
// ("Sending", or "Refused" when the URL is not fetched), the outcome
// ("200 OK", "302 Found, redirect not followed", "error: timeout") and
// how long it took (-1 when nothing was sent).
func (d *Dispatcher) send(ctx context.Context, rawURL string) (firmware.Level, string, string, time.Duration) {
	if err := actionurl.Allowed(rawURL); err != nil {
		return firmware.Warning, "Refused", err.Error(), -1
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return firmware.Warning, "Refused", describe(err), -1
	}
	req.Header.Set("User-Agent", "phonesim")
	resp, err := d.client.Do(req)
	if err != nil {
		return firmware.Warning, "Sending", "error: " + describe(err), time.Since(start)
	}
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, d.cfg.MaxBody))
	resp.Body.Close()
	took := time.Since(start)
	level := firmware.Info
	if resp.StatusCode >= 400 {
		level = firmware.Warning
	}
	status := strings.TrimSpace(resp.Status)
	if status == "" {
		status = strconv.Itoa(resp.StatusCode)
	}
	switch {
	case err != nil:
		status += ", body: " + describe(err)
	case resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.Header.Get("Location") != "":
		status += ", redirect not followed"
	}
	return level, "Sending", status, took
}

// describe says what went wrong without repeating the URL, which may hold
// a password.
func describe(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return strings.ReplaceAll(strings.ReplaceAll(err.Error(), "\r", " "), "\n", " ")
}
