package webui

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"phonesim/firmware"
	"phonesim/keypad"
	"phonesim/phonelog"
	"phonesim/provisioning"
)

// fakePhone stands in for the device loop: the web package's contract is
// its HTTP side.
type fakePhone struct {
	mu       sync.Mutex
	view     firmware.View
	settings *provisioning.Settings
	posted   []firmware.Event
	postErr  error
	log      *phonelog.Log
	subs     map[chan Notice]bool

	changes      []changeCall           // ChangeSettings calls, in order
	findings     []provisioning.Finding // what ChangeSettings returns
	changeErr    error                  // ChangeSettings fails: the phone is not running
	refuse       map[string]string      // Refuses, by name
	reprovisions int
	reprovErr    error
}

// changeCall is one ChangeSettings call.
type changeCall struct {
	Changes []provisioning.UserChange
	Source  string
}

func newFake() *fakePhone {
	s := provisioning.New()
	must(s.Set("user_name1", "100"))
	must(s.Set("user_pass1", "topsecret"))
	must(s.Set("setting_server_pass", "hunter2")) // http_pass would turn on authentication
	return &fakePhone{
		view:     sampleView(),
		settings: s,
		log:      phonelog.New(100, func() time.Time { return time.Date(2026, 3, 5, 9, 4, 7, 0, time.UTC) }),
		subs:     map[chan Notice]bool{},
		refuse:   map[string]string{},
	}
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func (f *fakePhone) View() firmware.View {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.view
}

func (f *fakePhone) Settings() *provisioning.Settings {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.settings.Clone()
}

func (f *fakePhone) Log() *phonelog.Log { return f.log }

func (f *fakePhone) Setting(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.settings.Get(name)
}

// set changes a setting as provisioning would, while the handler runs.
func (f *fakePhone) set(name, value string, m provisioning.Meta) {
	f.mu.Lock()
	defer f.mu.Unlock()
	must(f.settings.SetFrom(name, value, m))
}

// ChangeSettings records the call and returns f.findings; without an
// error among them the changes are applied as the user's.
func (f *fakePhone) ChangeSettings(changes []provisioning.UserChange, source string) ([]provisioning.Finding, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.changeErr != nil {
		return nil, f.changeErr
	}
	f.changes = append(f.changes, changeCall{append([]provisioning.UserChange(nil), changes...), source})
	if provisioning.HasError(f.findings) {
		return f.findings, nil
	}
	for _, c := range changes {
		_ = f.settings.SetFrom(c.Name, c.Value, provisioning.Meta{Perm: f.settings.Perm(c.Name), Source: provisioning.FromUser})
	}
	return f.findings, nil
}

func (f *fakePhone) Refuses(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refuse[name]
}

func (f *fakePhone) Reprovision() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.reprovErr != nil {
		return f.reprovErr
	}
	f.reprovisions++
	return nil
}

func (f *fakePhone) takeChanges() []changeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.changes
	f.changes = nil
	return c
}

func (f *fakePhone) Post(ev firmware.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.postErr != nil {
		return f.postErr
	}
	f.posted = append(f.posted, ev)
	return nil
}

func (f *fakePhone) Events() (<-chan Notice, func()) {
	ch := make(chan Notice, 16)
	f.mu.Lock()
	f.subs[ch] = true
	f.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			f.mu.Lock()
			delete(f.subs, ch)
			f.mu.Unlock()
		})
	}
}

func (f *fakePhone) publish(n Notice) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		ch <- n
	}
}

func (f *fakePhone) nsubs() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

func (f *fakePhone) takePosted() []firmware.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.posted
	f.posted = nil
	return p
}

