package webui_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"phonesim/device"
	"phonesim/firmware"
	"phonesim/keypad"
	"phonesim/provisioning"
	"phonesim/sipua"
	"phonesim/webui"
)

// startDevice runs a real phone with the given settings ("name: value"
// lines) until the test ends.
func startDevice(t *testing.T, cfg string) *device.Device {
	t.Helper()
	st := provisioning.NewStore()
	f, err := provisioning.Parse([]byte(cfg), "test.cfg")
	require.NoError(t, err)
	require.False(t, provisioning.HasError(st.AddFile(f)))
	d, err := device.New(device.Config{Store: st, SIP: "127.0.0.1:0", Media: sipua.MediaSilence})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, d.Start(ctx))
	t.Cleanup(func() {
		cancel()
		select {
		case <-d.Done():
		case <-time.After(5 * time.Second):
			t.Error("the phone's loop did not stop")
		}
	})
	return d
}

// sse is one event read from /api/events.
type sse struct {
	Event, ID, Data string
}

func (e sse) id(t *testing.T) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(e.ID, 10, 64)
	require.NoError(t, err, "event %+v has no numeric id", e)
	return n
}

func (e sse) fields(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(e.Data), &m), "event %+v", e)
	return m
}

// stream is an open /api/events connection.
type stream struct {
	t      *testing.T
	events chan sse
	cancel func()
	seen   []sse
}

// follow opens /api/events at base, resuming after lastID when it is
// not "".
func follow(t *testing.T, base, lastID string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/events", nil)
	require.NoError(t, err)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode)
	s := &stream{t: t, events: make(chan sse, 4096), cancel: func() { cancel(); res.Body.Close() }}
	t.Cleanup(s.cancel)
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev != (sse{}) {
					s.events <- ev
				}
				ev = sse{}
			case strings.HasPrefix(line, ":"):
			case strings.HasPrefix(line, "event: "):
				ev.Event = line[len("event: "):]
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[len("id: "):]
			case strings.HasPrefix(line, "data: "):
				ev.Data = line[len("data: "):]
			default:
				ev.Event = "UNEXPECTED LINE " + line
			}
		}
	}()
	return s
}

// next returns the next event (log lines included).
func (s *stream) next() sse {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			s.t.Fatalf("the stream ended; seen: %v", kinds(s.seen))
		}
		s.seen = append(s.seen, ev)
		return ev
	case <-time.After(10 * time.Second):
		s.t.Fatalf("no event within 10 s; seen: %v", kinds(s.seen))
	}
	return sse{}
}

// until returns the first event of the given kind from now on.
func (s *stream) until(kind string) sse {
	s.t.Helper()
	for {
		if ev := s.next(); ev.Event == kind {
			return ev
		}
	}
}

// notice is until for a kind whose data has field = value.
func (s *stream) notice(kind, field string, value any) sse {
	s.t.Helper()
	for {
		ev := s.until(kind)
		if fmt.Sprint(ev.fields(s.t)[field]) == fmt.Sprint(value) {
			return ev
		}
	}
}

func kinds(evs []sse) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.ID+":"+e.Event)
	}
	return out
}

var snakeKey = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// checkKeys fails on a JSON object key that is not snake_case (a Go
// field name such as "Call" or "SIPCallID").
func checkKeys(t *testing.T, where string, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if !snakeKey.MatchString(k) {
				t.Errorf("%s: key %q is not snake_case", where, k)
			}
			checkKeys(t, where+"."+k, x)
		}
	case []any:
		for _, x := range v {
			checkKeys(t, where, x)
		}
	}
}

// checkStream checks what every stream must hold: ids strictly
// increasing, data one JSON object with snake_case keys.
func checkStream(t *testing.T, evs []sse) {
	t.Helper()
	var last uint64
	for i, e := range evs {
		id := e.id(t)
		if i > 0 && id <= last {
			t.Errorf("id %d after %d (%v)", id, last, kinds(evs))
		}
		// nothing is lost in silence: ids run on by one, and a gap
		// accounts for every id it skips
		if i > 0 && e.Event == "gap" {
			f := e.fields(t)
			if uint64(f["after"].(float64)) != last || id != last+uint64(f["missed"].(float64)) {
				t.Errorf("gap %s after id %d does not account for the ids it skips", e.Data, last)
			}
		} else if i > 0 && id != last+1 {
			t.Errorf("id %d after %d with no gap between (%v)", id, last, kinds(evs))
		}
		last = id
		var v any
		require.NoError(t, json.Unmarshal([]byte(e.Data), &v), "%+v", e)
		if _, ok := v.(map[string]any); !ok {
			t.Errorf("%s data is not an object: %s", e.Event, e.Data)
		}
		checkKeys(t, e.Event, v)
	}
}

