package webui

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"phonesim/firmware"
	"phonesim/provisioning"
)

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// crmPhone is a fake phone with a password and the given allowed origins.
func crmPhone(origins string) *fakePhone {
	f := newFake()
	f.set("http_user", "admin", provisioning.Meta{})
	f.set("http_pass", "s3cret", provisioning.Meta{})
	f.set("http_allowed_origins", origins, provisioning.Meta{})
	return f
}

const origins = "https://CRM.example.com http://127.0.0.1:9000 https://portal.example.com:443/ http://[::1]:8081 *.evil.example https://evil.example/path"

func TestAllowedOrigins(t *testing.T) {
	good := basic("admin", "s3cret")
	tests := []struct {
		name string
		hdr  []string
		want int
		msg  []string // in the answer
	}{
		{"listed origin, cross-site", []string{"Origin", "https://crm.example.com", "Sec-Fetch-Site", "cross-site", "Authorization", good}, 200, nil},
		{"listed origin, default port written out", []string{"Origin", "https://crm.example.com:443", "Authorization", good}, 200, nil},
		{"listed entry with a trailing slash and port 443", []string{"Origin", "https://portal.example.com", "Authorization", good}, 200, nil},
		{"host case does not matter", []string{"Origin", "https://Crm.Example.COM", "Authorization", good}, 200, nil},
		{"listed, same-site (another port)", []string{"Origin", "http://127.0.0.1:9000", "Sec-Fetch-Site", "same-site", "Authorization", good}, 200, nil},
		{"listed IPv6 origin", []string{"Origin", "http://[::1]:8081", "Sec-Fetch-Site", "cross-site", "Authorization", good}, 200, nil},
		{"navigation: Referer only", []string{"Referer", "https://crm.example.com/contacts?id=7", "Sec-Fetch-Site", "cross-site", "Authorization", good}, 200, nil},
		{"old browser: Referer only, no fetch metadata", []string{"Referer", "http://127.0.0.1:9000/x", "Authorization", good}, 200, nil},

		{"other scheme", []string{"Origin", "http://crm.example.com", "Sec-Fetch-Site", "cross-site", "Authorization", good}, 403,
			[]string{`origin "http://crm.example.com" is not in http_allowed_origins`}},
		{"other port", []string{"Origin", "https://crm.example.com:8443", "Authorization", good}, 403,
			[]string{`"https://crm.example.com:8443" is not in http_allowed_origins`}},
		{"a subdomain is another origin", []string{"Origin", "https://www.crm.example.com", "Authorization", good}, 403,
			[]string{"www.crm.example.com", "http_allowed_origins"}},
		{"no wildcards", []string{"Origin", "https://x.evil.example", "Sec-Fetch-Site", "cross-site", "Authorization", good}, 403,
			[]string{"not in http_allowed_origins", `entries that are not origins are ignored: "*.evil.example https://evil.example/path"`}},
		{"an entry with a path is no origin", []string{"Origin", "https://evil.example", "Authorization", good}, 403,
			[]string{`"https://evil.example" is not in http_allowed_origins`}},
		{"origin unknown (no Origin, no Referer)", []string{"Sec-Fetch-Site", "cross-site", "Authorization", good}, 403,
			[]string{`Sec-Fetch-Site is "cross-site"`, "origin is unknown", "http_allowed_origins"}},
		{"null origin", []string{"Origin", "null", "Sec-Fetch-Site", "cross-site", "Authorization", good}, 403,
			[]string{`origin "null" cannot be allowed`}},
		{"listed, no credentials", []string{"Origin", "https://crm.example.com", "Sec-Fetch-Site", "cross-site"}, 401, nil},
		{"listed, wrong password", []string{"Origin", "https://crm.example.com", "Sec-Fetch-Site", "cross-site", "Authorization", basic("admin", "nope")}, 401, nil},

		{"same origin still passes", []string{"Origin", "http://127.0.0.1:8080", "Sec-Fetch-Site", "same-origin", "Authorization", good}, 200, nil},
		{"curl still passes", []string{"Authorization", good}, 200, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := crmPhone(origins)
			res := get(New(f, Options{}), "/command.htm?number=200", tt.hdr...)
			b := body(t, res)
			eq(t, tt.want, res.StatusCode, b)
			if tt.want == 200 {
				eq(t, []firmware.Event{firmware.NumberDialed{Number: "200"}}, f.takePosted())
			} else {
				eq(t, 0, len(f.takePosted()), "nothing posted")
			}
			for _, m := range tt.msg {
				if !strings.Contains(b, m) {
					t.Errorf("answer %q lacks %q", b, m)
				}
			}
			if tt.want == 403 && !strings.HasPrefix(b, "webui: cross-origin command refused: ") {
				t.Errorf("answer %q", b)
			}
		})
	}
}

