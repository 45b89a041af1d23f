package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type testHooks struct {
	base           string // http://127.0.0.1:PORT
	stdout, stderr *syncBuffer
	stop           func() error // cancels the ctx; the command's error, or a timeout
}

var listeningLine = regexp.MustCompile(`^listening on (http://127\.0\.0\.1:\d+)/ — try: phonesim -s 'action_incoming_url=http://127\.0\.0\.1:\d+/incoming\?nr=\$remote&name=\$display_remote'\n`)

// startHooks runs `phonesim hooks --listen 127.0.0.1:0 ARGS` in this
// process and learns its port from the listening line.
func startHooks(t *testing.T, args ...string) *testHooks {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h := &testHooks{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"hooks", "--listen", "127.0.0.1:0"}, args...), h.stdout, h.stderr)
	}()
	var once sync.Once
	var stopErr error
	h.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(time.Second):
				stopErr = errors.New("hooks did not stop within a second")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { _ = h.stop() })
	info := h.stdout
	if strings.Contains(strings.Join(args, " "), "--json") {
		info = h.stderr
	}
	eventually(t, "the listening line", func() bool {
		select {
		case err := <-done:
			t.Fatalf("hooks exited early: %v\n%s%s", err, h.stdout, h.stderr)
		default:
		}
		m := listeningLine.FindStringSubmatch(info.String())
		if m == nil {
			return false
		}
		h.base = m[1]
		return true
	})
	return h
}

// lines are the request lines printed so far (the listening line is not one).
func (h *testHooks) lines(t *testing.T, jsonOut bool) []string {
	t.Helper()
	out := strings.TrimSuffix(h.stdout.String(), "\n")
	if out == "" {
		return nil
	}
	ls := strings.Split(out, "\n")
	if !jsonOut {
		ls = ls[1:]
	}
	return ls
}

func hookGet(t *testing.T, rawURL string) {
	t.Helper()
	hookDo(t, http.MethodGet, rawURL, "", "")
}

func hookDo(t *testing.T, method, rawURL, contentType, body string) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "ok\n", string(got))
}