// TestEventShapes posts each event a phone takes and checks the notice
// /api/events gives for it, field for field.
func TestEventShapes(t *testing.T) {
	d := startDevice(t, "user_name1: 200\n")
	srv := httptest.NewServer(webui.New(d, webui.Options{}))
	t.Cleanup(srv.Close)
	s := follow(t, srv.URL, "")
	first := s.next()
	require.Equal(t, "state", first.Event)

	post := func(ev firmware.Event) { require.NoError(t, d.Post(ev)) }
	// exact waits for the kind's notice (for want's call, if it names one:
	// the phone's own calls publish too) and compares the whole data
	exact := func(kind, want string) sse {
		t.Helper()
		var w map[string]any
		require.NoError(t, json.Unmarshal([]byte(want), &w))
		ev := s.until(kind)
		for call, ok := w["call"]; ok && ev.fields(t)["call"] != call; {
			ev = s.until(kind)
		}
		require.JSONEq(t, want, ev.Data, kind)
		return ev
	}

	const hostile = "\x1b[2J<script>alert(1)</script>"
	post(firmware.CallOffered{Call: "in-9", SIPCallID: "abc@pbx", To: "200",
		From:    firmware.Party{URI: "sip:alice@pbx.example", Display: hostile},
		Headers: map[string]string{"X-Secret": "not for the stream"}})
	offered := exact("call_offered", `{"call":"in-9","sip_call_id":"abc@pbx","from":"sip:alice@pbx.example","display":`+mustJSON(hostile)+`,"to":"200"}`)
	require.NotContains(t, offered.Data, "X-Secret")
	st := s.until("state")
	var state webui.State
	require.NoError(t, json.Unmarshal([]byte(st.Data), &state))
	require.Len(t, state.Calls, 1)
	require.Equal(t, "ringing", state.Calls[0].State)

	// the user answers: key_pressed, then call_answered (incoming), then state
	post(firmware.KeyPressed{Key: "ENTER"})
	key := exact("key_pressed", `{"key":"ENTER"}`)
	answered := exact("call_answered", `{"call":"in-9","direction":"incoming"}`)
	require.Greater(t, answered.id(t), key.id(t))
	st = s.until("state")
	require.NoError(t, json.Unmarshal([]byte(st.Data), &state))
	require.Equal(t, "connected", state.Calls[0].State)

	post(firmware.DTMFReceived{Call: "in-9", Digit: '5'})
	exact("dtmf_received", `{"call":"in-9","digit":"5"}`)

	// the caller hangs up: the call is over for the stream and /api/state
	// at once, though the display shows it a moment longer
	post(firmware.CallEnded{Call: "in-9", Reason: "BYE"})
	exact("call_ended", `{"call":"in-9","reason":"BYE"}`)
	st = s.until("state")
	require.NoError(t, json.Unmarshal([]byte(st.Data), &state))
	require.Empty(t, state.Calls, "ended calls are not live: %s", st.Data)
	require.NotEmpty(t, d.View().Calls, "the display still shows the ended call")
	res, err := http.Get(srv.URL + "/api/state")
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(res.Body).Decode(&state))
	res.Body.Close()
	require.Empty(t, state.Calls)

	// an outgoing call's answers (the phone ignores them for an unknown
	// call, but each is published as it comes)
	post(firmware.NumberDialed{Number: "+49301234"})
	exact("number_dialed", `{"number":"+49301234"}`)
	post(firmware.CallSent{Call: "out-7", SIPCallID: "x@phone"})
	exact("call_sent", `{"call":"out-7","sip_call_id":"x@phone"}`)
	post(firmware.CallProgressed{Call: "out-7", Status: 180})
	exact("call_progressed", `{"call":"out-7","status":180}`)
	post(firmware.CallAnswered{Call: "out-7", Remote: firmware.Party{URI: "sip:bob@pbx"}})
	exact("call_answered", `{"call":"out-7","direction":"outgoing"}`)
	post(firmware.CallFailed{Call: "out-8", Status: 486, Reason: "Busy Here"})
	exact("call_failed", `{"call":"out-8","status":486,"reason":"Busy Here"}`)
	post(firmware.CallRedirected{Call: "out-8", Status: 302, Target: "sip:300@pbx"})
	exact("call_redirected", `{"call":"out-8","status":302,"target":"sip:300@pbx"}`)
	post(firmware.CallCanceled{Call: "in-10", Reason: "SIP;cause=200"})
	exact("call_canceled", `{"call":"in-10","reason":"SIP;cause=200"}`)
	post(firmware.CallTransferred{Call: "out-7", Target: "sip:300@pbx", OK: false, Status: 403, Reason: "Forbidden"})
	exact("call_transferred", `{"call":"out-7","target":"sip:300@pbx","ok":false,"status":403,"reason":"Forbidden"}`)
	post(firmware.Registered{Identity: 1})
	exact("registered", `{"identity":1}`)
	post(firmware.RegistrationFailed{Identity: 2, Status: 403, Reason: "Forbidden"})
	exact("registration_failed", `{"identity":2,"status":403,"reason":"Forbidden"}`)
	// a change on the web form: by the user, names only (never values)
	_, err = d.ChangeSettings([]provisioning.UserChange{{Name: "user_realname1", Value: "Front Desk"}, {Name: "http_pass", Value: "pw"}}, "test")
	require.NoError(t, err)
	ev := exact("settings_changed", `{"by_user":true,"names":["http_pass","user_realname1"]}`)
	require.NotContains(t, ev.Data, `"pw"`)
	post(firmware.SettingChanged{Name: "user_pass1", Value: "s3cret"})
	ev = exact("setting_changed", `{"name":"user_pass1"}`)
	require.NotContains(t, ev.Data, "s3cret")

	checkStream(t, s.seen)
	for _, e := range s.seen {
		for _, goName := range []string{`"Call"`, `"SIPCallID"`, `"Key"`, `"Settings"`, `"Headers"`} {
			if strings.Contains(e.Data, goName) {
				t.Errorf("%s carries a Go field name %s: %s", e.Event, goName, e.Data)
			}
		}
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestCallAnsweredBothSides runs a real call between two phones over SIP
// and checks each side's stream: the callee's call_offered and
// call_answered (incoming), the caller's call_answered (outgoing), and
// state notices that count only live calls.
func TestCallAnsweredBothSides(t *testing.T) {
	alice := startDevice(t, "user_name1: 100\nuser_realname1: Alice\n")
	bob := startDevice(t, "user_name1: 200\n")
	as := httptest.NewServer(webui.New(alice, webui.Options{}))
	t.Cleanup(as.Close)
	bs := httptest.NewServer(webui.New(bob, webui.Options{}))
	t.Cleanup(bs.Close)
	aev, bev := follow(t, as.URL, ""), follow(t, bs.URL, "")
	aev.until("state")
	bev.until("state")

	ip, port := bob.SIPAddr()
	cmd := func(base, q string) {
		t.Helper()
		res, err := http.Get(base + "/command.htm?" + q)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, 200, res.StatusCode)
	}
	cmd(as.URL, fmt.Sprintf("number=sip:200@%s:%d", ip, port))
	aev.until("number_dialed")
	offered := bev.until("call_offered").fields(t)
	require.Equal(t, "Alice", offered["display"])
	require.Contains(t, offered["from"], "sip:100@")
	require.Equal(t, "200", offered["to"])
	require.NotEmpty(t, offered["sip_call_id"])
	call := offered["call"]

	cmd(bs.URL, "key=ENTER") // bob picks up
	bev.notice("call_answered", "direction", "incoming")
	out := aev.notice("call_answered", "direction", "outgoing").fields(t)
	require.NotEqual(t, call, out["call"], "each phone names its own call")

	cmd(as.URL, "key=ONHOOK") // alice hangs up
	ended := bev.until("call_ended").fields(t)
	require.Equal(t, call, ended["call"])
	var st webui.State
	require.NoError(t, json.Unmarshal([]byte(bev.until("state").Data), &st))
	require.Empty(t, st.Calls)
	checkStream(t, aev.seen)
	checkStream(t, bev.seen)
}

