package fleet

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Call is one call a caller placed: a line {"type":"call",...} of the results.
type Call struct {
	Type     string `json:"type"` // "call"
	Shard    int    `json:"shard"`
	Caller   string `json:"caller"`
	Callee   string `json:"callee"`
	Start    int64  `json:"start_ms"` // dial, Unix milliseconds
	SetupMS  int64  `json:"setup_ms"` // dial -> connected (answered calls), or dial -> failure
	Outcome  string `json:"outcome"`  // answered, failed, timeout, ended (the far end hung up first), stopped
	Status   int    `json:"status,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Duration int64  `json:"duration_ms"` // connected -> hang-up
}

// URL is one Action URL a phone sent: a line {"type":"url",...} of the
// results.
type URL struct {
	Type    string  `json:"type"` // "url"
	Shard   int     `json:"shard"`
	User    string  `json:"user"`       // the phone's user_name1
	Event   string  `json:"event"`      // the setting that fired it: action_incoming_url, ...
	T       int64   `json:"t_ms"`       // answered (or failed), Unix milliseconds
	Latency float64 `json:"latency_ms"` // the phone's event -> the receiver's answer, its queue included
	OK      bool    `json:"ok"`         // a response below 400
}

// Cause is how a call counts in the totals: "answered", or the failure's
// cause ("486", "timeout", "transport", ...).
func (c Call) Cause() string {
	switch {
	case c.Outcome == "answered":
		return "answered"
	case c.Outcome == "failed" && c.Status > 0:
		return fmt.Sprint(c.Status)
	case c.Outcome == "failed":
		return "transport"
	}
	return c.Outcome
}

// Second is the summary line {"type":"second",...} written once a second.
type Second struct {
	Type       string         `json:"type"` // "second"
	Shard      int            `json:"shard"`
	T          int64          `json:"t"` // Unix seconds
	Phones     int            `json:"phones"`
	Registered int            `json:"registered"`
	Attempted  int            `json:"attempted"` // in this second
	Answered   int            `json:"answered"`
	Failed     map[string]int `json:"failed,omitempty"` // by cause
	SetupP50   float64        `json:"setup_p50_ms"`
	SetupP99   float64        `json:"setup_p99_ms"`
	URLs       int            `json:"urls,omitempty"` // Action URLs answered in this second
	URLFailed  int            `json:"url_failed,omitempty"`
	URLP50     float64        `json:"url_p50_ms,omitempty"`
	URLP99     float64        `json:"url_p99_ms,omitempty"`
}

// Recorder collects the calls of a run, writes them as JSON lines and
// keeps the totals for the progress line.
type Recorder struct {
	mu    sync.Mutex
	w     *bufio.Writer
	shard int
	// this second
	sec Second
	// totals
	attempted, answered, finished int
	failed                        map[string]int
	setups                        []float64 // answered calls' setup times, ms
	secSetups                     []float64
	urls, urlFailed               int
	urlLatencies, secURLs         []float64 // Action URL latencies, ms
	err                           error
}

// NewRecorder writes to w (nil: keeps totals only).
func NewRecorder(w io.Writer, shard int) *Recorder {
	r := &Recorder{shard: shard, failed: map[string]int{}}
	if w != nil {
		r.w = bufio.NewWriter(w)
	}
	r.sec = Second{Type: "second", Shard: shard, Failed: map[string]int{}}
	return r
}

// InProgress is how many calls were attempted and not yet added.
func (r *Recorder) InProgress() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempted - r.finished
}

// Attempt counts a call dialed.
func (r *Recorder) Attempt() {
	r.mu.Lock()
	r.attempted++
	r.sec.Attempted++
	r.mu.Unlock()
}

// Add records a finished call.
func (r *Recorder) Add(c Call) {
	c.Type, c.Shard = "call", r.shard
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finished++
	if cause := c.Cause(); cause == "answered" {
		r.answered++
		r.sec.Answered++
		if len(r.setups) < 1_000_000 {
			r.setups = append(r.setups, float64(c.SetupMS))
		}
		r.secSetups = append(r.secSetups, float64(c.SetupMS))
	} else if cause != "stopped" {
		r.failed[cause]++
		r.sec.Failed[cause]++
	}
	r.write(c)
}

// ActionURL records an Action URL a phone sent.
func (r *Recorder) ActionURL(u URL) {
	u.Type, u.Shard = "url", r.shard
	r.mu.Lock()
	defer r.mu.Unlock()
	r.urls++
	r.sec.URLs++
	if !u.OK {
		r.urlFailed++
		r.sec.URLFailed++
	}
	if len(r.urlLatencies) < 1_000_000 {
		r.urlLatencies = append(r.urlLatencies, u.Latency)
	}
	r.secURLs = append(r.secURLs, u.Latency)
	r.write(u)
}

func (r *Recorder) write(v any) {
	if r.w == nil || r.err != nil {
		return
	}
	b, _ := json.Marshal(v)
	b = append(b, '\n')
	_, r.err = r.w.Write(b)
}

// Tick closes the second: writes its summary line and returns it.
func (r *Recorder) Tick(now time.Time, phones, registered int) Second {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.sec
	s.T, s.Phones, s.Registered = now.Unix(), phones, registered
	s.SetupP50, s.SetupP99 = Percentile(r.secSetups, 50), Percentile(r.secSetups, 99)
	s.URLP50, s.URLP99 = Percentile(r.secURLs, 50), Percentile(r.secURLs, 99)
	r.write(s)
	if r.w != nil && r.err == nil {
		r.err = r.w.Flush()
	}
	r.sec = Second{Type: "second", Shard: r.shard, Failed: map[string]int{}}
	r.secSetups, r.secURLs = r.secSetups[:0], r.secURLs[:0]
	return s
}

// Flush writes what is buffered.
func (r *Recorder) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w != nil && r.err == nil {
		r.err = r.w.Flush()
	}
	return r.err
}

// Totals are the counts since the start.
type Totals struct {
	Attempted, Answered int
	Failed              map[string]int
	SetupP50, SetupP99  float64
	URLs, URLFailed     int // Action URLs sent, and of them failed
	URLP50, URLP99      float64
}

func (r *Recorder) Totals() Totals {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Totals{Attempted: r.attempted, Answered: r.answered, Failed: maps(r.failed),
		SetupP50: Percentile(r.setups, 50), SetupP99: Percentile(r.setups, 99),
		URLs: r.urls, URLFailed: r.urlFailed, URLP50: Percentile(r.urlLatencies, 50), URLP99: Percentile(r.urlLatencies, 99)}
}

func maps(m map[string]int) map[string]int {
	c := make(map[string]int, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// Progress is the live line on stderr.
func Progress(phones, registered int, t Totals) string {
	failed := 0
	for _, n := range t.Failed {
		failed += n
	}
	line := fmt.Sprintf("phones %d registered %d | calls %d answered %d failed %d%s | setup p50 %.0fms p99 %.0fms",
		phones, registered, t.Attempted, t.Answered, failed, causes(t.Failed), t.SetupP50, t.SetupP99)
	if t.URLs > 0 {
		line += fmt.Sprintf(" | Action URLs %d failed %d p50 %.1fms p99 %.1fms", t.URLs, t.URLFailed, t.URLP50, t.URLP99)
	}
	return line
}

func causes(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(" (")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s:%d", k, m[k])
	}
	b.WriteString(")")
	return b.String()
}

// Percentile is the p-th percentile (nearest rank) of xs; 0 for none.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	i = max(0, min(i, len(s)-1))
	return s[i]
}