// TestAllowedOriginsNeedAPassword: a listed origin is heard only while the
// phone has a password in force (its http_pass, else the start-up one).
func TestAllowedOriginsNeedAPassword(t *testing.T) {
	f := newFake()
	f.set("http_allowed_origins", "https://crm.example.com", provisioning.Meta{})
	hdr := []string{"Origin", "https://crm.example.com", "Sec-Fetch-Site", "cross-site"}

	res := get(New(f, Options{}), "/command.htm?number=200", hdr...)
	b := body(t, res)
	eq(t, 403, res.StatusCode, b)
	for _, m := range []string{`origin "https://crm.example.com" is in http_allowed_origins`, "no http_pass"} {
		if !strings.Contains(b, m) {
			t.Errorf("answer %q lacks %q", b, m)
		}
	}
	eq(t, 0, len(f.takePosted()))

	// the password the interface started with counts
	res = get(New(f, Options{User: "admin", Pass: "start"}), "/command.htm?number=200", append(hdr, "Authorization", basic("admin", "start"))...)
	eq(t, 200, res.StatusCode, body(t, res))
	eq(t, 1, len(f.takePosted()))
}

// TestAllowedOriginsAtRunTime: the setting is read at each request.
func TestAllowedOriginsAtRunTime(t *testing.T) {
	f := crmPhone("")
	h := New(f, Options{})
	hdr := []string{"Origin", "https://crm.example.com", "Sec-Fetch-Site", "cross-site", "Authorization", basic("admin", "s3cret")}
	eq(t, 403, get(h, "/command.htm?number=1", hdr...).StatusCode)
	f.set("http_allowed_origins", "https://crm.example.com", provisioning.Meta{Source: provisioning.FromUser})
	eq(t, 200, get(h, "/command.htm?number=1", hdr...).StatusCode)
	f.set("http_allowed_origins", "", provisioning.Meta{Source: provisioning.FromUser})
	eq(t, 403, get(h, "/command.htm?number=1", hdr...).StatusCode)
	eq(t, 1, len(f.takePosted()))
}

// TestAllowedOriginsSettings: /dummy.htm and POST /settings.htm follow the
// same rules as /command.htm.
func TestAllowedOriginsSettings(t *testing.T) {
	good := basic("admin", "s3cret")
	for _, tt := range []struct {
		origin string
		want   int
	}{{"https://crm.example.com", 200}, {"https://other.example", 403}} {
		f := crmPhone("https://crm.example.com")
		h := New(f, Options{})
		hdr := []string{"Origin", tt.origin, "Sec-Fetch-Site", "cross-site", "Authorization", good}
		res := get(h, "/dummy.htm?settings=save&user_realname1=Desk", hdr...)
		b := body(t, res)
		eq(t, tt.want, res.StatusCode, tt.origin, b)
		if tt.want == 403 && !strings.Contains(b, "cross-origin settings change refused") {
			t.Errorf("answer %q", b)
		}

		r := httptest.NewRequest(http.MethodPost, "/settings.htm", strings.NewReader("user_realname1=Desk2"))
		r.Host = "127.0.0.1:8080"
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		eq(t, tt.want, w.Code, tt.origin, w.Body.String())
		changes := f.takeChanges()
		if tt.want == 200 {
			eq(t, 2, len(changes), "both saved")
		} else {
			eq(t, 0, len(changes), "nothing saved")
		}
	}
}

