// Package server fetches a phone's setting files from its setting server.
//
// A snom phone's setting_server setting names a URL it fetches at boot
// and every provisioning_interval minutes; the files found there may name
// further files (<setting-files><file url="..."/>). phonesim does the
// same so that a provisioning server can be tested against it: this
// package turns the setting_server value into URLs, fetches them over
// HTTP(S) with the phone's credentials, follows the chain of included
// files and parses every file with provisioning.Parse. It is defensive
// about the server (size caps, timeouts, redirect and include limits,
// credentials only to the setting server's own host) because a
// provisioning server under test is exactly the kind that misbehaves.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/icholy/digest"

	"phonesim/provisioning"
)

// Defaults for the zero values of Config.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultMaxDepth = 4
	DefaultMaxFiles = 16
	// MaxRedirects is how many redirects one file may take.
	MaxRedirects = 3
)

// Config says where the setting files are and how to fetch them.
type Config struct {
	// URL is the setting_server value. {mac} and {phone_type} (any case)
	// are replaced by MAC and PhoneType. A URL naming no file (empty path
	// or a path ending in "/") means the default pair
	// <phone_type>.xml and <phone_type>-<MAC>.xml in that folder. A
	// user:password in the URL is used as the credentials when User is
	// empty, and never sent in the URL itself.
	URL       string
	MAC       string // 12 hex digits; separators are dropped, sent upper-case
	PhoneType string // e.g. "snomD785"
	// User and Pass answer a 401 with Basic or Digest, whichever the
	// server asks for, and only from the setting server's own scheme,
	// host and port. May be empty.
	User, Pass string
	// Timeout bounds one setting file: connect, redirects, the
	// authentication retry and the whole body. Default 10 s.
	Timeout time.Duration
	// MaxDepth is how deep setting-files may nest: a start file is at
	// depth 0, the files it names at depth 1, and so on. Default 4.
	MaxDepth int
	// MaxFiles is how many files one Fetch may request, 404s included.
	// Default 16.
	MaxFiles int
	// Client is used instead of a client of Fetch's own (tests). Its
	// redirect policy is ignored: Fetch follows redirects itself so it
	// can count them and decide where credentials go.
	Client *http.Client

	// parse decodes a fetched file; nil is provisioning.Parse. Tests set
	// it to give flat files includes before the XML parser lands.
	parse func(data []byte, name string) (*provisioning.File, error)
}

// target is one start URL, with whether a 404 there is acceptable.
type target struct {
	u        *url.URL
	optional bool
}

// Targets lists the URLs Fetch starts from, for logs and tests: one URL,
// or the default pair when the setting_server URL names no file.
func Targets(c Config) ([]string, error) {
	ts, _, _, err := targets(c)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.u.String()
	}
	return out, nil
}

// Fetch fetches the setting files in order and parses them. It returns
// every parsed file in the order they apply (a file before the files it
// includes, depth-first; later files win), or an error naming the URL and
// why; on any error nothing is returned.
func Fetch(ctx context.Context, c Config) ([]*provisioning.File, error) {
	ts, user, pass, err := targets(c)
	if err != nil {
		return nil, err
	}
	f := &fetcher{
		c:       c,
		user:    user,
		pass:    pass,
		origin:  origin(ts[0].u),
		visited: map[string]bool{},
	}
	f.normalize()
	client := c.Client
	if client == nil {
		tr := newTransport(f.c.Timeout)
		// Idle keep-alive connections would outlive Fetch otherwise.
		defer tr.CloseIdleConnections()
		client = &http.Client{Transport: tr}
	}
	// A copy, so the caller's client keeps its own redirect policy.
	cl := *client
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	f.client = &cl

	found := 0
	for _, t := range ts {
		ok, err := f.fetchTree(ctx, t.u, nil, 0, t.optional)
		if err != nil {
			return nil, err
		}
		if ok {
			found++
		}
	}
	if found == 0 {
		// Only reachable in default mode: a named file's 404 is an error.
		names := make([]string, len(ts))
		for i, t := range ts {
			names[i] = t.u.String()
		}
		return nil, fmt.Errorf("setting server: neither %s found (404)", strings.Join(names, " nor "))
	}
	return f.files, nil
}

