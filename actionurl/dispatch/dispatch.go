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
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
	// Logf receives one line per outcome. Fire calls it on the caller's
	// goroutine when it drops a URL, so it must not block. Nil discards.
	Logf func(level firmware.Level, format string, args ...any)
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

type job struct{ event, url string }

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
	d.mu.Lock()
	var old job
	full := d.n == len(d.queue)
	if full {
		old = d.queue[d.head]
		d.head = (d.head + 1) % len(d.queue)
		d.n--
	}
	d.queue[(d.head+d.n)%len(d.queue)] = job{event, rawURL}
	d.n++
	d.mu.Unlock()
	if full {
		n := d.dropped.Add(1)
		d.cfg.Logf(firmware.Warning, "%s %s -> dropped: queue full (%d dropped so far)", old.event, actionurl.Redact(old.url), n)
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
		level, outcome := d.send(ctx, j.url)
		d.cfg.Logf(level, "%s %s -> %s", j.event, actionurl.Redact(j.url), outcome)
	}
}

// send GETs rawURL and describes the outcome: "200 (3 ms)",
// "error: timeout (5000 ms)", "refused: ...".
func (d *Dispatcher) send(ctx context.Context, rawURL string) (firmware.Level, string) {
	if err := actionurl.Allowed(rawURL); err != nil {
		return firmware.Warning, "refused: " + err.Error()
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return firmware.Warning, "refused: " + describe(err)
	}
	req.Header.Set("User-Agent", "phonesim")
	resp, err := d.client.Do(req)
	if err != nil {
		return firmware.Warning, fmt.Sprintf("error: %s (%d ms)", describe(err), time.Since(start).Milliseconds())
	}
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, d.cfg.MaxBody))
	resp.Body.Close()
	ms := time.Since(start).Milliseconds()
	level := firmware.Info
	if resp.StatusCode >= 400 {
		level = firmware.Warning
	}
	var note string
	switch {
	case err != nil:
		note = ", body: " + describe(err)
	case resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.Header.Get("Location") != "":
		note = ", redirect not followed"
	}
	return level, fmt.Sprintf("%d%s (%d ms)", resp.StatusCode, note, ms)
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
