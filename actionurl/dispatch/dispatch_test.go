package dispatch

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"phonesim/firmware"
)

// wait is how long a test waits for something that should take
// milliseconds; only a broken build reaches it.
const wait = 10 * time.Second

// logLines collects the dispatcher's log.
type logLines struct {
	mu    sync.Mutex
	lines []string
	added chan struct{}
}

func newLog() *logLines { return &logLines{added: make(chan struct{}, 1)} }

func (l *logLines) logf(level firmware.Level, format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, level.String()+" "+fmt.Sprintf(format, args...))
	l.mu.Unlock()
	select {
	case l.added <- struct{}{}:
	default:
	}
}

// waitFor waits until n lines are logged and returns them.
func (l *logLines) waitFor(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(wait)
	for {
		l.mu.Lock()
		lines := slices.Clone(l.lines)
		l.mu.Unlock()
		if len(lines) >= n {
			return lines
		}
		select {
		case <-l.added:
		case <-deadline:
			t.Fatalf("waited %v for %d log lines, have %q", wait, n, lines)
		}
	}
}

// waitMatch waits until a line matches re and returns its submatches.
func (l *logLines) waitMatch(t *testing.T, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.After(wait)
	for {
		l.mu.Lock()
		for _, line := range l.lines {
			if m := rx.FindStringSubmatch(line); m != nil {
				l.mu.Unlock()
				return m
			}
		}
		l.mu.Unlock()
		select {
		case <-l.added:
		case <-deadline:
			t.Fatalf("waited %v for a line matching %s", wait, re)
		}
	}
}

// start runs a dispatcher until the test ends.
func start(t *testing.T, cfg Config) (*Dispatcher, *logLines) {
	t.Helper()
	l := newLog()
	cfg.Logf = l.logf
	d := New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return d, l
}

// receiver is an httptest server that reports each request's path and query.
func receiver(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) (*httptest.Server, chan *http.Request) {
	t.Helper()
	got := make(chan *http.Request, 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func next(t *testing.T, got chan *http.Request) *http.Request {
	t.Helper()
	select {
	case r := <-got:
		return r
	case <-time.After(wait):
		t.Fatalf("no request within %v", wait)
		return nil
	}
}

func TestOrderAndLogLines(t *testing.T) {
	srv, got := receiver(t, nil)
	d, l := start(t, Config{})
	const n = 50
	for i := range n {
		d.Fire(fmt.Sprintf("action_e%d_url", i), fmt.Sprintf("%s/call?n=%d", srv.URL, i))
	}
	for i := range n {
		r := next(t, got)
		if q := r.URL.Query().Get("n"); q != fmt.Sprint(i) {
			t.Fatalf("request %d carried n=%s", i, q)
		}
		if ua := r.Header.Get("User-Agent"); ua != "phonesim" {
			t.Errorf("User-Agent %q", ua)
		}
		if r.Method != http.MethodGet {
			t.Errorf("method %s", r.Method)
		}
	}
	lines := l.waitFor(t, n)
	for i, line := range lines {
		re := regexp.MustCompile(fmt.Sprintf(`^INFO Sending GET request host = %s, file = /call\?n=%d \(event action_e%d_url\): 200 OK in \d+\.\d ms$`, regexp.QuoteMeta(srv.Listener.Addr().String()), i, i))
		if !re.MatchString(line) {
			t.Errorf("line %d: %q", i, line)
		}
	}
	if d.Dropped() != 0 {
		t.Errorf("dropped %d", d.Dropped())
	}
}

func TestHangingReceiverDoesNotBlockFire(t *testing.T) {
	release := make(chan struct{})
	srv, got := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	d, l := start(t, Config{Timeout: 200 * time.Millisecond, QueueSize: 4})

	d.Fire("action_incoming_url", srv.URL+"/hang")
	next(t, got) // the worker is now stuck in this request

	began := time.Now()
	for i := range 1000 {
		d.Fire("action_onhook_url", fmt.Sprintf("%s/q%d", srv.URL, i))
	}
	if took := time.Since(began); took > time.Second {
		t.Errorf("1000 Fire calls took %v while the worker was stuck", took)
	}

	m := l.waitMatch(t, `^WARNING Sending GET request host = \S+, file = /hang \(event action_incoming_url\): error: timeout in (\d+)\.\d ms$`)
	var ms int
	fmt.Sscan(m[1], &ms)
	if ms < 200 {
		t.Errorf("timed out after %d ms, want >= 200", ms)
	}
}

func TestOverflowDropsOldest(t *testing.T) {
	release := make(chan struct{})
	srv, got := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/e0" {
			<-release
		}
	})
	d, l := start(t, Config{QueueSize: 4})

	d.Fire("action_e0", srv.URL+"/e0")
	next(t, got) // the worker holds e0; the queue is empty
	for i := 1; i <= 10; i++ {
		d.Fire(fmt.Sprintf("action_e%d", i), fmt.Sprintf("%s/e%d", srv.URL, i))
	}
	if d.Dropped() != 6 {
		t.Errorf("Dropped() = %d, want 6", d.Dropped())
	}
	lines := l.waitFor(t, 6)
	for i, line := range lines[:6] {
		want := fmt.Sprintf("WARNING Dropped GET request host = %s, file = /e%d (event action_e%d): queue full (%d dropped so far)", srv.Listener.Addr(), i+1, i+1, i+1)
		if line != want {
			t.Errorf("drop line %d = %q, want %q", i, line, want)
		}
	}
	close(release)
	for i := 7; i <= 10; i++ {
		if p := next(t, got).URL.Path; p != fmt.Sprintf("/e%d", i) {
			t.Errorf("got %s, want /e%d", p, i)
		}
	}
	l.waitFor(t, 6+5)
	select {
	case r := <-got:
		t.Errorf("unexpected request %s", r.URL)
	default:
	}
}