// TestAutoAnswerOrder: a call answered at once still comes as offered,
// then its Action URL, then answered, then the state.
func TestAutoAnswerOrder(t *testing.T) {
	d := startDevice(t, "user_name1: 200\nuser_auto_connect1: on\naction_incoming_url: http://127.0.0.1:9/in?from=$remote\n")
	srv := httptest.NewServer(webui.New(d, webui.Options{}))
	t.Cleanup(srv.Close)
	s := follow(t, srv.URL, "")
	s.until("state")
	require.NoError(t, d.Post(firmware.CallOffered{Call: "in-3", SIPCallID: "c@pbx", To: "200", From: firmware.Party{URI: "sip:alice@pbx"}}))
	// The stream may begin before the phone has booted (network_up,
	// powered_on and their states): the order counts from the offer.
	var got []string
	for len(got) < 4 {
		if ev := s.next(); ev.Event != "log" && (len(got) > 0 || ev.Event == "call_offered") {
			got = append(got, ev.Event)
		}
	}
	require.Equal(t, []string{"call_offered", "fetch", "call_answered", "state"}, got)
	checkStream(t, s.seen)
}

// TestEventsResume: ids run on across connections, and a client coming
// back with Last-Event-ID gets what happened while it was away, in
// order, and nothing twice.
func TestEventsResume(t *testing.T) {
	d := startDevice(t, "user_name1: 200\n")
	srv := httptest.NewServer(webui.New(d, webui.Options{}))
	t.Cleanup(srv.Close)

	s := follow(t, srv.URL, "")
	st := s.next()
	require.Equal(t, "state", st.Event)
	require.NoError(t, d.Post(firmware.KeyPressed{Key: "1"}))
	last := s.notice("key_pressed", "key", "1")
	require.Greater(t, last.id(t), st.id(t))
	s.cancel()

	// while nobody listens
	for _, k := range []string{"2", "3", "CANCEL"} {
		require.NoError(t, d.Post(firmware.KeyPressed{Key: keypad.Key(k)}))
	}
	require.Eventually(t, func() bool { return d.View().Digits == "" }, 5*time.Second, 10*time.Millisecond)

	r := follow(t, srv.URL, last.ID)
	var keys []string
	want := last.id(t) + 1
	for len(keys) < 3 {
		ev := r.next()
		require.NotEqual(t, "gap", ev.Event)
		require.Equal(t, want, ev.id(t), "ids follow on without a hole: %v", kinds(r.seen))
		want++
		if ev.Event == "key_pressed" {
			keys = append(keys, ev.fields(t)["key"].(string))
		}
	}
	require.Equal(t, []string{"2", "3", "CANCEL"}, keys)

	// a new connection starts with the state, whose id is the last event's
	n := follow(t, srv.URL, "")
	first := n.next()
	require.Equal(t, "state", first.Event)
	require.GreaterOrEqual(t, first.id(t), want-1)
}