func sampleView() firmware.View {
	return firmware.View{
		Now:        time.Date(2026, 3, 5, 9, 4, 7, 0, time.UTC),
		Identity:   firmware.IdentityView{Index: 1, User: "100", Host: "pbx.example", Registered: true},
		Identities: []firmware.IdentityView{{Index: 1, User: "100", Host: "pbx.example", Address: "100@pbx.example", Display: "Desk", Registered: true}},
		Hook:       firmware.OnHook,
		Calls: []firmware.CallView{{
			ID: "in-1", SIPCallID: "abc@pbx", State: firmware.Ringing, Direction: firmware.Incoming,
			Remote: firmware.Party{URI: "sip:alice@pbx.example", Display: "Alice"}, Identity: 1,
		}},
		Softkeys: [4]string{"Answer", "", "", "Reject"},
		Keys: []firmware.KeyView{
			{Label: "Line", Kind: "line", LED: firmware.LED{State: firmware.LEDOn, Color: firmware.Green}},
			{Label: "Bob", Kind: "blf", LED: firmware.LED{State: firmware.LEDFastBlink, Color: firmware.Red}},
		},
	}
}

// get sends one request to h and returns the response.
func get(h http.Handler, target string, hdr ...string) *http.Response {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Host = "127.0.0.1:8080"
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			r.Host = hdr[i+1]
			continue
		}
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func eq(t *testing.T, want, got any, msg ...any) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		t.Errorf("%s\n got: %#v\nwant: %#v", fmt.Sprint(msg...), got, want)
	}
}

