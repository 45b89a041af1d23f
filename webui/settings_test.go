package webui

import (
	"errors"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"phonesim/provisioning"
)

// post sends a form to h as a browser of the same origin would (no
// Origin header unless hdr gives one) and returns the response.
func post(h http.Handler, target, form string, hdr ...string) *http.Response {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form))
	r.Host = "127.0.0.1:8080"
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

type formField struct{ name, value string }

var (
	reMainForm = regexp.MustCompile(`(?s)<form method="post" action="/settings.htm">\n(.*?)</form>`)
	reControl  = regexp.MustCompile(`(?s)<input (?:type="(\w+)" )?name="([^"]+)"( value="[^"]*")?[^>]*>|<select name="([^"]+)"([^>]*)>(.*?)</select>`)
	reOption   = regexp.MustCompile(`<option(?: value="([^"]*)")?( selected)?>([^<]*)</option>`)
)

// formOf reads the settings form of a page as a browser would submit it
// untouched: its enabled inputs and selects, in page order.
func formOf(t *testing.T, page string) []formField {
	t.Helper()
	m := reMainForm.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no settings form in the page")
	}
	var out []formField
	for _, c := range reControl.FindAllStringSubmatch(m[1], -1) {
		if strings.Contains(c[0], " disabled") && !strings.Contains(c[0], "<option") || strings.Contains(c[5], "disabled") {
			continue
		}
		if c[2] != "" {
			v := strings.TrimPrefix(c[3], ` value="`)
			v = strings.TrimSuffix(v, `"`)
			out = append(out, formField{html.UnescapeString(c[2]), html.UnescapeString(v)})
			continue
		}
		sel := ""
		for i, o := range reOption.FindAllStringSubmatch(c[6], -1) {
			v := o[3]
			if o[1] != "" {
				v = o[1]
			}
			if i == 0 || o[2] != "" {
				sel = html.UnescapeString(v)
			}
		}
		out = append(out, formField{html.UnescapeString(c[4]), sel})
	}
	return out
}

// encode encodes fields in order, as a browser does.
func encode(fs []formField) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = url.QueryEscape(f.name) + "=" + url.QueryEscape(f.value)
	}
	return strings.Join(parts, "&")
}

func with(fs []formField, name, value string) []formField {
	out := append([]formField(nil), fs...)
	for i := range out {
		if out[i].name == name {
			out[i].value = value
			return out
		}
	}
	panic("no field " + name)
}

