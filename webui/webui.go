// Package webui is the phone's own web server: the log and settings pages,
// snom's remote control (/command.htm), and a JSON state and event API for
// scripts. New returns an http.Handler; the caller listens (after
// CheckListen) and owns the server.
//
// Paths (the interface contract; see docs/web.md):
//
//	GET /                 a small overview page: display, calls, keys, links
//	GET /log.htm          the phone log (HTML), GET /log.txt (plain text, one line per entry)
//	GET /settings.htm     the settings as a form, grouped like a snom phone's pages; secrets never shown
//	POST /settings.htm    save the form (the fields that differ from the settings in force),
//	                      or action=reprovision: fetch the setting server now
//	GET /dummy.htm        ?settings=save&NAME=VALUE...   (snom's script form of saving settings)
//	GET /command.htm      ?key=K[;K...]  ?number=N  ?key_dtmf=D   (snom remote control)
//	GET /ladder.htm       the last calls' SIP messages as a ladder diagram
//	GET /api/state        the phone's state as JSON (type State)
//	GET /api/events       Server-Sent Events: phone notices and log lines
//
// Security: with a password (the phone's http_pass in force, else
// Options.Pass) every request needs HTTP Basic auth. /command.htm,
// /dummy.htm and POST /settings.htm refuse requests a browser sends on
// behalf of a page of another origin, unless that origin is listed in the
// phone's http_allowed_origins, the phone has a password and the request
// carries valid credentials (click-to-dial from a CRM page); /command.htm
// answers such origins' CORS preflights and requests with CORS headers.
// Without a password the handler answers only to IP
// addresses, localhost and Options.Hosts, so a DNS-rebinding page cannot
// reach it by name. Every value shown on a page is HTML-escaped by
// html/template and made inert (phonelog.Inert).
package webui

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"phonesim/firmware"
	"phonesim/phonelog"
	"phonesim/provisioning"
)

// Phone is what the web interface needs from the phone; the device loop
// implements it.
type Phone interface {
	View() firmware.View              // a snapshot, safe from any goroutine
	Settings() *provisioning.Settings // a snapshot copy
	Post(ev firmware.Event) error     // hand an event to the phone's loop; error when the loop is gone
	Log() *phonelog.Log
	Events() (<-chan Notice, func()) // subscribe to phone events for /api/events; the func unsubscribes

	// ChangeSettings applies the user's changes all or nothing, checked
	// against the schema and each setting's perm; with an error finding
	// nothing changed. The error is only for a phone that is not running.
	ChangeSettings(changes []provisioning.UserChange, source string) ([]provisioning.Finding, error)
	Refuses(name string) string // why the user may not change name ("" when they may)
	Reprovision() error         // fetch the setting server now; the outcome goes to the log
	Setting(name string) string // one setting in force, cheap (read on every request)
}

// Notice is one phone event for /api/events: sent as "event: Kind" with
// Data encoded as JSON. Kind should be a short word ("state", "call",
// "fetch", ...); characters other than letters, digits and "_.:-" are
// replaced by "_".
type Notice struct {
	Kind string
	Data any
}

// Options configure the web interface.
type Options struct {
	// User and Pass are the HTTP Basic credentials (snom's http_user and
	// http_pass) used while the phone's own http_pass is empty: when the
	// phone reports a non-empty http_pass (provisioned or changed while
	// running), its http_user and http_pass are asked instead. With no
	// password at all no authentication is asked; with the user name
	// empty any user name is accepted with the right password.
	User, Pass string
	// Hosts are extra host names (besides IP addresses and localhost)
	// the interface answers to when Pass is empty.
	Hosts []string
}

// keepalive is how often /api/events sends a comment to keep idle
// connections (and proxies) alive.
const keepalive = 15 * time.Second

// maxStreams is how many /api/events streams may be open at once.
const maxStreams = 32

type handler struct {
	phone     Phone
	opt       Options
	keepalive time.Duration
	streams   chan struct{} // a slot per open /api/events stream
	hub       *hub          // the phone's event stream: ids and replay, shared by the streams
	mux       *http.ServeMux
}

// New returns the web interface of p.
func New(p Phone, opt Options) http.Handler {
	return newHandler(p, opt)
}