func TestPages(t *testing.T) {
	f := newFake()
	f.log.Add(firmware.Info, "Registered 100@pbx.example")
	f.log.Add(firmware.Warning, "second line")
	h := New(f, Options{})
	tests := []struct {
		path, ctype string
		want        []string
		not         []string
	}{
		{"/", "text/html; charset=utf-8", []string{"Alice", "sip:alice@pbx.example", "ringing", `href="/command.htm?key=P1"`, "Bob"}, nil},
		{"/log.htm", "text/html; charset=utf-8", []string{"[6] 5/3/2026 09:04:07: Registered 100@pbx.example", `class="warning"`, "second line", `http-equiv="refresh"`}, nil},
		{"/log.txt", "text/plain; charset=utf-8", []string{"[6] 5/3/2026 09:04:07: Registered 100@pbx.example\n[4] 5/3/2026 09:04:07: second line\n"}, []string{"<"}},
		{"/settings.htm", "text/html; charset=utf-8", []string{`<td>user_name1</td><td><input name="user_name1" value="100"></td>`, `<td>user_pass1</td><td><input type="password" name="user_pass1" autocomplete="new-password"> (set)</td>`, `<td>setting_server_pass</td><td><input type="password" name="setting_server_pass" autocomplete="new-password"> (set)</td>`, "dnd_mode"}, []string{"topsecret", "hunter2"}},
		{"/api/state", "application/json", []string{`"hook":"on-hook"`, `"sip_call_id":"abc@pbx"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res := get(h, tt.path)
			b := body(t, res)
			eq(t, 200, res.StatusCode, b)
			eq(t, tt.ctype, res.Header.Get("Content-Type"))
			eq(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
			for _, w := range tt.want {
				if !strings.Contains(b, w) {
					t.Errorf("%s lacks %q:\n%s", tt.path, w, b)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(b, w) {
					t.Errorf("%s shows %q:\n%s", tt.path, w, b)
				}
			}
		})
	}
	t.Run("log.txt is one line per entry", func(t *testing.T) {
		eq(t, f.log.Lines(), strings.Split(strings.TrimSuffix(body(t, get(h, "/log.txt")), "\n"), "\n"))
	})
	t.Run("unknown path", func(t *testing.T) {
		eq(t, 404, get(h, "/nope.htm").StatusCode)
	})
	t.Run("wrong method", func(t *testing.T) {
		for _, p := range []string{"/log.htm", "/command.htm?key=1", "/api/state"} {
			r := httptest.NewRequest(http.MethodPut, p, nil)
			r.Host = "127.0.0.1"
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			eq(t, 405, w.Code, p)
		}
		eq(t, 0, len(f.takePosted()))
	})
}

func TestStateJSON(t *testing.T) {
	got, err := json.Marshal(StateOf(sampleView()))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"time":"2026-03-05T09:04:07Z",` +
		`"identities":[{"index":1,"user":"100","host":"pbx.example","address":"100@pbx.example","display":"Desk","registered":true,"reg_error":""}],` +
		`"hook":"on-hook","dnd":false,"redirect":{"mode":"","target":""},` +
		`"calls":[{"id":"in-1","sip_call_id":"abc@pbx","state":"ringing","direction":"incoming","remote":"sip:alice@pbx.example","display":"Alice","seconds":0,"muted":false,"identity":1}],` +
		`"active":"","digits":"","message":"","page":"","screen":"idle","softkeys":["Answer","","","Reject"],` +
		`"leds":[{"key":"P1","label":"Line","kind":"line","state":"on","color":"green"},{"key":"P2","label":"Bob","kind":"blf","state":"fast","color":"red"}],` +
		`"display":["Incoming call","Alice","sip:alice@pbx.example"],"missed":0,"data_error":""}`
	eq(t, want, string(got))

	empty, _ := json.Marshal(StateOf(firmware.View{}))
	for _, k := range []string{`"identities":[]`, `"calls":[]`, `"leds":[]`, `"softkeys":["","","",""]`, `"time":""`} {
		if !strings.Contains(string(empty), k) {
			t.Errorf("empty state lacks %s: %s", k, empty)
		}
	}
}

func TestCommand(t *testing.T) {
	kp := func(ks ...string) []firmware.Event {
		var evs []firmware.Event
		for _, k := range ks {
			evs = append(evs, firmware.KeyPressed{Key: keypad.Key(k)})
		}
		return evs
	}
	tests := []struct {
		name, query string
		want        []firmware.Event
	}{
		{"one key", "key=OFFHOOK", kp("OFFHOOK")},
		{"list in order", "key=OFFHOOK;1;2;%23", kp("OFFHOOK", "1", "2", "#")},
		{"hash alone", "key=%23", kp("#")},
		{"star", "key=%2A", kp("*")},
		{"lower case", "key=p3;enter", kp("P3", "ENTER")},
		{"expansion key", "key=EK0", kp("P33")},
		{"encoded semicolons", "key=1%3B2", kp("1", "2")},
		{"number", "number=0301234", []firmware.Event{firmware.NumberDialed{Number: "0301234"}}},
		{"number keeps plus", "number=+49301234", []firmware.Event{firmware.NumberDialed{Number: "+49301234"}}},
		{"number uri", "number=sip:bob%40pbx.example", []firmware.Event{firmware.NumberDialed{Number: "sip:bob@pbx.example"}}},
		{"key_dtmf", "key_dtmf=12%2A%23", kp("1", "2", "*", "#")},
		{"combined in order", "key=OFFHOOK&key_dtmf=5&key=ONHOOK", kp("OFFHOOK", "5", "ONHOOK")},
		{"unknown parameters ignored", "foo=bar&key=1", kp("1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			res := get(New(f, Options{}), "/command.htm?"+tt.query)
			b := body(t, res)
			eq(t, 200, res.StatusCode, b)
			eq(t, tt.want, f.takePosted())
			if !strings.Contains(b, "OK") {
				t.Errorf("reply lacks OK: %s", b)
			}
		})
	}
}

func TestCommandBad(t *testing.T) {
	tests := []struct{ name, query, msg string }{
		{"bad key name", "key=OFFHOOK;NOSUCHKEY;1", `unknown key "NOSUCHKEY"`},
		{"bad key_dtmf digit", "key_dtmf=12x", `bad digit "x"`},
		{"nothing", "", "nothing to do"},
		{"empty key", "key=", "no key"},
		{"empty number", "number=", "number= is empty"},
		{"control in number", "number=12%0d%0aX", "control character"},
		{"bad escape", "key=%zz", "percent-encoding"},
		{"bad key after good param", "number=1&key=BOGUS", `unknown key "BOGUS"`},
		{"too many", "key_dtmf=" + strings.Repeat("1", 200), "too many"},
		{"hostile key name", "key=%1b%5b2J%3Cscript%3E", `\x1b[2J<script>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			res := get(New(f, Options{}), "/command.htm?"+tt.query)
			b := body(t, res)
			eq(t, 400, res.StatusCode, b)
			eq(t, "text/plain; charset=utf-8", res.Header.Get("Content-Type"))
			if !strings.Contains(b, tt.msg) {
				t.Errorf("message %q lacks %q", b, tt.msg)
			}
			if strings.Contains(b, "\x1b") {
				t.Errorf("raw ESC in message %q", b)
			}
			eq(t, 0, len(f.takePosted()), "nothing posted")
		})
	}
}

func TestCommandPhoneGone(t *testing.T) {
	f := newFake()
	f.postErr = errors.New("device: loop stopped")
	res := get(New(f, Options{}), "/command.htm?key=1")
	b := body(t, res)
	eq(t, 503, res.StatusCode, b)
	if !strings.Contains(b, "loop stopped") {
		t.Errorf("message %q", b)
	}
}

func TestAuth(t *testing.T) {
	paths := []string{"/", "/log.htm", "/log.txt", "/settings.htm", "/command.htm?key=1", "/api/state", "/api/events", "/nope"}
	h := New(newFake(), Options{User: "admin", Pass: "s3cret"})
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			res := get(h, p)
			eq(t, 401, res.StatusCode, "no credentials")
			if !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("WWW-Authenticate = %q", res.Header.Get("WWW-Authenticate"))
			}
			for _, c := range [][2]string{{"admin", "wrong"}, {"root", "s3cret"}, {"admin", ""}, {"admin", "s3cret "}} {
				r := httptest.NewRequest(http.MethodGet, p, nil)
				r.SetBasicAuth(c[0], c[1])
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				eq(t, 401, w.Code, c)
			}
		})
	}
	f := newFake()
	srv := httptest.NewServer(New(f, Options{User: "admin", Pass: "s3cret"}))
	defer srv.Close()
	for _, p := range paths {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+p, nil)
		req.SetBasicAuth("admin", "s3cret")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close() // ends /api/events too
		want := 200
		if p == "/nope" {
			want = 404
		}
		eq(t, want, res.StatusCode, p)
	}
	eq(t, []firmware.Event{firmware.KeyPressed{Key: "1"}}, f.takePosted())

	t.Run("any user when User is empty", func(t *testing.T) {
		h := New(newFake(), Options{Pass: "s3cret"})
		r := httptest.NewRequest(http.MethodGet, "/log.txt", nil)
		r.SetBasicAuth("whoever", "s3cret")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		eq(t, 200, w.Code)
	})
	t.Run("no auth without a password", func(t *testing.T) {
		eq(t, 200, get(New(newFake(), Options{User: "admin"}), "/log.txt").StatusCode)
	})
}

func TestCrossOrigin(t *testing.T) {
	host := "127.0.0.1:8080"
	tests := []struct {
		name string
		hdr  []string
		want int
	}{
		{"no browser headers (curl)", nil, 200},
		{"same origin", []string{"Origin", "http://127.0.0.1:8080"}, 200},
		{"fetch metadata same-origin", []string{"Sec-Fetch-Site", "same-origin"}, 200},
		{"typed in the address bar", []string{"Sec-Fetch-Site", "none"}, 200},
		{"same-origin referer", []string{"Referer", "http://127.0.0.1:8080/"}, 200},
		{"other origin", []string{"Origin", "http://evil.example"}, 403},
		{"other port", []string{"Origin", "http://127.0.0.1:9999"}, 403},
		{"null origin", []string{"Origin", "null"}, 403},
		{"cross-site", []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"same-site is another origin", []string{"Sec-Fetch-Site", "same-site"}, 403},
		{"cross-site even with matching origin", []string{"Sec-Fetch-Site", "cross-site", "Origin", "http://127.0.0.1:8080"}, 403},
		{"old browser, foreign referer", []string{"Referer", "http://evil.example/page"}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			res := get(New(f, Options{}), "/command.htm?key=OFFHOOK", append([]string{"Host", host}, tt.hdr...)...)
			b := body(t, res)
			eq(t, tt.want, res.StatusCode, b)
			if tt.want == 403 {
				eq(t, 0, len(f.takePosted()), "nothing posted")
				if !strings.Contains(b, "cross-origin") {
					t.Errorf("message %q", b)
				}
			} else {
				eq(t, 1, len(f.takePosted()))
			}
		})
	}
	t.Run("reading pages is not affected", func(t *testing.T) {
		eq(t, 200, get(New(newFake(), Options{}), "/log.txt", "Sec-Fetch-Site", "cross-site").StatusCode)
	})
}

func TestHostCheck(t *testing.T) {
	tests := []struct {
		host string
		opt  Options
		want int
	}{
		{"127.0.0.1:8080", Options{}, 200},
		{"[::1]:8080", Options{}, 200},
		{"localhost:8080", Options{}, 200},
		{"LOCALHOST.", Options{}, 200},
		{"phone.localhost:8080", Options{}, 200},
		{"192.168.1.20:8080", Options{}, 200},
		{"evil.example:8080", Options{}, 403},
		{"evil.example", Options{}, 403},
		{"desk.lan:8080", Options{Hosts: []string{"desk.lan"}}, 200},
		{"evil.example:8080", Options{Pass: "x"}, 401}, // with a password, auth protects
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			res := get(New(newFake(), tt.opt), "/api/state", "Host", tt.host)
			eq(t, tt.want, res.StatusCode, body(t, res))
		})
	}
}

func TestCheckListen(t *testing.T) {
	tests := []struct {
		addr, pass string
		ok         bool
	}{
		{"127.0.0.1:8080", "", true},
		{"127.0.0.2:0", "", true},
		{"[::1]:8080", "", true},
		{"localhost:8080", "", true},
		{":8080", "", false},
		{"0.0.0.0:8080", "", false},
		{"[::]:8080", "", false},
		{"192.168.1.20:80", "", false},
		{"phone.example:80", "", false},
		{":8080", "pw", true},
		{"0.0.0.0:8080", "pw", true},
		{"127.0.0.1", "", false}, // no port
	}
	for _, tt := range tests {
		t.Run(tt.addr+"/"+tt.pass, func(t *testing.T) {
			err := CheckListen(tt.addr, tt.pass)
			eq(t, tt.ok, err == nil, err)
			if err != nil && tt.addr != "127.0.0.1" && !strings.Contains(err.Error(), "without a password") {
				t.Errorf("unclear error: %v", err)
			}
		})
	}
}

// hostile is a display name a caller controls.
const hostile = "\x1b[2J<script>alert(1)</script>&x=1"

func TestHostileText(t *testing.T) {
	f := newFake()
	v := sampleView()
	v.Calls[0].Remote = firmware.Party{URI: "sip:" + hostile + "@pbx", Display: hostile}
	v.Identities[0].Display = hostile
	v.Keys[1].Label = hostile
	v.Softkeys[1] = hostile
	v.Message = hostile
	v.Digits = hostile
	f.view = v
	must(f.settings.Set("user_realname1", hostile))
	f.log.Add(firmware.Info, "Incoming call from "+hostile)
	h := New(f, Options{})

	for _, p := range []string{"/", "/log.htm", "/settings.htm", "/log.txt"} {
		res := get(h, p)
		b := body(t, res)
		if p == "/log.txt" {
			// plain text shows the markup as text: it must never be taken for HTML
			eq(t, "text/plain; charset=utf-8", res.Header.Get("Content-Type"))
			eq(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
			if !strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'none'") {
				t.Errorf("no CSP on %s", p)
			}
		} else if strings.Contains(b, "<script>") {
			t.Errorf("%s shows <script> raw", p)
		}
		if strings.Contains(b, "\x1b") {
			t.Errorf("%s shows ESC raw", p)
		}
		if !strings.Contains(b, `\x1b[2J`) {
			t.Errorf("%s does not show the name inert", p)
		}
	}

	b := body(t, get(h, "/api/state"))
	if !json.Valid([]byte(b)) {
		t.Fatalf("invalid JSON: %s", b)
	}
	if strings.Contains(b, "<script>") || strings.Contains(b, "\x1b") {
		t.Errorf("raw markup or ESC in JSON: %s", b)
	}
	var s State
	must(json.Unmarshal([]byte(b), &s))
	eq(t, hostile, s.Calls[0].Display, "JSON keeps the data exactly")
	eq(t, hostile, s.LEDs[1].Label)

	// the OK page of a command echoes the number, escaped
	res := get(h, "/command.htm?number=%3Cscript%3E1")
	ok := body(t, res)
	eq(t, 200, res.StatusCode)
	if strings.Contains(ok, "<script>") {
		t.Errorf("command reply shows <script> raw: %s", ok)
	}
}

type event struct{ name, id, data string }

// readEvents parses Server-Sent Events from r until it ends: events go to
// got, keepalive comments to keepalives.
func readEvents(r io.Reader, got chan<- event, keepalives chan<- struct{}) {
	defer close(got)
	sc := bufio.NewScanner(r)
	var ev event
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev != (event{}) {
				got <- ev
			}
			ev = event{}
		case strings.HasPrefix(line, ": keepalive"):
			select {
			case keepalives <- struct{}{}:
			default:
			}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event: "):
			ev.name = line[len("event: "):]
		case strings.HasPrefix(line, "id: "):
			ev.id = line[len("id: "):]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[len("data: "):]
		default:
			ev.name = "UNEXPECTED LINE " + line
		}
	}
}

func TestEvents(t *testing.T) {
	f := newFake()
	hd := newHandler(f, Options{})
	hd.keepalive = 50 * time.Millisecond
	srv := httptest.NewServer(hd)
	defer srv.Close()

	res, err := http.Get(srv.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "text/event-stream", res.Header.Get("Content-Type"))
	got := make(chan event, 16)
	keepalives := make(chan struct{}, 1)
	go readEvents(res.Body, got, keepalives)
	wait := func(what string) event {
		t.Helper()
		select {
		case ev, ok := <-got:
			if !ok {
				t.Fatalf("stream ended waiting for %s", what)
			}
			return ev
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s within 5 s", what)
		}
		return event{}
	}

	ev := wait("state")
	eq(t, "state", ev.name)
	var st State
	must(json.Unmarshal([]byte(ev.data), &st))
	eq(t, "in-1", st.Calls[0].ID)

	f.log.Add(firmware.Notice, "line one\r\nevent: forged\n\n"+hostile)
	ev = wait("log line")
	eq(t, "log", ev.name)
	var le struct {
		Seq           uint64
		Time, Level   string
		Message, Line string
	}
	must(json.Unmarshal([]byte(ev.data), &le))
	eq(t, uint64(1), le.Seq)
	eq(t, "1", ev.id)
	eq(t, "NOTICE", le.Level)
	eq(t, `line one\r\nevent: forged\n\n\x1b[2J<script>alert(1)</script>&x=1`, le.Message)
	eq(t, "2026-03-05T09:04:07Z", le.Time)
	eq(t, "[5] 5/3/2026 09:04:07: "+le.Message, le.Line)

	f.publish(Notice{Kind: "call\nevent: forged", Data: map[string]any{"id": "in-1", "display": hostile}})
	ev = wait("notice")
	eq(t, "call_event:_forged", ev.name)
	var data map[string]string
	must(json.Unmarshal([]byte(ev.data), &data))
	eq(t, hostile, data["display"])

	f.publish(Notice{Kind: "bad", Data: func() {}})
	ev = wait("unencodable notice")
	eq(t, "bad", ev.name)
	if !json.Valid([]byte(ev.data)) {
		t.Errorf("invalid JSON %q", ev.data)
	}

	select {
	case <-keepalives:
	case <-time.After(5 * time.Second):
		t.Fatal("no keepalive")
	}

	res.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for f.nsubs() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("handler still subscribed after the client went away")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEventsEndWhenPhoneGoes(t *testing.T) {
	f := &closingPhone{fakePhone: newFake()}
	srv := httptest.NewServer(New(f, Options{}))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	done := make(chan error, 1)
	go func() { _, err := io.ReadAll(res.Body); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stream did not end when the notice channel closed")
	}
}

// closingPhone's notice channel is closed: the phone loop has gone.
type closingPhone struct{ *fakePhone }

func (c *closingPhone) Events() (<-chan Notice, func()) {
	ch := make(chan Notice)
	close(ch)
	return ch, func() {}
}

func TestEventsStreamLimit(t *testing.T) {
	hd := newHandler(newFake(), Options{})
	hd.streams = make(chan struct{}, 1)
	srv := httptest.NewServer(hd)
	defer srv.Close()
	first, err := http.Get(srv.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, 200, first.StatusCode)
	second, err := http.Get(srv.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	second.Body.Close()
	eq(t, 503, second.StatusCode)
	first.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		res, err := http.Get(srv.URL + "/api/events")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("slot not freed after the client went away")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