func TestRedirects(t *testing.T) {
	other, otherGot := receiver(t, nil)
	srv, got := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, "/landed", http.StatusFound)
		case "/twice":
			http.Redirect(w, r, "/again", http.StatusFound)
		case "/again":
			http.Redirect(w, r, "/landed", http.StatusFound)
		case "/other":
			http.Redirect(w, r, other.URL+"/stolen", http.StatusFound)
		case "/ftp":
			http.Redirect(w, r, "ftp://"+r.Host+"/x", http.StatusFound)
		}
	})
	d, l := start(t, Config{})

	tests := []struct {
		path  string
		paths []string // requests the receiver sees
		want  string   // outcome
	}{
		{"/same", []string{"/same", "/landed"}, "200 OK"},
		{"/twice", []string{"/twice", "/again"}, "302 Found, redirect not followed"},
		{"/other", []string{"/other"}, "302 Found, redirect not followed"},
		{"/ftp", []string{"/ftp"}, "302 Found, redirect not followed"},
	}
	for i, tt := range tests {
		d.Fire("action_x", srv.URL+tt.path)
		for _, p := range tt.paths {
			if r := next(t, got); r.URL.Path != p {
				t.Errorf("%s: request to %s, want %s", tt.path, r.URL.Path, p)
			}
		}
		line := l.waitFor(t, i+1)[i]
		if !regexp.MustCompile(`file = ` + regexp.QuoteMeta(tt.path) + ` \(event action_x\): ` + regexp.QuoteMeta(tt.want) + ` in \d+\.\d ms$`).MatchString(line) {
			t.Errorf("%s: %q, want outcome %q", tt.path, line, tt.want)
		}
	}
	select {
	case r := <-otherGot:
		t.Errorf("redirect to another host was followed: %s", r.URL)
	case r := <-got:
		t.Errorf("unexpected request %s", r.URL)
	default:
	}
}

func TestRefusesOtherSchemes(t *testing.T) {
	srv, got := receiver(t, nil)
	d, l := start(t, Config{})
	for _, u := range []string{"ftp://127.0.0.1/x", "file:///etc/passwd", "javascript:alert(1)", "http:///nohost"} {
		d.Fire("fkey3", u)
	}
	d.Fire("fkey4", srv.URL+"/ok")
	if r := next(t, got); r.URL.Path != "/ok" {
		t.Errorf("request %s", r.URL)
	}
	lines := l.waitFor(t, 5)
	for _, line := range lines[:4] {
		if !strings.HasPrefix(line, "WARNING Refused GET request ") || !strings.Contains(line, " (event fkey3): actionurl: ") || strings.Contains(line, " ms") {
			t.Errorf("refusal line %q", line)
		}
	}
	if !strings.HasPrefix(lines[4], "INFO Sending GET request ") || !strings.Contains(lines[4], " (event fkey4): 200 OK in ") {
		t.Errorf("line %q", lines[4])
	}
}