func contains(t *testing.T, b string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(b, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

func lacks(t *testing.T, b string, not ...string) {
	t.Helper()
	for _, w := range not {
		if strings.Contains(b, w) {
			t.Errorf("page shows %q", w)
		}
	}
}

func TestSettingsPageLayout(t *testing.T) {
	f := newFake()
	must(f.settings.SetFrom("fkey4", "blf sip:200@pbx", provisioning.Meta{Perm: provisioning.PermKeep, Source: provisioning.FromServer, Origin: "http://prov.example/snomD785.xml"}))
	must(f.settings.SetFrom("fkey_label4", "Bob", provisioning.Meta{Source: provisioning.FromFile, Origin: "desk.xml"}))
	must(f.settings.SetFrom("user_host1", "pbx.example", provisioning.Meta{Perm: provisioning.PermReadOnly, Source: provisioning.FromFile, Origin: "desk.xml"}))
	must(f.settings.SetFrom("call_waiting", "off", provisioning.Meta{Perm: provisioning.PermReadOnly, Source: provisioning.FromCommandLine, Origin: "--set"}))
	must(f.settings.SetFrom("dnd_mode", "on", provisioning.Meta{Source: provisioning.FromUser}))
	res := get(New(f, Options{}), "/settings.htm")
	b := body(t, res)
	eq(t, 200, res.StatusCode)

	for i, g := range provisioning.Groups {
		contains(t, b, `<h2 id="g`+string(rune('1'+i))+`">`+html.EscapeString(g)+`</h2>`)
	}
	contains(t, b, `<h2 id="unknown">Unknown settings</h2>`)
	// every single setting of the schema has its row: no second list
	for _, sp := range provisioning.Schema() {
		if sp.Family == provisioning.Single {
			contains(t, b, `<tr><td>`+sp.Name+`</td><td>`)
		}
	}
	contains(t, b,
		`<tr><td>user_name1</td><td><input name="user_name1" value="100"></td><td title="user may change; provisioning overwrites">$</td><td>default</td><td class="d">user part`,
		`<h3>Identity 2 (new)</h3>`, `name="user_name2"`,
		// fkey and its label side by side, with perm and origin
		`<tr><td>P5</td><td><input name="fkey4" value="blf sip:200@pbx" size="30"> <span title="user may change; provisioning keeps the change">!</span> <small>server http://prov.example/snomD785.xml</small></td><td><input name="fkey_label4" value="Bob"> <span title="user may change; provisioning overwrites">$</span> <small>file desk.xml</small></td><td><select name="fkey_context4">`,
		`<td title="read-only">&amp;</td><td>file desk.xml</td>`,
		`<td>call_waiting</td><td><select name="call_waiting"><option>on</option><option selected>off</option></select></td><td title="read-only">&amp;</td><td>command line</td>`,
		`<tr><td>dnd_mode</td><td><select name="dnd_mode"><option selected>on</option><option>off</option></select></td><td title="user may change; provisioning overwrites">$</td><td>user</td>`,
		`<input name="action_incoming_url" size="50">`,
		`<input name="setting_server" size="50">`,
		`<h3>Client action 1 (new)</h3>`, `name="client_action_target1"`,
		`<input type="hidden" name="action" value="reprovision"><button>Fetch settings now</button>`,
	)
	lacks(t, b, `name="user_name3"`, `name="client_action_name2"`, `<td>P33</td>`, `name="fkey32"`)
	contains(t, b, `<td>P32</td>`, `name="fkey_label31"`)

	t.Run("families follow the settings", func(t *testing.T) {
		f := newFake()
		must(f.settings.Set("user_name2", "200"))
		must(f.settings.Set("user_host5", "pbx.example")) // set without a user name: still shown
		must(f.settings.Set("client_action_name1", "CRM"))
		must(f.settings.Set("expansion_modules", "2"))
		must(f.settings.Set("fkey80", "speed 1")) // beyond the modules, but set
		b := body(t, get(New(f, Options{}), "/settings.htm"))
		contains(t, b, `<h3>Identity 2</h3>`, `<h3>Identity 3 (new)</h3>`, `<h3>Identity 5</h3>`,
			`<h3>Client action 1</h3>`, `<h3>Client action 2 (new)</h3>`,
			`<td>P68</td>`, `name="fkey67"`, `<td>P81</td>`)
		lacks(t, b, `<h3>Identity 4`, `name="user_name6"`, `<td>P69</td>`, `<h3>Client action 3`)
	})
	t.Run("HTML stays lean", func(t *testing.T) {
		if len(b) > 64<<10 {
			t.Errorf("settings page is %d bytes", len(b))
		}
	})
}

func TestSettingsSecrets(t *testing.T) {
	f := newFake()
	must(f.settings.Set("user_pass2", "pw-two-zz"))
	must(f.settings.Set("user_name2", "200"))
	must(f.settings.Set("my_password", "unknown-secret-zz")) // an unknown name that looks like a secret
	h := New(f, Options{})
	b := body(t, get(h, "/settings.htm"))
	lacks(t, b, "topsecret", "hunter2", "pw-two-zz", "unknown-secret-zz")
	contains(t, b,
		`<td>user_pass1</td><td><input type="password" name="user_pass1" autocomplete="new-password"> (set)</td>`,
		`<td>user_pass3</td><td><input type="password" name="user_pass3" autocomplete="new-password"></td>`, // none: no "(set)"
		`<td>my_password</td><td class="v">(set)</td>`)

	t.Run("an empty secret field is no change", func(t *testing.T) {
		form := formOf(t, b)
		res := post(h, "/settings.htm", encode(form))
		rb := body(t, res)
		eq(t, 200, res.StatusCode, rb)
		contains(t, rb, "nothing changed")
		eq(t, 0, len(f.takeChanges()))
	})
	t.Run("a typed secret is sent but never shown again", func(t *testing.T) {
		f.findings = []provisioning.Finding{{Severity: provisioning.Error, Source: sourceForm, Name: "user_expiry1", Message: "bad"}}
		defer func() { f.findings = nil }()
		form := with(with(formOf(t, b), "user_pass1", "typed-secret-zz"), "user_expiry1", "1")
		res := post(h, "/settings.htm", encode(form))
		rb := body(t, res)
		eq(t, 400, res.StatusCode)
		lacks(t, rb, "typed-secret-zz", "topsecret")
		contains(t, rb, "type the passwords again")
		eq(t, []changeCall{{[]provisioning.UserChange{{Name: "user_pass1", Value: "typed-secret-zz"}, {Name: "user_expiry1", Value: "1"}}, sourceForm}}, f.takeChanges())
	})
}

func TestSettingsSave(t *testing.T) {
	f := newFake()
	must(f.settings.Set("user_realname1", hostile))                        // shown inert: posting it back is no change
	must(f.settings.Set("setting_server", "http://prov:pw@prov.example/")) // shown without its password
	must(f.settings.Set("dnd_mode", "true"))                               // not one of the select's values
	must(f.settings.Set("foo_bar", "x"))
	h := New(f, Options{})
	page := body(t, get(h, "/settings.htm"))
	lacks(t, page, "prov:pw@")
	form := formOf(t, page)
	if len(form) < 150 {
		t.Fatalf("only %d fields in the form", len(form))
	}
	fresh := func() []formField { return formOf(t, body(t, get(h, "/settings.htm"))) }

	t.Run("unchanged page is no change", func(t *testing.T) {
		res := post(h, "/settings.htm", encode(form))
		eq(t, 200, res.StatusCode, body(t, res))
		eq(t, 0, len(f.takeChanges()))
	})
	t.Run("two changes, one call", func(t *testing.T) {
		res := post(h, "/settings.htm", encode(with(with(form, "fkey_label2", "Alice & Bob"), "call_waiting", "off")))
		b := body(t, res)
		eq(t, 200, res.StatusCode, b)
		eq(t, []changeCall{{[]provisioning.UserChange{{Name: "fkey_label2", Value: "Alice & Bob"}, {Name: "call_waiting", Value: "off"}}, "web form"}}, f.takeChanges())
		contains(t, b, `<p class="ok">saved 2 settings</p>`, `<input name="fkey_label2" value="Alice &amp; Bob">`)
	})
	t.Run("warnings are listed", func(t *testing.T) {
		f.findings = []provisioning.Finding{{Severity: provisioning.Warning, Source: sourceForm, Name: "fkey3", Message: "keyevent F_PARK is not supported by phonesim: the key does nothing"}}
		defer func() { f.findings = nil }()
		res := post(h, "/settings.htm", "fkey3=keyevent+F_PARK")
		b := body(t, res)
		eq(t, 200, res.StatusCode)
		contains(t, b, "saved 1 setting<", `<li class="warning">warning: fkey3: keyevent F_PARK is not supported`)
		eq(t, 1, len(f.takeChanges()))
	})
	t.Run("an error saves nothing and shows the input again", func(t *testing.T) {
		f.findings = []provisioning.Finding{{Severity: provisioning.Error, Source: sourceForm, Name: "user_expiry1", Message: "99999 is out of range 30–86400"}}
		defer func() { f.findings = nil }()
		before := f.Settings().Get("user_expiry1")
		res := post(h, "/settings.htm", encode(with(with(fresh(), "user_expiry1", "99999"), "user_realname1", "Desk <1>")))
		b := body(t, res)
		eq(t, 400, res.StatusCode)
		eq(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
		contains(t, b, `<p class="error">nothing was saved`, `<li class="error">error: user_expiry1: 99999 is out of range 30–86400</li>`,
			`<input name="user_expiry1" value="99999"> <small class="error">99999 is out of range`,
			`<input name="user_realname1" value="Desk &lt;1&gt;">`)
		eq(t, 1, len(f.takeChanges()))
		eq(t, before, f.Settings().Get("user_expiry1"), "nothing applied")
	})
	t.Run("a changed URL keeps what the user typed", func(t *testing.T) {
		post(h, "/settings.htm", encode(with(fresh(), "setting_server", "http://other.example/")))
		eq(t, []changeCall{{[]provisioning.UserChange{{Name: "setting_server", Value: "http://other.example/"}}, "web form"}}, f.takeChanges())
	})
	t.Run("the phone is gone", func(t *testing.T) {
		f.mu.Lock()
		f.changeErr = errors.New("device: stopped")
		f.mu.Unlock()
		defer func() { f.changeErr = nil }()
		res := post(h, "/settings.htm", "dnd_mode=off")
		b := body(t, res)
		eq(t, 503, res.StatusCode, b)
		contains(t, b, "nothing was saved")
	})
}

func TestSettingsPostChecks(t *testing.T) {
	tests := []struct {
		name, ctype, form string
		hdr               []string
		code              int
		msg               string
	}{
		{"other origin", "", "dnd_mode=on", []string{"Origin", "http://evil.example"}, 403, "cross-origin"},
		{"cross-site", "", "dnd_mode=on", []string{"Sec-Fetch-Site", "cross-site"}, 403, "cross-origin"},
		{"cross-site fetch button", "", "action=reprovision", []string{"Sec-Fetch-Site", "cross-site"}, 403, "cross-origin"},
		{"not a form", "application/json", `{"dnd_mode":"on"}`, nil, 415, "x-www-form-urlencoded"},
		{"multipart", "multipart/form-data; boundary=x", "--x--", nil, 415, "x-www-form-urlencoded"},
		{"too big", "", "dnd_mode=" + strings.Repeat("a", maxFormLen), nil, 413, "too large"},
		{"bad escape", "", "dnd_mode=%zz", nil, 400, "percent-encoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			r := httptest.NewRequest(http.MethodPost, "/settings.htm", strings.NewReader(tt.form))
			r.Host = "127.0.0.1:8080"
			ct := tt.ctype
			if ct == "" {
				ct = "application/x-www-form-urlencoded"
			}
			r.Header.Set("Content-Type", ct)
			for i := 0; i+1 < len(tt.hdr); i += 2 {
				r.Header.Set(tt.hdr[i], tt.hdr[i+1])
			}
			w := httptest.NewRecorder()
			New(f, Options{}).ServeHTTP(w, r)
			eq(t, tt.code, w.Code, w.Body.String())
			contains(t, w.Body.String(), tt.msg)
			eq(t, 0, len(f.takeChanges()))
			eq(t, 0, f.reprovisions)
		})
	}
	t.Run("same origin passes", func(t *testing.T) {
		f := newFake()
		res := post(New(f, Options{}), "/settings.htm", "dnd_mode=on", "Origin", "http://127.0.0.1:8080", "Sec-Fetch-Site", "same-origin")
		eq(t, 200, res.StatusCode, body(t, res))
		eq(t, 1, len(f.takeChanges()))
	})
	t.Run("other methods", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPut, "/settings.htm", nil)
		r.Host = "127.0.0.1"
		w := httptest.NewRecorder()
		New(newFake(), Options{}).ServeHTTP(w, r)
		eq(t, 405, w.Code)
	})
}