// TestEventsGap: a client away for longer than the replay buffer holds
// gets a gap event naming what it lost, then what is left; an id from
// before a restart gets a gap marked restart.
func TestEventsGap(t *testing.T) {
	d := startDevice(t, "user_name1: 200\n")
	srv := httptest.NewServer(webui.New(d, webui.Options{}))
	t.Cleanup(srv.Close)

	s := follow(t, srv.URL, "")
	st := s.next()
	require.Equal(t, "state", st.Event)
	from := st.id(t)
	s.cancel()

	// each key press is at least two events (key_pressed, state)
	for i := 0; i < 400; i++ {
		require.NoError(t, d.Post(firmware.KeyPressed{Key: "VOLUME_UP"}))
	}
	require.NoError(t, d.Post(firmware.NumberDialed{Number: "999"}))
	// the phone takes them in its own time: wait until a new stream's
	// snapshot says they are all in (800 notices at least)
	require.Eventually(t, func() bool {
		probe := follow(t, srv.URL, "")
		defer probe.cancel()
		return probe.next().id(t) > from+800
	}, 10*time.Second, 20*time.Millisecond)

	r := follow(t, srv.URL, strconv.FormatUint(from, 10))
	gap := r.next()
	require.Equal(t, "gap", gap.Event, "%v", kinds(r.seen))
	g := gap.fields(t)
	require.EqualValues(t, from, g["after"])
	missed := uint64(g["missed"].(float64))
	require.Greater(t, missed, uint64(0))
	require.Equal(t, from+missed, gap.id(t), "the gap carries the last id it stands for")
	require.Equal(t, from+missed+1, r.next().id(t), "then the oldest event kept")
	// the dial at the end arrives, or a later gap says it was lost (a
	// loaded machine lets the phone outrun the stream; loss is told, not
	// hidden): its call_sent comes after it either way
	for ev := r.next(); ev.Event != "number_dialed" && ev.Event != "call_sent"; ev = r.next() {
	}
	checkStream(t, r.seen)

	// an id the phone never reached: it restarted
	x := follow(t, srv.URL, "99999999")
	gap = x.next()
	require.Equal(t, "gap", gap.Event)
	require.JSONEq(t, `{"after":99999999,"missed":0,"restart":true}`, gap.Data)
	require.Equal(t, "0", gap.ID)
	nx := x.next()
	if nx.Event == "gap" { // the first events of this run are no longer kept
		require.EqualValues(t, 0, nx.fields(t)["after"])
	} else {
		require.Equal(t, uint64(1), nx.id(t))
	}
}

