//go:build chromium

// The click-to-dial rules in a real browser: headless Chromium loads a
// "CRM" page on one loopback origin that dials on the phone on another.
//
//	go test -tags chromium -run TestChromium ./webui/
//
// Needs chromium (Debian: apt-get install chromium); skipped without it.

package webui

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"phonesim/firmware"
	"phonesim/provisioning"
)

func chromiumBinary(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH (Debian: apt-get install chromium)")
	return ""
}

// dumpDOM loads url in a fresh headless Chromium and returns the DOM once
// the page, its navigations and its fetches have settled.
func dumpDOM(t *testing.T, bin, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=10000", "--dump-dom", url)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return string(out)
}

// TestChromiumClickToDial serves docs/examples/click-to-dial.html as the
// CRM's page on http://localhost:PORT (another site than the phone's
// http://127.0.0.1:PORT), and a page that navigates to the command URL
// with the credentials in it, as CRMs configured with a snom URL
// template do.
func TestChromiumClickToDial(t *testing.T) {
	bin := chromiumBinary(t)
	example, err := os.ReadFile("../docs/examples/click-to-dial.html")
	if err != nil {
		t.Fatal(err)
	}

	f := newFake()
	var mu sync.Mutex
	var seen []string // what reached the phone: "METHOD site origin-or-referer -> status"
	h := New(f, Options{})
	phone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: 200}
		h.ServeHTTP(rec, r)
		from := r.Header.Get("Origin")
		if from == "" {
			from = "referer=" + r.Header.Get("Referer")
		}
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%s %s site=%s %s auth=%v -> %d", r.Method, r.URL.Path, r.Header.Get("Sec-Fetch-Site"), from, r.Header.Get("Authorization") != "", rec.code))
		mu.Unlock()
	}))
	defer phone.Close()
	requests := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := seen
		seen = nil
		return out
	}
	phoneURL := phone.URL // http://127.0.0.1:PORT

	crmPages := map[string]string{}
	// the example page, told where the phone is, clicks its first link
	click := func(user, pass string) string {
		script := `<script>
document.getElementById('phone').value = '` + phoneURL + `';
document.getElementById('user').value = '` + user + `';
document.getElementById('pass').value = '` + pass + `';
document.getElementById('phone').dispatchEvent(new Event('input'));
document.querySelector('a.dial').click();
</script>
</body>`
		return strings.Replace(string(example), "</body>", script, 1)
	}
	crmPages["/example-good.html"] = click("admin", "s3cret")
	crmPages["/example-wrong.html"] = click("admin", "wrong")
	navigate := func(number string) string {
		return `<!doctype html><title>CRM</title><script>location.href = '` +
			strings.Replace(phoneURL, "http://", "http://admin:s3cret@", 1) + `/command.htm?number=` + number + `';</script>`
	}
	crmPages["/nav-201.html"] = navigate("201")
	crmPages["/nav-202.html"] = navigate("202")
	crmPages["/nav-203.html"] = navigate("203")

	// the pages are made before the server starts: it only reads them
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, ok := crmPages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	}))
	defer crm.Close()
	crmOrigin := strings.Replace(crm.URL, "127.0.0.1", "localhost", 1)

	set := func(name, value string) { f.set(name, value, provisioning.Meta{}) }
	dialed := func() []string {
		var out []string
		for _, ev := range f.takePosted() {
			if n, ok := ev.(firmware.NumberDialed); ok {
				out = append(out, n.Number)
			}
		}
		return out
	}

	set("http_user", "admin")
	set("http_pass", "s3cret")
	set("http_allowed_origins", "https://crm.example.com "+crmOrigin)

	t.Run("fetch from a listed origin", func(t *testing.T) {
		dom := dumpDOM(t, bin, crmOrigin+"/example-good.html")
		eq(t, []string{"200"}, dialed())
		eq(t, []string{
			"OPTIONS /command.htm site=cross-site " + crmOrigin + " auth=false -> 204",
			"GET /command.htm site=cross-site " + crmOrigin + " auth=true -> 200",
		}, requests())
		if !strings.Contains(dom, "Dialing 200") {
			t.Errorf("the page does not say it dials:\n%s", dom)
		}
	})
	t.Run("fetch with a wrong password", func(t *testing.T) {
		dom := dumpDOM(t, bin, crmOrigin+"/example-wrong.html")
		eq(t, 0, len(dialed()))
		eq(t, []string{
			"OPTIONS /command.htm site=cross-site " + crmOrigin + " auth=false -> 204",
			"GET /command.htm site=cross-site " + crmOrigin + " auth=true -> 401",
		}, requests())
		if !strings.Contains(dom, "The phone refused (401)") {
			t.Errorf("the page does not show the 401:\n%s", dom)
		}
	})
	t.Run("navigation with credentials from a listed origin", func(t *testing.T) {
		dom := dumpDOM(t, bin, crmOrigin+"/nav-201.html")
		eq(t, []string{"201"}, dialed())
		// the browser asks without the credentials first, then with them
		eq(t, []string{
			"GET /command.htm site=cross-site referer=" + crmOrigin + "/ auth=false -> 401",
			"GET /command.htm site=cross-site referer=" + crmOrigin + "/ auth=true -> 200",
		}, requests())
		if !strings.Contains(dom, "number 201") {
			t.Errorf("not the phone's OK page:\n%s", dom)
		}
	})

	set("http_allowed_origins", "https://crm.example.com")
	t.Run("navigation from an origin not listed", func(t *testing.T) {
		dom := dumpDOM(t, bin, crmOrigin+"/nav-202.html")
		eq(t, 0, len(dialed()))
		eq(t, []string{
			"GET /command.htm site=cross-site referer=" + crmOrigin + "/ auth=false -> 401",
			"GET /command.htm site=cross-site referer=" + crmOrigin + "/ auth=true -> 403",
		}, requests())
		if !strings.Contains(dom, "is not in http_allowed_origins") || !strings.Contains(dom, crmOrigin) {
			t.Errorf("the refusal does not name the origin and the setting:\n%s", dom)
		}
	})
	t.Run("fetch from an origin not listed", func(t *testing.T) {
		dom := dumpDOM(t, bin, crmOrigin+"/example-good.html")
		eq(t, 0, len(dialed()))
		// the preflight is refused, so the fetch fails and the page falls
		// back to opening a window (a popup headless Chromium blocks)
		eq(t, []string{"OPTIONS /command.htm site=cross-site " + crmOrigin + " auth=false -> 403"}, requests())
		if !strings.Contains(dom, "Opened the phone to dial 200") {
			t.Errorf("the page did not fall back to opening the phone:\n%s", dom)
		}
	})

	set("http_allowed_origins", crmOrigin)
	set("http_pass", "")
	t.Run("listed, but the phone has no password", func(t *testing.T) {
		dom := dumpDOM(t, bin, crmOrigin+"/nav-203.html")
		eq(t, 0, len(dialed()))
		eq(t, []string{"GET /command.htm site=cross-site referer=" + crmOrigin + "/ auth=false -> 403"}, requests())
		if !strings.Contains(dom, "no http_pass") {
			t.Errorf("the refusal does not say why:\n%s", dom)
		}
	})
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