func TestSettingsReadOnly(t *testing.T) {
	f := newFake()
	must(f.settings.SetFrom("dnd_mode", "on", provisioning.Meta{Perm: provisioning.PermReadOnly, Source: provisioning.FromServer, Origin: "http://prov.example/a.xml"}))
	f.refuse["dnd_mode"] = `read-only (perm "&" from http://prov.example/a.xml)`
	f.refuse["user_name1"] = "set on the command line (--set), the user cannot change it"
	f.refuse["user_pass1"] = "set on the command line (--set), the user cannot change it"
	f.refuse["fkey_label4"] = `read-only (perm "&" from a.xml)`
	h := New(f, Options{})
	b := body(t, get(h, "/settings.htm"))
	contains(t, b,
		`<select name="dnd_mode" disabled><option selected>on</option><option>off</option></select> <small class="ro">read-only (perm &#34;&amp;&#34; from http://prov.example/a.xml)</small>`,
		`<input name="user_name1" value="100" disabled> <small class="ro">set on the command line (--set), the user cannot change it</small>`,
		`<input type="password" name="user_pass1" autocomplete="new-password" disabled> (set) <small class="ro">set on the command line`,
		`<input name="fkey_label4" disabled> <small class="ro">read-only`,
	)
	for _, fd := range formOf(t, b) {
		if f.refuse[fd.name] != "" {
			t.Errorf("read-only %s is submitted", fd.name)
		}
	}
}