func TestOutcomes(t *testing.T) {
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/404":
			http.NotFound(w, r)
		case "/big":
			chunk := make([]byte, 64<<10)
			for i := 0; i < 1024; i++ { // 64 MiB, far more than MaxBody
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}
	})
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()

	d, l := start(t, Config{MaxBody: 1024})
	pw := strings.Replace(srv.URL, "http://", "http://user:secret@", 1)
	d.Fire("e404", srv.URL+"/404")
	d.Fire("ebig", srv.URL+"/big")
	d.Fire("edead", deadURL+"/x")
	d.Fire("epw", pw+"/x?a=1")
	lines := l.waitFor(t, 4)
	want := []string{
		`^WARNING Sending GET request host = \S+, file = /404 \(event e404\): 404 Not Found in \d+\.\d ms$`,
		`^INFO Sending GET request host = \S+, file = /big \(event ebig\): 200 OK in \d+\.\d ms$`,
		`^WARNING Sending GET request host = \S+, file = /x \(event edead\): error: dial tcp \S+: connect: connection refused in \d+\.\d ms$`,
		`^INFO Sending GET request host = 127\.0\.0\.1:\d+, file = /x\?a=1 \(event epw\): 200 OK in \d+\.\d ms$`,
	}
	for i, re := range want {
		if !regexp.MustCompile(re).MatchString(lines[i]) {
			t.Errorf("line %d = %q, want %s", i, lines[i], re)
		}
	}
	for _, line := range lines {
		if strings.Contains(line, "secret") {
			t.Errorf("password in log: %q", line)
		}
	}
}

func TestFireBeforeRun(t *testing.T) {
	srv, got := receiver(t, nil)
	l := newLog()
	d := New(Config{Logf: l.logf})
	d.Fire("action_setup_url", srv.URL+"/boot")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	if r := next(t, got); r.URL.Path != "/boot" {
		t.Errorf("request %s", r.URL)
	}
	l.waitFor(t, 1)
	cancel()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("Run did not return after cancel")
	}
}

// BenchmarkFireToReceiver measures the time from Fire to the request
// arriving at a loopback receiver's handler.
func BenchmarkFireToReceiver(b *testing.B) {
	arrived := make(chan time.Time, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- time.Now()
	}))
	defer srv.Close()
	d := New(Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	url := srv.URL + "/call?nr=200&id=abc%40pbx"
	d.Fire("warmup", url)
	<-arrived
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		t0 := time.Now()
		d.Fire("action_incoming_url", url)
		lat = append(lat, (<-arrived).Sub(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds())
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// TestSentHook: Sent hears of each URL sent, with the time from Fire
// (the queue's wait included) and whether a response below 400 came; a
// refused URL is not sent and not reported.
func TestSentHook(t *testing.T) {
	release := make(chan struct{})
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			<-release
		case "/404":
			http.NotFound(w, r)
		}
	})
	type sent struct {
		event   string
		latency time.Duration
		ok      bool
	}
	got := make(chan sent, 10)
	d, _ := start(t, Config{Sent: func(event string, latency time.Duration, ok bool) { got <- sent{event, latency, ok} }})
	d.Fire("slow", srv.URL+"/slow")
	d.Fire("queued", srv.URL+"/ok") // waits behind the slow one
	d.Fire("refused", "ftp://example.com/x")
	d.Fire("missing", srv.URL+"/404")
	const held = 50 * time.Millisecond
	time.Sleep(held)
	close(release)
	var all []sent
	for range 3 {
		select {
		case s := <-got:
			all = append(all, s)
		case <-time.After(wait):
			t.Fatalf("Sent heard %+v only", all)
		}
	}
	if all[0].event != "slow" || !all[0].ok || all[1].event != "queued" || !all[1].ok || all[2].event != "missing" || all[2].ok {
		t.Fatalf("Sent heard %+v", all)
	}
	if all[1].latency < held {
		t.Errorf("the queued URL's latency %v leaves out its wait in the queue (%v)", all[1].latency, held)
	}
	select {
	case s := <-got:
		t.Errorf("Sent heard %+v too (a refused URL is not sent)", s)
	case <-time.After(50 * time.Millisecond):
	}
}

// TestSentNotForACutShortURL: a URL in flight when Run ends is not
// reported (as a call cut by the end of a run is not counted).
func TestSentNotForACutShortURL(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	srv, reqs := receiver(t, func(w http.ResponseWriter, r *http.Request) { <-hang })
	heard := make(chan string, 1)
	d := New(Config{Sent: func(event string, _ time.Duration, _ bool) { heard <- event }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	d.Fire("hanging", srv.URL+"/x")
	next(t, reqs)
	cancel()
	<-done
	select {
	case e := <-heard:
		t.Errorf("Sent heard %q, cut short by the end of Run", e)
	default:
	}
}