func newHandler(p Phone, opt Options) *handler {
	h := &handler{
		phone:     p,
		opt:       opt,
		keepalive: keepalive,
		streams:   make(chan struct{}, maxStreams),
		hub:       newHub(p),
		mux:       http.NewServeMux(),
	}
	h.mux.HandleFunc("GET /{$}", h.index)
	h.mux.HandleFunc("GET /log.htm", h.logPage)
	h.mux.HandleFunc("GET /log.txt", h.logText)
	h.mux.HandleFunc("GET /settings.htm", h.settingsPage)
	h.mux.HandleFunc("POST /settings.htm", h.saveSettings)
	h.mux.HandleFunc("/dummy.htm", h.dummy)
	h.mux.HandleFunc("/command.htm", h.command)
	h.mux.HandleFunc("GET /api/state", h.state)
	h.mux.HandleFunc("GET /api/events", h.events)
	h.mux.HandleFunc("GET /ladder.htm", h.ladder) // ladder.go: the last calls' SIP flow (a Phone implementing Ladder)
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cache-Control", "no-store")

	user, pass := h.credentials()
	if pass == "" && !h.hostAllowed(r.Host) {
		http.Error(w, "webui: host name "+quote(r.Host)+" is not allowed without a password (DNS rebinding protection): use an IP address or localhost, or set http_pass", http.StatusForbidden)
		return
	}
	if r.URL.Path == "/command.htm" {
		hd.Add("Vary", "Origin")
		if o := h.corsOrigin(r, pass); o != "" {
			// a page of a listed origin may read the answer (fetch with credentials)
			hd.Set("Access-Control-Allow-Origin", o)
			hd.Set("Access-Control-Allow-Credentials", "true")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				preflight(w, r) // browsers send no credentials with it
				return
			}
		} else if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			_, why := foreignPage(r)
			if why == "" {
				why = "CORS preflight"
			}
			http.Error(w, "webui: cross-origin command refused: "+h.refusal(r, why), http.StatusForbidden)
			return
		}
	}
	if pass != "" && !authorized(r, user, pass) {
		hd.Set("WWW-Authenticate", `Basic realm="phonesim", charset="UTF-8"`)
		http.Error(w, "webui: authentication required", http.StatusUnauthorized)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// credentials returns the user name and password in force: the phone's
// http_user and http_pass when its http_pass is not empty (so a password
// provisioned or changed while running counts at once), else Options'.
// Clearing http_pass while running therefore falls back to the password
// the interface started with, never to none.
func (h *handler) credentials() (user, pass string) {
	if p := h.phone.Setting("http_pass"); p != "" {
		return h.phone.Setting("http_user"), p
	}
	return h.opt.User, h.opt.Pass
}

// authorized checks a request's HTTP Basic credentials against user and
// pass in constant time (comparing hashes, so the lengths do not leak
// either). An empty user accepts any user name.
func authorized(r *http.Request, user, pass string) bool {
	gotUser, gotPass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	gu, wu := sha256.Sum256([]byte(gotUser)), sha256.Sum256([]byte(user))
	gp, wp := sha256.Sum256([]byte(gotPass)), sha256.Sum256([]byte(pass))
	okUser := subtle.ConstantTimeCompare(gu[:], wu[:])
	if user == "" {
		okUser = 1
	}
	okPass := subtle.ConstantTimeCompare(gp[:], wp[:])
	return okUser&okPass == 1
}

// hostAllowed reports whether a request's Host may be answered without a
// password. A DNS-rebinding attack needs a host name of the attacker's, so
// IP literals are safe; names are not, except localhost and the configured
// ones.
func (h *handler) hostAllowed(hostport string) bool {
	host := hostport
	if hp, _, err := net.SplitHostPort(hostport); err == nil {
		host = hp
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" || net.ParseIP(host) != nil {
		return true
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	for _, a := range h.opt.Hosts {
		if strings.EqualFold(strings.TrimSuffix(a, "."), host) {
			return true
		}
	}
	return false
}

// crossOrigin returns why a state-changing request (/command.htm,
// /dummy.htm, POST /settings.htm) looks like one a browser sent for a
// page of another origin and may not be carried out, or "" when it may.
// Requests without Sec-Fetch-Site, Origin and Referer (curl, scripts) and
// same-origin ones pass. A request of another origin passes only when that origin
// is listed in the phone's http_allowed_origins (read now, so a change
// applies to the next request), the phone has a password in force, and
// the request carries valid credentials. Otherwise it says why, naming
// the origin and the setting.
func (h *handler) crossOrigin(r *http.Request) string {
	origin, why := foreignPage(r)
	if why == "" {
		return ""
	}
	if o := normalOrigin(origin); o != "" && h.originListed(o) {
		if user, pass := h.credentials(); pass != "" && authorized(r, user, pass) {
			return ""
		}
	}
	return h.refusal(r, why)
}

// refusal explains why a request of another origin is refused.
func (h *handler) refusal(r *http.Request, why string) string {
	origin, _ := foreignPage(r)
	o := normalOrigin(origin)
	switch {
	case origin == "":
		return why + "; the page's origin is unknown (no Origin or Referer), and only pages of origins listed in http_allowed_origins are heard"
	case o == "":
		return why + ": origin " + quote(origin) + " cannot be allowed (http_allowed_origins lists http and https origins)"
	case !h.originListed(o):
		msg := why + ": origin " + quote(o) + " is not in http_allowed_origins"
		if _, bad := h.allowedOrigins(); len(bad) > 0 {
			msg += " (entries that are not origins are ignored: " + quote(strings.Join(bad, " ")) + ")"
		}
		return msg
	}
	user, pass := h.credentials()
	if pass == "" {
		return why + ": origin " + quote(o) + " is in http_allowed_origins, but the phone has no http_pass: requests of other origins are carried out only with a password"
	}
	if !authorized(r, user, pass) {
		return why + ": origin " + quote(o) + " is in http_allowed_origins, but the request has no valid credentials"
	}
	return why
}

// foreignPage tells whether r looks like a request a browser sent for a
// page of another origin: why is "" when it does not (no browser headers,
// the same origin, typed in the address bar). origin is the page's origin
// as the request names it (Origin, else the Referer's scheme and host),
// "" when it names none.
func foreignPage(r *http.Request) (origin, why string) {
	o, ref := r.Header.Get("Origin"), r.Header.Get("Referer")
	origin = o
	if origin == "" && ref != "" {
		origin = refererOrigin(ref)
	}
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return origin, "Sec-Fetch-Site is " + quote(site)
	}
	if o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
			return origin, "Origin " + quote(o) + " is not this phone (" + quote(r.Host) + ")"
		}
		return "", ""
	}
	if ref != "" {
		u, err := url.Parse(ref)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return origin, "Referer is not this phone (" + quote(r.Host) + ")"
		}
	}
	return "", ""
}