func TestSettingsReprovision(t *testing.T) {
	f := newFake()
	must(f.settings.Set("setting_server", "http://u:pw@prov.example/"))
	h := New(f, Options{})
	res := post(h, "/settings.htm", "action=reprovision")
	b := body(t, res)
	eq(t, 200, res.StatusCode, b)
	eq(t, 1, f.reprovisions)
	eq(t, 0, len(f.takeChanges()))
	contains(t, b, "fetching the settings from http://u:@prov.example/", `href="/log.htm"`)
	lacks(t, b, "pw@")

	f.reprovErr = errors.New("device: stopped")
	res = post(h, "/settings.htm", "action=reprovision")
	eq(t, 503, res.StatusCode, body(t, res))
}

func TestUnknownSettings(t *testing.T) {
	f := newFake()
	must(f.settings.SetFrom("user_nmae1", "200", provisioning.Meta{Source: provisioning.FromFile, Origin: "desk.cfg"}))
	must(f.settings.Set("dnd_mod", "on"))
	must(f.settings.Set("zzz_qqq_xyz", "1"))
	b := body(t, get(New(f, Options{}), "/settings.htm"))
	contains(t, b,
		`<tr><td>user_nmae1</td><td class="v">200</td><td>file desk.cfg</td><td>did you mean user_name1?</td></tr>`,
		`<tr><td>dnd_mod</td><td class="v">on</td><td>default</td><td>did you mean dnd_mode?</td></tr>`,
		`<tr><td>zzz_qqq_xyz</td><td class="v">1</td><td>default</td><td></td></tr>`)
	i := strings.Index(b, `id="unknown"`)
	if i < 0 || strings.Index(b, "user_nmae1") < i {
		t.Errorf("unknown settings not in their own section")
	}
	none := body(t, get(New(newFake(), Options{}), "/settings.htm"))
	contains(t, none, `<h2 id="unknown">Unknown settings</h2>`+"\n<p>none</p>")
}