// plainPhone hides the device's Done: the handler follows such a phone
// only while a stream is open.
type plainPhone struct{ webui.Phone }

// TestEventsGapWhenNotFollowed: for a phone without Done, what happens
// while no stream is open is unknown, and a resuming client is told.
func TestEventsGapWhenNotFollowed(t *testing.T) {
	d := startDevice(t, "user_name1: 200\n")
	srv := httptest.NewServer(webui.New(plainPhone{d}, webui.Options{}))
	t.Cleanup(srv.Close)
	s := follow(t, srv.URL, "")
	last := s.next()
	s.cancel()
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, d.Post(firmware.KeyPressed{Key: "1"}))
	r := follow(t, srv.URL, last.ID)
	gap := r.until("gap")
	require.GreaterOrEqual(t, gap.fields(t)["missed"], float64(1))
}

// pythonConsumer is the Python script of docs/web.md.
func pythonConsumer(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile("../docs/web.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(doc), "```python\n")
	require.True(t, ok, "docs/web.md has no python block")
	script, _, ok := strings.Cut(rest, "```")
	require.True(t, ok)
	return script
}

// TestPythonConsumer runs the documented Python consumer against a phone,
// cuts its connection, and checks that it resumes where it was: every
// event once, ids consecutive, nothing lost.
func TestPythonConsumer(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not on PATH")
	}
	d := startDevice(t, "user_name1: 200\nhttp_user: admin\nhttp_pass: s3cret\n")
	h := webui.New(d, webui.Options{})
	var mu sync.Mutex
	var resumed []string // the Last-Event-ID of each /api/events request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/events" {
			mu.Lock()
			resumed = append(resumed, r.Header.Get("Last-Event-ID"))
			mu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	file := t.TempDir() + "/consumer.py"
	require.NoError(t, os.WriteFile(file, []byte(pythonConsumer(t)), 0o644))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-u", file, srv.URL+"/api/events", "admin:s3cret")
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() { cancel(); _ = cmd.Wait() }()

	lines := make(chan string, 4096)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	type printed struct {
		id         uint64
		kind, data string
	}
	var got []printed
	read := func(until func(p printed) bool) {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				require.True(t, ok, "the consumer ended: %s", stderr.String())
				id, rest, _ := strings.Cut(l, " ")
				kind, data, _ := strings.Cut(rest, " ")
				n, err := strconv.ParseUint(id, 10, 64)
				require.NoError(t, err, "line %q", l)
				p := printed{n, kind, data}
				got = append(got, p)
				if until(p) {
					return
				}
			case <-time.After(15 * time.Second):
				t.Fatalf("the consumer printed nothing more; stderr: %s", stderr.String())
			}
		}
	}
	numberIs := func(n string) func(p printed) bool {
		return func(p printed) bool { return p.kind == "number_dialed" && strings.Contains(p.data, `"`+n+`"`) }
	}

	read(func(p printed) bool { return p.kind == "state" })
	require.NoError(t, d.Post(firmware.NumberDialed{Number: "101"}))
	read(numberIs("101"))

	srv.CloseClientConnections() // the connection drops; the consumer waits 1 s
	for _, n := range []string{"102", "103"} {
		require.NoError(t, d.Post(firmware.NumberDialed{Number: n}))
	}
	read(numberIs("103"))
	mu.Lock()
	require.Len(t, resumed, 2, "one reconnection")
	require.Equal(t, "", resumed[0])
	require.NotEmpty(t, resumed[1], "the consumer resumed with Last-Event-ID")
	mu.Unlock()

	seen := map[uint64]bool{}
	for i, p := range got {
		require.False(t, seen[p.id], "id %d printed twice", p.id)
		seen[p.id] = true
		if i > 0 {
			require.Equal(t, got[i-1].id+1, p.id, "ids run on without a hole")
		}
		require.NotEqual(t, "gap", p.kind)
	}
	var numbers []string
	for _, p := range got {
		if p.kind == "number_dialed" {
			numbers = append(numbers, p.data)
		}
	}
	require.Equal(t, []string{`{"number": "101"}`, `{"number": "102"}`, `{"number": "103"}`}, numbers)
}

// lockedBuffer is a strings.Builder safe to read while a process writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