// refererOrigin is the scheme://host[:port] of a Referer, "" when it has none.
func refererOrigin(ref string) string {
	u, err := url.Parse(ref)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// normalOrigin returns an origin (or an entry of http_allowed_origins) as
// scheme://host[:port]: scheme and host in lower case, the default port
// (80 for http, 443 for https) left out. It returns "" for anything else:
// other schemes, "null", user info, a path other than "/", a query, a
// wildcard.
func normalOrigin(s string) string {
	if s == "" || strings.ContainsAny(s, "*\\") {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" || u.User != nil ||
		u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return ""
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" {
		return ""
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return ""
		}
		port = strconv.Itoa(n)
		if u.Scheme == "http" && n == 80 || u.Scheme == "https" && n == 443 {
			port = ""
		}
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return u.Scheme + "://" + host
}

// allowedOrigins reads http_allowed_origins now: the origins it lists,
// normalised, and the entries that are not origins (ignored).
func (h *handler) allowedOrigins() (ok, bad []string) {
	for _, e := range strings.Fields(h.phone.Setting("http_allowed_origins")) {
		if o := normalOrigin(e); o != "" {
			ok = append(ok, o)
		} else {
			bad = append(bad, e)
		}
	}
	return ok, bad
}

// originListed reports whether the normalised origin o is listed in
// http_allowed_origins (exactly: no wildcards, no subdomains).
func (h *handler) originListed(o string) bool {
	ok, _ := h.allowedOrigins()
	return slices.Contains(ok, o)
}

// corsOrigin returns the Origin of a /command.htm request to answer with
// CORS headers: a page's origin listed in http_allowed_origins while the
// phone has a password (pass). Such a page may fetch() the command with
// its credentials and read the answer; any other gets no CORS headers.
func (h *handler) corsOrigin(r *http.Request, pass string) string {
	o := r.Header.Get("Origin")
	if pass == "" || o == "" {
		return ""
	}
	if n := normalOrigin(o); n != "" && h.originListed(n) {
		return o
	}
	return ""
}

// preflight answers a CORS preflight (OPTIONS) for /command.htm from a
// listed origin; the Allow-Origin headers are set already. Browsers send
// it without credentials, so it is answered before authentication; it
// does nothing.
func preflight(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Access-Control-Allow-Methods", "GET, POST")
	hd.Set("Access-Control-Allow-Headers", "Authorization")
	hd.Set("Access-Control-Max-Age", "600")
	if r.Header.Get("Access-Control-Request-Private-Network") == "true" {
		hd.Set("Access-Control-Allow-Private-Network", "true")
	}
	w.WriteHeader(http.StatusNoContent)
}

// quote quotes network text for a plain-text error message.
func quote(s string) string {
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return `"` + phonelog.Inert(s) + `"`
}