var (
	hookTime = regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d\d\d `)
	hookFrom = regexp.MustCompile(`  \(from 127\.0\.0\.1:\d+\)$`)
)

// hookCore is a human line without its time and its "(from ...)" part,
// which vary; it fails the test when either is missing.
func hookCore(t *testing.T, line string) string {
	t.Helper()
	require.Regexp(t, hookTime, line)
	require.Regexp(t, hookFrom, line)
	return hookFrom.ReplaceAllString(hookTime.ReplaceAllString(line, ""), "")
}

// TestHooksPrintsRequestsDecoded sends real requests to the receiver and
// checks each printed line exactly.
func TestHooksPrintsRequestsDecoded(t *testing.T) {
	h := startHooks(t)
	hookGet(t, h.base+"/incoming?nr=200&name=Alice+Smith")
	hookGet(t, h.base+"/order?z=1&a=2&m=3&a=4")                // the raw order, repeats printed each time
	hookGet(t, h.base+"/space?plus=a+b&pct=a%20b&lit=a%2Bb")   // '+' and %20 are spaces, %2B a plus
	hookGet(t, h.base+"/empty?e=&f&g=%22%22&&")                // empty values quoted, "" as text escaped
	hookGet(t, h.base+"/hostile?v=%1B%5B2J%0D%0A%3Cscript%3E") // ESC, CR LF: escapes on one line
	hookGet(t, h.base+"/forge?a=x%20%20(from%201.2.3.4:5)%0A12:00:00.000%20GET%20/fake")
	hookGet(t, h.base+"/bad?ok=1&nr=10%zz&%gg=2&after=3") // raw text and a marker; the request is kept
	hookGet(t, h.base+"/dir%20name/%E2%82%AC?k%3Dx=1")    // path decoded; '=' in a name quoted
	hookGet(t, h.base+"/unicode?u=%E2%80%AEevil&i=%FF%FE&nb=a%C2%A0b&ok=%C3%A9t%C3%A9")
	hookGet(t, h.base+"/snom?key=DND;REDIRECT&x=1") // ';' is no separator
	hookGet(t, h.base+"/")
	hookDo(t, http.MethodPost, h.base+"/form?q=1", "application/x-www-form-urlencoded; charset=utf-8", "name=Alice+Smith&nr=200&esc=%07")
	hookDo(t, http.MethodPut, h.base+"/put", "application/json", `{"nr":"200"}`)
	hookDo(t, http.MethodPost, h.base+"/nobody", "", "")
	hookDo(t, http.MethodDelete, h.base+"/del?id=7", "", "")
	hookDo(t, http.MethodPost, h.base+"/big", "application/x-www-form-urlencoded", "a="+strings.Repeat("x", hookBodyMax))

	want := []string{
		`GET /incoming nr=200 name="Alice Smith"`,
		`GET /order z=1 a=2 m=3 a=4`,
		`GET /space plus="a b" pct="a b" lit=a+b`,
		`GET /empty e="" f="" g="\"\""`,
		`GET /hostile v="\x1b[2J\r\n<script>"`,
		`GET /forge a="x  (from 1.2.3.4:5)\n12:00:00.000 GET /fake"`,
		`GET /bad ok=1 nr=10%zz (bad escape) %gg=2 (bad escape) after=3`,
		`GET "/dir name/€" "k=x"=1`,
		`GET /unicode u="\u202eevil" i="\xff\xfe" nb="a\u00a0b" ok=été`,
		`GET /snom key=DND;REDIRECT x=1`,
		`GET /`,
		`POST /form q=1  body 31 bytes, form: name="Alice Smith" nr=200 esc="\a"`,
		`PUT /put  body 12 bytes`,
		`POST /nobody  body 0 bytes`,
		`DELETE /del id=7`,
		`POST /big  body over 65536 bytes (cut)`,
	}
	lines := h.lines(t, false)
	require.Len(t, lines, len(want), "one line per request:\n%s", h.stdout)
	for i, line := range lines {
		assert.Equal(t, want[i], hookCore(t, line), "line %d", i)
		for _, c := range line {
			assert.False(t, c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u202e', "line %d holds %U: %q", i, c, line)
		}
	}
	assert.Empty(t, h.stderr.String())
	require.NoError(t, h.stop())
}

// TestHooksRawRequestBytes sends bytes net/http's client would not: a
// query with invalid UTF-8 and a literal quote, straight on the socket.
func TestHooksRawRequestBytes(t *testing.T) {
	h := startHooks(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.base, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET /raw?a=\xff\"x\"&b=\xe2\x80\xa8 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	lines := h.lines(t, false)
	require.Len(t, lines, 1)
	assert.Equal(t, `GET /raw a="\xff\"x\"" b="\u2028"`, hookCore(t, lines[0]))
}

// TestHooksJSON checks --json: one object per line, the query as ordered
// pairs, the same values as the human form, stdout nothing else.
func TestHooksJSON(t *testing.T) {
	h := startHooks(t, "--json")
	hookGet(t, h.base+"/incoming?nr=200&name=Alice+Smith&nr=201&e=&h=%1B%5B2J%0D%0A%3Cscript%3E&bad=%zz")
	hookDo(t, http.MethodPost, h.base+"/form", "application/x-www-form-urlencoded", "a=1&b=x+y")
	hookGet(t, h.base+"/")

	type pair struct {
		Name  string `json:"name"`
		Value string `json:"value"`
		Bad   bool   `json:"bad_escape"`
	}
	type object struct {
		Time      string `json:"time"`
		Method    string `json:"method"`
		Path      string `json:"path"`
		Query     []pair `json:"query"`
		Remote    string `json:"remote"`
		BodyBytes *int   `json:"body_bytes"`
		Form      []pair `json:"form"`
	}
	lines := h.lines(t, true)
	require.Len(t, lines, 3, "stdout:\n%s", h.stdout)
	var objs []object
	for _, line := range lines {
		assert.NotContains(t, line, "\x1b")
		var o object
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&o), line)
		_, err := time.Parse(time.RFC3339Nano, o.Time)
		require.NoError(t, err)
		assert.Regexp(t, `^127\.0\.0\.1:\d+$`, o.Remote)
		require.NotNil(t, o.BodyBytes, "body_bytes is always there")
		objs = append(objs, o)
	}
	assert.Equal(t, "GET", objs[0].Method)
	assert.Equal(t, "/incoming", objs[0].Path)
	assert.Equal(t, []pair{
		{"nr", "200", false}, {"name", "Alice Smith", false}, {"nr", "201", false}, {"e", "", false},
		{"h", "\x1b[2J\r\n<script>", false}, {"bad", "%zz", true},
	}, objs[0].Query)
	assert.Equal(t, 0, *objs[0].BodyBytes)
	assert.Contains(t, lines[0], `"value":"\u001b[2J\r\n<script>"`)

	assert.Equal(t, "POST", objs[1].Method)
	assert.Equal(t, []pair{}, objs[1].Query)
	assert.Equal(t, 9, *objs[1].BodyBytes)
	assert.Equal(t, []pair{{"a", "1", false}, {"b", "x y", false}}, objs[1].Form)
	assert.Contains(t, lines[2], `"query":[]`)
	require.NoError(t, h.stop())
}

// TestHooksFormatHook checks the pure formatter on what a socket cannot
// easily carry.
func TestHooksFormatHook(t *testing.T) {
	at := time.Date(2026, 11, 28, 9, 49, 2, 123456789, time.UTC)
	req := hookRequest{Time: at, Method: "GET", Path: "/in", Remote: "[::1]:5000",
		Query: []hookParam{{Name: "", Value: "v"}, {Name: "a b", Value: "\x00"}, {Name: "%x", Value: "1", Bad: true}}}
	assert.Equal(t, `09:49:02.123 GET /in ""=v "a b"="\x00" %x=1 (bad escape)  (from [::1]:5000)`, formatHook(req, false))
	assert.Equal(t, `{"time":"2026-11-28T09:49:02.123456789Z","method":"GET","path":"/in","query":[{"name":"","value":"v"},{"name":"a b","value":"\u0000"},{"name":"%x","value":"1","bad_escape":true}],"remote":"[::1]:5000","body_bytes":0}`,
		formatHook(req, true))

	cut := hookRequest{Time: at, Method: "POST", Path: "/p", Remote: "r", BodyBytes: hookBodyMax, BodyCut: true}
	assert.Equal(t, `09:49:02.123 POST /p  body over 65536 bytes (cut)  (from r)`, formatHook(cut, false))
	assert.Equal(t, `{"time":"2026-11-28T09:49:02.123456789Z","method":"POST","path":"/p","query":[],"remote":"r","body_bytes":65536,"body_truncated":true}`,
		formatHook(cut, true))

	assert.Equal(t, []hookParam{{Name: "a", Value: "1"}, {Name: "b", Value: ""}, {Name: "a", Value: "x y"}, {Name: "c", Value: "%", Bad: true}},
		parseOrdered("&a=1&b&&a=x+y&c=%"))
	assert.Nil(t, parseOrdered(""))
}

// TestHooksConcurrentLinesWhole fires many requests at once: every line
// arrives whole, one per request.
func TestHooksConcurrentLinesWhole(t *testing.T) {
	h := startHooks(t)
	const n = 64
	long := strings.Repeat("y", 4000)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(fmt.Sprintf("%s/c?i=%d&v=%s", h.base, i, long))
			if assert.NoError(t, err) {
				resp.Body.Close()
				assert.Equal(t, http.StatusOK, resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	lines := h.lines(t, false)
	require.Len(t, lines, n)
	seen := map[string]bool{}
	line := regexp.MustCompile(`^GET /c i=(\d+) v=(y+)$`)
	for _, l := range lines {
		m := line.FindStringSubmatch(hookCore(t, l))
		require.NotNil(t, m, "torn line %.80q", l)
		require.Len(t, m[2], len(long), "torn line %.80q", l)
		seen[m[1]] = true
	}
	assert.Len(t, seen, n)
}

// TestHooksStopsOnCancel: a cancelled ctx stops the receiver within a
// second with no error, even with an idle keep-alive connection and a
// request whose body never comes.
func TestHooksStopsOnCancel(t *testing.T) {
	h := startHooks(t)
	hookGet(t, h.base+"/keepalive") // leaves an idle connection in the client's pool
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.base, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
	require.NoError(t, err)
	time.Sleep(50 * time.Millisecond) // the handler is reading the body
	start := time.Now()
	require.NoError(t, h.stop())
	assert.Less(t, time.Since(start), time.Second)
	_, err = http.Get(h.base + "/after")
	assert.Error(t, err, "still listening after the stop")
}

// TestHooksCommandLine: --help, a bad flag, a stray argument, a busy port.
func TestHooksCommandLine(t *testing.T) {
	var stdout, stderr syncBuffer
	err := run(context.Background(), []string{"hooks", "--help"}, &stdout, &stderr)
	assert.ErrorIs(t, err, pflag.ErrHelp)
	assert.Contains(t, stderr.String(), "Usage: phonesim hooks [--listen ADDR] [--json]")
	assert.Contains(t, stderr.String(), "--listen ADDR")

	for _, args := range [][]string{{"--bogus"}, {"stray"}, {"--json=maybe"}} {
		var stderr syncBuffer
		err := run(context.Background(), append([]string{"hooks"}, args...), io.Discard, &stderr)
		assert.ErrorIs(t, err, errUsage, "%v", args)
		assert.Contains(t, stderr.String(), "phonesim hooks: ", "%v", args)
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = run(ctx, []string{"hooks", "--listen", busy.Addr().String()}, io.Discard, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), busy.Addr().String()+" is in use")
	assert.Contains(t, err.Error(), "--listen ADDR")

	err = run(ctx, []string{"hooks", "--listen", "nowhere"}, io.Discard, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `--listen "nowhere"`)
}

// TestHooksReceivesPhoneSetupURL is end to end: a real phone, started in
// this process, fires its action_setup_url at the receiver at boot.
func TestHooksReceivesPhoneSetupURL(t *testing.T) {
	h := startHooks(t)
	startPhone(t, "--no-echo", "--mac", "000413aabbcc",
		"-s", "user_name1=200",
		"-s", "action_setup_url="+h.base+"/setup?mac=$mac&ip=$phone_ip")
	eventually(t, "the setup request", func() bool { return len(h.lines(t, false)) > 0 })
	lines := h.lines(t, false)
	require.Len(t, lines, 1, "stdout:\n%s", h.stdout)
	assert.Equal(t, "GET /setup mac=000413AABBCC ip=127.0.0.1", hookCore(t, lines[0]))
}