func TestCORS(t *testing.T) {
	const crm = "https://crm.example.com"
	preflight := func(h http.Handler, origin string, hdr ...string) *http.Response {
		r := httptest.NewRequest(http.MethodOptions, "/command.htm?number=200", nil)
		r.Host = "127.0.0.1:8080"
		r.Header.Set("Origin", origin)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		r.Header.Set("Access-Control-Request-Method", "GET")
		r.Header.Set("Access-Control-Request-Headers", "authorization")
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Result()
	}

	t.Run("preflight from a listed origin, without credentials", func(t *testing.T) {
		f := crmPhone(crm)
		res := preflight(New(f, Options{}), crm, "Access-Control-Request-Private-Network", "true")
		eq(t, 204, res.StatusCode, body(t, res))
		eq(t, crm, res.Header.Get("Access-Control-Allow-Origin"))
		eq(t, "true", res.Header.Get("Access-Control-Allow-Credentials"))
		eq(t, "GET, POST", res.Header.Get("Access-Control-Allow-Methods"))
		eq(t, "Authorization", res.Header.Get("Access-Control-Allow-Headers"))
		eq(t, "true", res.Header.Get("Access-Control-Allow-Private-Network"))
		eq(t, "Origin", res.Header.Get("Vary"))
		eq(t, 0, len(f.takePosted()), "a preflight does nothing")
	})
	t.Run("preflight from an origin not listed", func(t *testing.T) {
		f := crmPhone(crm)
		res := preflight(New(f, Options{}), "https://evil.example")
		b := body(t, res)
		eq(t, 403, res.StatusCode, b)
		eq(t, "", res.Header.Get("Access-Control-Allow-Origin"))
		if !strings.Contains(b, `"https://evil.example" is not in http_allowed_origins`) {
			t.Errorf("answer %q", b)
		}
	})
	t.Run("preflight without a password", func(t *testing.T) {
		f := newFake()
		f.set("http_allowed_origins", crm, provisioning.Meta{})
		res := preflight(New(f, Options{}), crm)
		eq(t, 403, res.StatusCode)
		eq(t, "", res.Header.Get("Access-Control-Allow-Origin"))
	})

	h := New(crmPhone(crm), Options{})
	for _, tt := range []struct {
		name, path string
		hdr        []string
		code       int
		allow      string
	}{
		{"command from a listed origin", "/command.htm?number=200", []string{"Origin", crm, "Authorization", basic("admin", "s3cret")}, 200, crm},
		{"its 401 is readable too", "/command.htm?number=200", []string{"Origin", crm}, 401, crm},
		{"not listed: no CORS", "/command.htm?number=200", []string{"Origin", "https://evil.example", "Authorization", basic("admin", "s3cret")}, 403, ""},
		{"only /command.htm", "/api/state", []string{"Origin", crm, "Authorization", basic("admin", "s3cret")}, 200, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := get(h, tt.path, append([]string{"Sec-Fetch-Site", "cross-site"}, tt.hdr...)...)
			eq(t, tt.code, res.StatusCode, body(t, res))
			eq(t, tt.allow, res.Header.Get("Access-Control-Allow-Origin"))
			if tt.allow != "" {
				eq(t, "true", res.Header.Get("Access-Control-Allow-Credentials"))
			}
		})
	}
}

func TestNormalOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://crm.example.com":          "https://crm.example.com",
		"https://crm.example.com/":         "https://crm.example.com",
		"HTTPS://CRM.Example.com:443":      "https://crm.example.com",
		"http://crm.example.com:80":        "http://crm.example.com",
		"http://crm.example.com:443":       "http://crm.example.com:443",
		"http://127.0.0.1:09000":           "http://127.0.0.1:9000",
		"http://[::1]:8081":                "http://[::1]:8081",
		"http://[::1]":                     "http://[::1]",
		"null":                             "",
		"":                                 "",
		"crm.example.com":                  "",
		"*":                                "",
		"https://*.example.com":            "",
		"ftp://crm.example.com":            "",
		"https://user@crm.example.com":     "",
		"https://crm.example.com/contacts": "",
		"https://crm.example.com/?a=1":     "",
		"https://crm.example.com:0":        "",
		"https://crm.example.com:99999":    "",
		"https://crm.example.com:x":        "",
	} {
		eq(t, want, normalOrigin(in), in)
	}
}
