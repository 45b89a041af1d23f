package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/pflag"
)

const (
	hooksDefaultListen = "127.0.0.1:8090"
	// hookBodyMax is how much of a request body is read and shown.
	hookBodyMax = 64 << 10
	// hookShutdownGrace is how long a stop waits for requests in flight
	// before it closes their connections.
	hookShutdownGrace = 500 * time.Millisecond
)

// hookRequest is one request as the receiver saw it, decoded.
type hookRequest struct {
	Time   time.Time
	Method string
	Path   string // percent-decoded
	Query  []hookParam
	Remote string
	// BodyBytes is how much of the body was read: at most hookBodyMax.
	BodyBytes int
	// BodyCut: the body was longer than hookBodyMax; the rest was not read.
	BodyCut bool
	// Form holds the fields of a form-encoded body, in order (nil when
	// the body is not form-encoded or was cut).
	Form []hookParam
}

// hookParam is one name=value pair of a query or a form body, in the
// order it came. Bad: one side had a bad percent escape, so both Name and
// Value are the raw text, not decoded.
type hookParam struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Bad   bool   `json:"bad_escape,omitempty"`
}

// hookJSON is the --json form of one request.
type hookJSON struct {
	Time          string      `json:"time"`
	Method        string      `json:"method"`
	Path          string      `json:"path"`
	Query         []hookParam `json:"query"`
	Remote        string      `json:"remote"`
	BodyBytes     int         `json:"body_bytes"`
	BodyTruncated bool        `json:"body_truncated,omitempty"`
	Form          []hookParam `json:"form,omitempty"`
}

// hooksCommand is `phonesim hooks`: an HTTP receiver that prints every
// request it gets (an Action URL, a client action) decoded, one line each,
// so an integrator sees what the phone sends before writing a server.
func hooksCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var listen string
	var jsonOut bool
	fs := pflag.NewFlagSet("phonesim hooks", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&listen, "listen", hooksDefaultListen, "listen `ADDR` (\":0\" or \"127.0.0.1:0\" = any free port)")
	fs.BoolVar(&jsonOut, "json", false, "one JSON object per request and line on stdout (the listening line goes to stderr)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: phonesim hooks [--listen ADDR] [--json]\n\n"+
			"Receives Action URLs and client actions (any path, any method), answers\n"+
			"200 ok and prints each request decoded, one line each. Flags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		fmt.Fprintf(stderr, "phonesim hooks: %v\nRun 'phonesim hooks --help' for the flags.\n", err)
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "phonesim hooks: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("hooks: %s is in use (another receiver?): choose another with --listen ADDR, \":0\" picks a free port", listen)
		}
		return fmt.Errorf("hooks: --listen %q: %w", listen, err)
	}
	out := &lineWriter{w: stdout}
	info := out
	if jsonOut {
		info = &lineWriter{w: stderr} // stdout stays pure JSON
	}
	base := "http://" + dialable(ln.Addr()) + "/"
	info.line(fmt.Sprintf("listening on %s — try: phonesim -s 'action_incoming_url=%sincoming?nr=$remote&name=$display_remote'", base, base))

	srv := &http.Server{
		Handler:           hooksHandler(out, jsonOut),
		MaxHeaderBytes:    64 << 10,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          log.New(&lineWriter{w: stderr}, "phonesim hooks: ", 0),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("hooks: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), hookShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close() // a request still in flight: cut it
	}
	return nil
}

// hooksHandler answers every request 200 "ok" and prints it.
func hooksHandler(out *lineWriter, jsonOut bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := hookRequest{
			Time:   time.Now(),
			Method: r.Method,
			Path:   r.URL.Path,
			Query:  parseOrdered(r.URL.RawQuery),
			Remote: r.RemoteAddr,
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, hookBodyMax+1))
		if len(body) > hookBodyMax {
			body, req.BodyCut = body[:hookBodyMax], true
		}
		req.BodyBytes = len(body)
		if err == nil && !req.BodyCut && len(body) > 0 {
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
				req.Form = parseOrdered(string(body))
			}
		}
		out.line(formatHook(req, jsonOut))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
}