func newTransport(timeout time.Duration) *http.Transport {
	return &http.Transport{
		// No proxy from the environment: a phone has none of the
		// simulator host's.
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       30 * time.Second,
	}
}

// placeholder matches {mac} and {phone_type} in any case, as snom
// documents both {mac} and {MAC}.
// Compiled on first use: most phones never provision from a server.
var placeholder = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)\{(mac|phone_type)\}`)
})

// targets parses and checks the setting_server URL and expands it into
// the start URLs. It also returns the credentials, taken from the URL's
// user info when Config.User is empty.
func targets(c Config) ([]target, string, string, error) {
	raw := strings.TrimSpace(c.URL)
	if raw == "" {
		return nil, "", "", errors.New("setting server: no URL (setting_server is empty)")
	}
	s, err := substitute(raw, c)
	if err != nil {
		return nil, "", "", err
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, "", "", fmt.Errorf("setting server: bad URL %q: %v", redactRaw(s), unwrapURLError(err))
	}
	user, pass := c.User, c.Pass
	if u.User != nil {
		if user == "" {
			user = u.User.Username()
			pass, _ = u.User.Password()
		}
		u.User = nil
	}
	if err := checkURL(u); err != nil {
		return nil, "", "", err
	}
	u.Fragment, u.RawFragment = "", ""
	if p := u.EscapedPath(); p != "" && !strings.HasSuffix(p, "/") {
		return []target{{u: u}}, user, pass, nil
	}
	// Default mode: the model's file, then the phone's own (later wins).
	mac, err := normalizeMAC(c.MAC)
	if err != nil {
		return nil, "", "", err
	}
	if c.PhoneType == "" {
		return nil, "", "", fmt.Errorf("setting server: %s names no file and the phone type is unknown", u)
	}
	pt := url.PathEscape(c.PhoneType)
	var ts []target
	for _, name := range []string{pt + ".xml", pt + "-" + mac + ".xml"} {
		// "./" so that a colon in the name is not read as a scheme.
		ref, err := url.Parse("./" + name)
		if err != nil {
			return nil, "", "", fmt.Errorf("setting server: bad phone type %q", c.PhoneType)
		}
		t := u.ResolveReference(ref)
		t.RawQuery = u.RawQuery
		ts = append(ts, target{u: t, optional: true})
	}
	return ts, user, pass, nil
}

// substitute replaces {mac} and {phone_type}, escaping the value for the
// part of the URL it lands in (path or query).
func substitute(s string, c Config) (string, error) {
	query := strings.IndexByte(s, '?')
	var b strings.Builder
	last := 0
	for _, loc := range placeholder().FindAllStringIndex(s, -1) {
		b.WriteString(s[last:loc[0]])
		var v string
		if strings.EqualFold(s[loc[0]:loc[1]], "{mac}") {
			mac, err := normalizeMAC(c.MAC)
			if err != nil {
				return "", err
			}
			v = mac
		} else {
			if c.PhoneType == "" {
				return "", errors.New("setting server: the URL uses {phone_type} but the phone type is unknown")
			}
			v = c.PhoneType
		}
		if query >= 0 && loc[0] > query {
			v = url.QueryEscape(v)
		} else {
			v = url.PathEscape(v)
		}
		b.WriteString(v)
		last = loc[1]
	}
	b.WriteString(s[last:])
	return b.String(), nil
}

// normalizeMAC drops separators and upper-cases, as snom sends it.
func normalizeMAC(mac string) (string, error) {
	m := strings.ToUpper(strings.NewReplacer(":", "", "-", "", ".", "").Replace(strings.TrimSpace(mac)))
	if len(m) != 12 {
		return "", fmt.Errorf("setting server: MAC %q is not 12 hex digits", mac)
	}
	for _, r := range m {
		if !('0' <= r && r <= '9' || 'A' <= r && r <= 'F') {
			return "", fmt.Errorf("setting server: MAC %q is not 12 hex digits", mac)
		}
	}
	return m, nil
}

// checkURL refuses anything a phone would not fetch.
func checkURL(u *url.URL) error {
	switch u.Scheme {
	case "http", "https":
	case "":
		return fmt.Errorf("setting server: %s: no scheme (want http:// or https://)", u)
	default:
		return fmt.Errorf("setting server: %s: unsupported scheme %q (want http or https)", u, u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("setting server: %s: no host", u)
	}
	return nil
}

// origin is scheme://host:port, what credentials are bound to.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return u.Scheme + "://" + strings.ToLower(net.JoinHostPort(u.Hostname(), port))
}

// redactRaw hides a password in a URL that did not parse.
func redactRaw(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndexByte(rest[:end], '@'); at >= 0 {
			return s[:i+3] + "…@" + rest[at+1:]
		}
	}
	return s
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

type fetcher struct {
	c          Config
	user, pass string
	origin     string // the setting server's; credentials go nowhere else
	client     *http.Client
	visited    map[string]bool
	requested  int
	files      []*provisioning.File
}

func (f *fetcher) normalize() {
	if f.c.Timeout <= 0 {
		f.c.Timeout = DefaultTimeout
	}
	if f.c.MaxDepth <= 0 {
		f.c.MaxDepth = DefaultMaxDepth
	}
	if f.c.MaxFiles <= 0 {
		f.c.MaxFiles = DefaultMaxFiles
	}
	if f.c.parse == nil {
		f.c.parse = provisioning.Parse
	}
}

// errNotFound marks a 404, which default mode forgives.
var errNotFound = errors.New("404 Not Found")

// fetchTree fetches u and then, depth-first, the files it includes.
// chain holds the URLs that led here, for loop messages. It reports
// false (and no error) for an optional file that is not there.
func (f *fetcher) fetchTree(ctx context.Context, u *url.URL, chain []string, depth int, optional bool) (bool, error) {
	key := u.String()
	for i, c := range chain {
		if c == key {
			return false, fmt.Errorf("setting server: include loop: %s", strings.Join(append(chain[i:len(chain):len(chain)], key), " -> "))
		}
	}
	if f.visited[key] {
		via := "as a start file"
		if len(chain) > 0 {
			via = "via " + strings.Join(chain, " -> ")
		}
		return false, fmt.Errorf("setting server: %s: fetched twice in one provisioning (%s)", key, via)
	}
	if depth > f.c.MaxDepth {
		return false, fmt.Errorf("setting server: %s: setting-files nested deeper than %d (%s)", key, f.c.MaxDepth, strings.Join(append(chain[:len(chain):len(chain)], key), " -> "))
	}
	if f.requested >= f.c.MaxFiles {
		return false, fmt.Errorf("setting server: %s: more than %d setting files in one provisioning", key, f.c.MaxFiles)
	}
	f.requested++
	f.visited[key] = true

	data, final, err := f.get(ctx, u)
	if err != nil {
		if errors.Is(err, errNotFound) && optional {
			return false, nil
		}
		return false, err
	}
	// Content that arrived by a redirect is where it came from; includes
	// resolve against it, as a browser's would.
	name := final.String()
	if name != key {
		f.visited[name] = true
	}
	file, err := f.c.parse(data, name)
	if err != nil {
		return false, fmt.Errorf("setting server: %w", err)
	}
	f.files = append(f.files, file)

	chain = append(chain[:len(chain):len(chain)], key)
	for _, inc := range file.Includes {
		iu, err := f.resolve(final, inc.URL)
		if err != nil {
			where := name
			if inc.Line > 0 {
				where = fmt.Sprintf("%s:%d", name, inc.Line)
			}
			return false, fmt.Errorf("setting server: %s: include %q: %w", where, redactRaw(inc.URL), err)
		}
		if _, err := f.fetchTree(ctx, iu, chain, depth+1, false); err != nil {
			return false, err
		}
	}
	return true, nil
}

// resolve turns an include's URL into an absolute one relative to base.
func (f *fetcher) resolve(base *url.URL, ref string) (*url.URL, error) {
	s, err := substitute(strings.TrimSpace(ref), f.c)
	if err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "setting server: "))
	}
	r, err := url.Parse(s)
	if err != nil {
		return nil, unwrapURLError(err)
	}
	u := base.ResolveReference(r)
	// Credentials in an include's URL are not ours to send around.
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	if err := checkURL(u); err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "setting server: "))
	}
	return u, nil
}

// get fetches one file, following redirects and answering one 401, all
// within Timeout. It returns the body and the URL it finally came from.
func (f *fetcher) get(parent context.Context, u *url.URL) ([]byte, *url.URL, error) {
	ctx, cancel := context.WithTimeout(parent, f.c.Timeout)
	defer cancel()
	start := u.String()
	cur := u
	for redirects := 0; ; redirects++ {
		resp, err := f.do(ctx, parent, cur, start)
		if err != nil {
			return nil, nil, err
		}
		switch resp.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
			http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			loc := resp.Header.Get("Location")
			discard(resp)
			if loc == "" {
				return nil, nil, fmt.Errorf("setting server: %s: %s without Location", where(start, cur), resp.Status)
			}
			next, err := cur.Parse(loc)
			if err != nil {
				return nil, nil, fmt.Errorf("setting server: %s: bad redirect Location %q", where(start, cur), redactRaw(loc))
			}
			next.User = nil
			next.Fragment, next.RawFragment = "", ""
			if next.Scheme != "http" && next.Scheme != "https" {
				return nil, nil, fmt.Errorf("setting server: %s: redirect to unsupported scheme %q", where(start, cur), next.Scheme)
			}
			if redirects >= MaxRedirects {
				return nil, nil, fmt.Errorf("setting server: %s: redirect loop (more than %d redirects)", start, MaxRedirects)
			}
			cur = next
			continue
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return nil, nil, fmt.Errorf("setting server: %s: %w", where(start, cur), errNotFound)
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return nil, nil, fmt.Errorf("setting server: %s: %s", where(start, cur), resp.Status)
		}
		// Refuse early what says it is too large; a chunked body is
		// counted as it is read.
		if resp.ContentLength > provisioning.MaxFileSize {
			return nil, nil, f.tooLarge(start, cur)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, provisioning.MaxFileSize+1))
		if err != nil {
			return nil, nil, f.netError(parent, where(start, cur), "reading body", err)
		}
		if len(data) > provisioning.MaxFileSize {
			return nil, nil, f.tooLarge(start, cur)
		}
		return data, cur, nil
	}
}

func (f *fetcher) tooLarge(start string, cur *url.URL) error {
	return fmt.Errorf("setting server: %s: %w (over %d bytes)", where(start, cur), provisioning.ErrTooLarge, provisioning.MaxFileSize)
}

// where names a URL, with where a redirect took it.
func where(start string, cur *url.URL) string {
	if s := cur.String(); s != start {
		return start + " (redirected to " + s + ")"
	}
	return start
}

// do sends one GET and, on a 401, one answer to the challenge when the
// URL is on the setting server's origin. The caller closes the body.
func (f *fetcher) do(ctx, parent context.Context, u *url.URL, start string) (*http.Response, error) {
	resp, err := f.send(ctx, u, "")
	if err != nil {
		return nil, f.netError(parent, where(start, u), "", err)
	}
	if resp.StatusCode != http.StatusUnauthorized {
		return resp, nil
	}
	discard(resp)
	if f.user == "" && f.pass == "" {
		return nil, fmt.Errorf("setting server: %s: %s (set setting_server user/password)", where(start, u), resp.Status)
	}
	if origin(u) != f.origin {
		return nil, fmt.Errorf("setting server: %s: %s (credentials are only sent to %s)", where(start, u), resp.Status, f.origin)
	}
	// Stale nonces get one more try, as RFC 7616 asks.
	for try := 0; try < 2; try++ {
		auth, err := f.answer(resp.Header.Values("WWW-Authenticate"), u)
		if err != nil {
			return nil, fmt.Errorf("setting server: %s: %s: %v", where(start, u), resp.Status, err)
		}
		resp, err = f.send(ctx, u, auth)
		if err != nil {
			return nil, f.netError(parent, where(start, u), "", err)
		}
		if resp.StatusCode != http.StatusUnauthorized {
			return resp, nil
		}
		discard(resp)
		if !staleDigest(resp.Header.Values("WWW-Authenticate")) {
			break
		}
	}
	return nil, fmt.Errorf("setting server: %s: %s (user/password rejected)", where(start, u), resp.Status)
}

func (f *fetcher) send(ctx context.Context, u *url.URL, auth string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	ua := "phonesim"
	if f.c.PhoneType != "" {
		ua += "/" + f.c.PhoneType
	}
	req.Header.Set("User-Agent", ua)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return f.client.Do(req)
}

// answer builds the Authorization header for a 401's challenges:
// Digest when offered (SHA-256 before MD5), else Basic.
func (f *fetcher) answer(challenges []string, u *url.URL) (string, error) {
	var best *digest.Challenge
	basic := false
	var schemes []string
	for _, h := range challenges {
		scheme, _, _ := strings.Cut(strings.TrimSpace(h), " ")
		schemes = append(schemes, scheme)
		switch {
		case digest.IsDigest(strings.TrimSpace(h)):
			ch, err := digest.ParseChallenge(strings.TrimSpace(h))
			if err != nil {
				continue
			}
			for i, q := range ch.QOP {
				ch.QOP[i] = strings.TrimSpace(q)
			}
			if !digest.CanDigest(ch) {
				continue
			}
			if best == nil || rank(ch) > rank(best) {
				best = ch
			}
		case strings.EqualFold(scheme, "Basic"):
			basic = true
		}
	}
	if best != nil {
		cred, err := digest.Digest(best, digest.Options{
			Method:   http.MethodGet,
			URI:      u.RequestURI(),
			Username: f.user,
			Password: f.pass,
			Count:    1,
		})
		if err != nil {
			// The library's errors name the algorithm or qop, never the password.
			return "", err
		}
		return cred.String(), nil
	}
	if basic {
		req := http.Request{Header: http.Header{}}
		req.SetBasicAuth(f.user, f.pass)
		return req.Header.Get("Authorization"), nil
	}
	if len(schemes) == 0 {
		return "", errors.New("no WWW-Authenticate challenge")
	}
	return "", fmt.Errorf("unsupported authentication %q (want Basic or Digest MD5/SHA-256)", strings.Join(schemes, ", "))
}

// rank orders digest algorithms, strongest first, as RFC 7616 lets a
// server offer several.
func rank(ch *digest.Challenge) int {
	switch strings.ToUpper(ch.Algorithm) {
	case "", "MD5":
		return 1
	}
	return 2
}

func staleDigest(challenges []string) bool {
	for _, h := range challenges {
		if ch, err := digest.ParseChallenge(strings.TrimSpace(h)); err == nil && ch.Stale {
			return true
		}
	}
	return false
}

// discard drops a response we will not read, keeping the connection
// when that is cheap.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
}

// netError words a transport error, telling our timeout from the
// caller's cancellation.
func (f *fetcher) netError(parent context.Context, where, doing string, err error) error {
	if doing != "" {
		doing += ": "
	}
	if perr := parent.Err(); perr != nil {
		return fmt.Errorf("setting server: %s: %s%w", where, doing, perr)
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("setting server: %s: %stimed out after %v: %w", where, doing, f.c.Timeout, context.DeadlineExceeded)
	}
	return fmt.Errorf("setting server: %s: %s%w", where, doing, unwrapURLError(err))
}
