package dispatch

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestLineShape: a request to a real receiver gives one line in snom's
// shape, and a receiver that refuses the connection gives the error in
// the same shape.
func TestLineShape(t *testing.T) {
	srv, got := receiver(t, nil)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadAddr := dead.Listener.Addr().String()
	dead.Close()

	d, l := start(t, Config{})
	d.Fire("action_incoming_url", srv.URL+"/in?nr=200&name=Alice")
	if r := next(t, got); r.URL.RawQuery != "nr=200&name=Alice" {
		t.Errorf("receiver got query %q", r.URL.RawQuery)
	}
	d.Fire("action_onhook_url", "http://"+deadAddr+"/out?nr=200")
	lines := l.waitFor(t, 2)

	want := []string{
		`^INFO Sending GET request host = ` + regexp.QuoteMeta(srv.Listener.Addr().String()) +
			`, file = /in\?nr=200&name=Alice \(event action_incoming_url\): 200 OK in \d+\.\d ms$`,
		`^WARNING Sending GET request host = ` + regexp.QuoteMeta(deadAddr) +
			`, file = /out\?nr=200 \(event action_onhook_url\): error: dial tcp ` + regexp.QuoteMeta(deadAddr) +
			`: connect: connection refused in \d+\.\d ms$`,
	}
	for i, re := range want {
		if !regexp.MustCompile(re).MatchString(lines[i]) {
			t.Errorf("line %d = %q\nwant %s", i, lines[i], re)
		}
	}
}

// TestLongQueryCapped: the receiver gets the whole query; the log line
// shows the first MaxFile bytes and the full length.
func TestLongQueryCapped(t *testing.T) {
	srv, got := receiver(t, nil)
	d, l := start(t, Config{})
	q := strings.Repeat("x", 3000)
	file := "/long?q=" + q
	d.Fire("action_incoming_url", srv.URL+file)
	if r := next(t, got); r.URL.Query().Get("q") != q {
		t.Errorf("receiver got a query of %d bytes, want %d", len(r.URL.Query().Get("q")), len(q))
	}
	line := l.waitFor(t, 1)[0]
	re := regexp.MustCompile(`^INFO Sending GET request host = \S+, file = (/long\?q=x+)…\((\d+) bytes\) \(event action_incoming_url\): 200 OK in \d+\.\d ms$`)
	m := re.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("line %q does not match %s", line, re)
	}
	if len(m[1]) != MaxFile {
		t.Errorf("shown file is %d bytes, want %d", len(m[1]), MaxFile)
	}
	if m[2] != fmt.Sprint(len(file)) {
		t.Errorf("marker says %s bytes, want %d", m[2], len(file))
	}
	if len(line) > MaxFile+200 {
		t.Errorf("line is %d bytes", len(line))
	}
}

func TestLine(t *testing.T) {
	const ms = 3100 * time.Microsecond
	tests := []struct {
		name, verb, url, outcome string
		took                     time.Duration
		want                     string
	}{
		{"default http port", "Sending", "http://crm.example/in?nr=200&name=Alice", "200 OK", ms,
			"Sending GET request host = crm.example:80, file = /in?nr=200&name=Alice (event action_incoming_url): 200 OK in 3.1 ms"},
		{"default https port", "Sending", "https://crm.example/x", "204 No Content", ms,
			"Sending GET request host = crm.example:443, file = /x (event action_incoming_url): 204 No Content in 3.1 ms"},
		{"port as written, empty path", "Sending", "http://10.0.0.9:8080", "200 OK", 5 * time.Second,
			"Sending GET request host = 10.0.0.9:8080, file = / (event action_incoming_url): 200 OK in 5000.0 ms"},
		{"ipv6", "Sending", "http://[::1]/a?b", "200 OK", ms,
			"Sending GET request host = [::1]:80, file = /a?b (event action_incoming_url): 200 OK in 3.1 ms"},
		{"password never shown", "Sending", "http://user:secret@crm.example/x", "200 OK", ms,
			"Sending GET request host = crm.example:80, file = /x (event action_incoming_url): 200 OK in 3.1 ms"},
		{"fragment not sent, not shown", "Sending", "http://crm.example/x?a=1#frag", "200 OK", ms,
			"Sending GET request host = crm.example:80, file = /x?a=1 (event action_incoming_url): 200 OK in 3.1 ms"},
		{"no host: the whole URL", "Refused", "javascript:alert(1)", "actionurl: no", -1,
			"Refused GET request host = , file = javascript:alert(1) (event action_incoming_url): actionurl: no"},
		{"dropped, no duration", "Dropped", "http://crm.example/x", "queue full (1 dropped so far)", -1,
			"Dropped GET request host = crm.example:80, file = /x (event action_incoming_url): queue full (1 dropped so far)"},
		{"control bytes encoded", "Sending", "http://crm.example/x?n=a\r\nb", "200 OK", ms,
			"Sending GET request host = crm.example:80, file = /x?n=a%0D%0Ab (event action_incoming_url): 200 OK in 3.1 ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Line(tt.verb, "action_incoming_url", tt.url, tt.outcome, tt.took); got != tt.want {
				t.Errorf("\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestClip(t *testing.T) {
	if got := clip("abc", 3); got != "abc" {
		t.Errorf("clip at length = %q", got)
	}
	if got := clip("abcd", 3); got != "abc…(4 bytes)" {
		t.Errorf("clip = %q", got)
	}
	// never cuts a rune in two
	s := strings.Repeat("ä", 10) // 2 bytes each
	got := clip(s, 5)
	if !utf8.ValidString(got) || got != "ää…(20 bytes)" {
		t.Errorf("clip = %q", got)
	}
}