func TestDummy(t *testing.T) {
	tests := []struct {
		name, query string
		want        []provisioning.UserChange
		reply       []string
	}{
		{"pairs in order", "settings=save&dnd_mode=on&fkey_label3=Alice",
			[]provisioning.UserChange{{Name: "dnd_mode", Value: "on"}, {Name: "fkey_label3", Value: "Alice"}},
			[]string{"saved 2 settings:\ndnd_mode=on\nfkey_label3=Alice\n"}},
		{"settings anywhere", "dnd_mode=off&settings=save",
			[]provisioning.UserChange{{Name: "dnd_mode", Value: "off"}}, []string{"saved 1 setting:\n"}},
		{"query-decoded, plus is a space", "settings=save&user_realname1=Front+Desk%21&fkey2=dest%20sip:200@pbx;user=phone",
			[]provisioning.UserChange{{Name: "user_realname1", Value: "Front Desk!"}, {Name: "fkey2", Value: "dest sip:200@pbx;user=phone"}}, nil},
		{"last value wins", "settings=save&dnd_mode=on&dnd_mode=off",
			[]provisioning.UserChange{{Name: "dnd_mode", Value: "off"}}, []string{"dnd_mode=off\n"}},
		{"secret not echoed", "settings=save&user_pass1=n3w-zz",
			[]provisioning.UserChange{{Name: "user_pass1", Value: "n3w-zz"}}, []string{"user_pass1=(secret, not shown)"}},
		{"nothing to save", "settings=save", nil, []string{"nothing to save"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			res := get(New(f, Options{}), "/dummy.htm?"+tt.query)
			b := body(t, res)
			eq(t, 200, res.StatusCode, b)
			eq(t, "text/plain; charset=utf-8", res.Header.Get("Content-Type"))
			var want []changeCall
			if tt.want != nil {
				want = []changeCall{{tt.want, "dummy.htm"}}
			}
			eq(t, want, f.takeChanges())
			contains(t, b, tt.reply...)
			lacks(t, b, "n3w-zz")
		})
	}
}