// parseOrdered splits a query (or a form body) on '&' and decodes each
// side of every name=value with url.QueryUnescape, keeping the order and
// the repeats. A pair with a bad escape keeps its raw text and is marked;
// empty segments ("a=1&&b=2") are skipped.
func parseOrdered(raw string) []hookParam {
	var ps []hookParam
	for _, seg := range strings.Split(raw, "&") {
		if seg == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(seg, "=")
		name, err1 := url.QueryUnescape(rawName)
		value, err2 := url.QueryUnescape(rawValue)
		if err1 != nil || err2 != nil {
			ps = append(ps, hookParam{Name: rawName, Value: rawValue, Bad: true})
			continue
		}
		ps = append(ps, hookParam{Name: name, Value: value})
	}
	return ps
}

// formatHook is one request's output line, without the newline: the
// human form, or with jsonOut one JSON object.
//
// Human: `15:04:05.000 GET /incoming nr=200 name="Alice Smith"  (from 127.0.0.1:53412)`.
// Every text that came from the network is shown bare only when it is
// printable and holds no space, quote or backslash (and, for a name, no
// '='); otherwise it is quoted the way strconv.Quote does it, so control
// characters, invalid UTF-8 and line breaks are visible escapes and a
// value can neither move the terminal's cursor nor forge a line or a field.
func formatHook(req hookRequest, jsonOut bool) string {
	if jsonOut {
		j := hookJSON{
			Time:          req.Time.Format(time.RFC3339Nano),
			Method:        req.Method,
			Path:          req.Path,
			Query:         req.Query,
			Remote:        req.Remote,
			BodyBytes:     req.BodyBytes,
			BodyTruncated: req.BodyCut,
			Form:          req.Form,
		}
		if j.Query == nil {
			j.Query = []hookParam{}
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // "<" stays readable; control characters are still escaped
		if err := enc.Encode(j); err != nil {
			return fmt.Sprintf(`{"error":%q}`, err.Error())
		}
		return strings.TrimSuffix(b.String(), "\n")
	}
	var b strings.Builder
	b.WriteString(req.Time.Format("15:04:05.000"))
	b.WriteByte(' ')
	b.WriteString(shown(req.Method, false))
	b.WriteByte(' ')
	b.WriteString(shown(req.Path, false))
	writeParams(&b, req.Query)
	switch m := req.Method; {
	case req.BodyCut:
		fmt.Fprintf(&b, "  body over %d bytes (cut)", hookBodyMax)
	case req.BodyBytes > 0 || m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch:
		fmt.Fprintf(&b, "  body %d bytes", req.BodyBytes)
		if len(req.Form) > 0 {
			b.WriteString(", form:")
			writeParams(&b, req.Form)
		}
	}
	b.WriteString("  (from ")
	b.WriteString(shown(req.Remote, false))
	b.WriteByte(')')
	return b.String()
}

func writeParams(b *strings.Builder, ps []hookParam) {
	for _, p := range ps {
		b.WriteByte(' ')
		b.WriteString(shown(p.Name, true))
		b.WriteByte('=')
		b.WriteString(shown(p.Value, false))
		if p.Bad {
			b.WriteString(" (bad escape)")
		}
	}
}

// shown is s bare when that is unambiguous and inert, else strconv.Quote(s).
func shown(s string, name bool) string {
	if s == "" || !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if r == ' ' || r == '"' || r == '\\' || (name && r == '=') || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// dialable is addr as a client would dial it: an unspecified listen IP
// (":0", "0.0.0.0:0") becomes 127.0.0.1.
func dialable(addr net.Addr) string {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	host := ta.IP.String()
	if ta.IP == nil || ta.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(ta.Port))
}

// lineWriter writes whole lines under one mutex, so the lines of
// concurrent requests never interleave.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) line(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	io.WriteString(l.w, s+"\n")
}

// Write lets a log.Logger (the server's error log) share the lock.
func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
