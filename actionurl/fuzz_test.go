package actionurl

import (
	"net/url"
	"strings"
	"testing"
)

var fuzzNames = []string{"local", "local_ip", "remote", "call-id", "mac", HeaderVar("x-id")}

func fuzzVars(v string) Map {
	m := Map{}
	for _, n := range fuzzNames {
		m[n] = v
	}
	return m
}

// FuzzExpand checks that values never change a URL's structure: whatever a
// value holds, the result parses when the template does; the scheme, the
// host (unless the template puts a variable there) and the number of query
// parameters are those of the template expanded with empty values; so is
// the number of path segments when the template has an authority, and
// without one the result has no host.
func FuzzExpand(f *testing.F) {
	f.Add("http://crm/call?nr=$remote&id=$call-id", "1&x=2")
	f.Fuzz(func(t *testing.T, tmpl, value string) {
		got := Expand(tmpl, fuzzVars(value))
		tu, err := url.Parse(tmpl)
		if err != nil {
			return
		}
		empty := Expand(tmpl, fuzzVars(""))
		base, err := url.Parse(empty)
		if err != nil {
			return
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("template %q parses, expansion %q does not: %v", tmpl, got, err)
		}
		if u.Scheme != base.Scheme {
			t.Fatalf("scheme changed: %q -> %q", base.Scheme, u.Scheme)
		}
		if !strings.Contains(tu.Host, "$") && u.Host != base.Host {
			t.Fatalf("host changed: %q -> %q (%q)", base.Host, u.Host, got)
		}
		if !strings.Contains(tu.User.String(), "$") && u.User.String() != base.User.String() {
			t.Fatalf("user info changed: %q -> %q (%q)", base.User, u.User, got)
		}
		if layout(tmpl).authStart < 0 {
			if u.Host != "" {
				t.Fatalf("template %q has no authority, expansion %q has host %q", tmpl, got, u.Host)
			}
		} else if a, b := strings.Count(rawPath(got), "/"), strings.Count(rawPath(empty), "/"); a != b {
			t.Fatalf("path segments changed: %d -> %d (%q)", b, a, got)
		}
		if a, b := strings.Count(u.RawQuery, "&"), strings.Count(base.RawQuery, "&"); a != b {
			t.Fatalf("parameters changed: %d -> %d (%q)", b, a, got)
		}
		if (u.Fragment == "") != (base.Fragment == "") && strings.Contains(got, "#") != strings.Contains(tmpl, "#") {
			t.Fatalf("fragment appeared: %q", got)
		}
		if strings.ContainsAny(got, "\r\n\x00") && !strings.ContainsAny(tmpl, "\r\n\x00") {
			t.Fatalf("control bytes from a value: %q", got)
		}
	})
}

// rawPath is the path of s as written, before any unescaping.
func rawPath(s string) string {
	s, _, _ = strings.Cut(s, "#")
	s, _, _ = strings.Cut(s, "?")
	if _, after, ok := strings.Cut(s, "://"); ok {
		if i := strings.IndexByte(after, '/'); i >= 0 {
			return after[i:]
		}
		return ""
	}
	return s
}