func TestDummyBad(t *testing.T) {
	long := "settings=save&fkey_label1=" + strings.Repeat("x", maxQueryLen)
	tests := []struct {
		name, query string
		hdr         []string
		code        int
		msg         string
	}{
		{"settings missing", "dnd_mode=on", nil, 400, "needs settings=save"},
		{"nothing at all", "", nil, 400, "needs settings=save"},
		{"settings not save", "settings=load&dnd_mode=on", nil, 400, `unknown settings="load"`},
		{"bad escape", "settings=save&dnd_mode=%zz", nil, 400, "percent-encoding"},
		{"too long", long, nil, 400, "too long"},
		{"other origin", "settings=save&dnd_mode=on", []string{"Origin", "http://evil.example"}, 403, "cross-origin"},
		{"cross-site", "settings=save&dnd_mode=on", []string{"Sec-Fetch-Site", "cross-site"}, 403, "cross-origin"},
		{"foreign referer", "settings=save&dnd_mode=on", []string{"Referer", "http://evil.example/x"}, 403, "cross-origin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			res := get(New(f, Options{}), "/dummy.htm?"+tt.query, tt.hdr...)
			b := body(t, res)
			eq(t, tt.code, res.StatusCode, b)
			contains(t, b, tt.msg)
			eq(t, 0, len(f.takeChanges()))
		})
	}
	t.Run("an error finding saves nothing", func(t *testing.T) {
		f := newFake()
		f.findings = []provisioning.Finding{
			{Severity: provisioning.Warning, Source: sourceDummy, Name: "dnd_mod", Message: "unknown setting (did you mean dnd_mode?), kept but not used"},
			{Severity: provisioning.Error, Source: sourceDummy, Name: "user_expiry1", Message: `"abc": want a number from 30 to 86400`},
		}
		res := get(New(f, Options{}), "/dummy.htm?settings=save&dnd_mod=on&user_expiry1=abc")
		b := body(t, res)
		eq(t, 400, res.StatusCode, b)
		contains(t, b, "nothing was saved", `dummy.htm: error: user_expiry1: "abc": want a number`, "did you mean dnd_mode?")
		eq(t, 1, len(f.takeChanges()))
		eq(t, "3600", f.Settings().Get("user_expiry1"))
	})
	t.Run("the phone is gone", func(t *testing.T) {
		f := newFake()
		f.changeErr = errors.New("device: stopped")
		res := get(New(f, Options{}), "/dummy.htm?settings=save&dnd_mode=on")
		eq(t, 503, res.StatusCode, body(t, res))
	})
	t.Run("PUT", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPut, "/dummy.htm?settings=save&dnd_mode=on", nil)
		r.Host = "127.0.0.1"
		w := httptest.NewRecorder()
		New(newFake(), Options{}).ServeHTTP(w, r)
		eq(t, 405, w.Code)
	})
}

// TestAuthFollowsHTTPPass: the phone's http_pass in force counts at
// once; Options only while it is empty.
func TestAuthFollowsHTTPPass(t *testing.T) {
	try := func(h http.Handler, host, user, pass string) int {
		r := httptest.NewRequest(http.MethodGet, "/api/state", nil)
		r.Host = host
		if user != "" || pass != "" {
			r.SetBasicAuth(user, pass)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	const ip, name = "127.0.0.1:8080", "desk.example:8080"

	f := newFake()
	h := New(f, Options{})
	eq(t, 200, try(h, ip, "", ""), "no password anywhere")
	eq(t, 403, try(h, name, "", ""), "host names need a password")

	// a password arrives while running (say from the setting server)
	f.set("http_pass", "n3w", provisioning.Meta{Source: provisioning.FromServer, Origin: "http://prov.example/a.xml"})
	eq(t, 401, try(h, ip, "", ""))
	eq(t, 401, try(h, ip, "x", "wrong"))
	eq(t, 200, try(h, ip, "anyone", "n3w"), "http_user empty: any user")
	eq(t, 401, try(h, name, "", ""), "with a password, auth protects host names")
	eq(t, 200, try(h, name, "anyone", "n3w"))

	f.set("http_user", "admin", provisioning.Meta{Source: provisioning.FromServer})
	eq(t, 401, try(h, ip, "anyone", "n3w"))
	eq(t, 200, try(h, ip, "admin", "n3w"))

	// changed through the form: the next request needs the new one
	res := func() *http.Response {
		r := httptest.NewRequest(http.MethodPost, "/settings.htm", strings.NewReader("http_pass=changed"))
		r.Host = ip
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth("admin", "n3w")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Result()
	}()
	rb := body(t, res)
	eq(t, 200, res.StatusCode, rb)
	lacks(t, rb, "changed")
	eq(t, 401, try(h, ip, "admin", "n3w"))
	eq(t, 200, try(h, ip, "admin", "changed"))

	t.Run("Options while the phone has none", func(t *testing.T) {
		f := newFake()
		h := New(f, Options{User: "root", Pass: "old"})
		eq(t, 200, try(h, ip, "root", "old"))
		f.set("http_pass", "n3w", provisioning.Meta{Source: provisioning.FromUser})
		eq(t, 401, try(h, ip, "root", "old"), "the start-up password no longer works")
		eq(t, 200, try(h, ip, "who", "n3w"), "the phone's http_user (empty) goes with its http_pass")
		f.set("http_pass", "", provisioning.Meta{Source: provisioning.FromUser})
		eq(t, 200, try(h, ip, "root", "old"), "cleared: back to the start-up password, never to none")
		eq(t, 401, try(h, ip, "", ""))
	})
}

func TestSettingsHostile(t *testing.T) {
	f := newFake()
	must(f.settings.SetFrom("user_realname1", hostile, provisioning.Meta{Source: provisioning.FromFile, Origin: "evil\x1b[2J<script>.xml"}))
	must(f.settings.Set("fkey_label2", hostile))
	must(f.settings.Set("dnd_mode", hostile)) // not a select value: shown as an extra option
	must(f.settings.Set("x_"+"evil", hostile))
	f.refuse["user_host1"] = "read-only " + hostile
	h := New(f, Options{})
	res := get(h, "/settings.htm")
	b := body(t, res)
	check := func(what, b string) {
		t.Helper()
		if strings.Contains(b, "<script>") || strings.Contains(b, "\x1b") {
			t.Errorf("%s shows the value raw", what)
		}
		if !strings.Contains(b, `\x1b[2J`) {
			t.Errorf("%s does not show the value inert", what)
		}
	}
	check("settings page", b)
	contains(t, b, `<option value="\x1b[2J&lt;script&gt;alert(1)&lt;/script&gt;&amp;x=1" selected>`)

	// the page posted back untouched changes nothing, though the values
	// shown are not the values in force
	post(h, "/settings.htm", encode(formOf(t, b)))
	eq(t, 0, len(f.takeChanges()))

	// a refused save shows the user's hostile input and findings inert
	f.findings = []provisioning.Finding{{Severity: provisioning.Error, Source: sourceForm, Name: "fkey_label3", Message: "value holds a control character " + hostile}}
	res = post(h, "/settings.htm", "fkey_label3="+url.QueryEscape(hostile))
	eq(t, 400, res.StatusCode)
	check("refused save", body(t, res))
	f.findings = nil
	f.takeChanges()

	// dummy.htm's plain-text answer
	res = get(h, "/dummy.htm?settings=save&fkey_label3="+url.QueryEscape(hostile))
	db := body(t, res)
	eq(t, 200, res.StatusCode)
	eq(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	if strings.Contains(db, "\x1b") || !strings.Contains(db, `\x1b[2J`) {
		t.Errorf("dummy.htm reply not inert: %q", db)
	}
	f.findings = []provisioning.Finding{{Severity: provisioning.Error, Source: sourceDummy, Name: "fkey_label3", Message: "bad " + hostile}}
	db = body(t, get(h, "/dummy.htm?settings=save&fkey_label3="+url.QueryEscape(hostile)))
	if strings.Contains(db, "\x1b") {
		t.Errorf("dummy.htm error not inert: %q", db)
	}
}

func TestBlankPassword(t *testing.T) {
	for in, want := range map[string]string{
		"http://u:pw@h/x":         "http://u:@h/x",
		"http://u@h/x":            "http://u@h/x",
		"http://h/x?a=b@c":        "http://h/x?a=b@c",
		"url https://a:b@h:8/p":   "url https://a:@h:8/p",
		"http://u:@h/":            "http://u:@h/",
		"plain text with @ and :": "plain text with @ and :",
	} {
		eq(t, want, blankPassword(in), in)
	}
}
