package actionurl

import (
	"errors"
	"strings"
	"testing"
)

func TestAllowed(t *testing.T) {
	tests := []struct {
		url  string
		want error // nil, a sentinel, or errAny
	}{
		{"http://crm/call?nr=1", nil},
		{"https://crm:8443/x", nil},
		{"HTTP://crm/", nil},
		{"http://[::1]:8080/", nil},
		{"http://user:pw@crm/", nil},
		{"ftp://crm/x", ErrScheme},
		{"file:///etc/passwd", ErrScheme},
		{"javascript:alert(1)", ErrScheme},
		{"gopher://h/", ErrScheme},
		{"crm/call", ErrScheme},
		{"", ErrScheme},
		{"http:///x", ErrNoHost},
		{"http://:80/x", ErrNoHost},
		{"http:opaque", ErrNoHost},
		{"http://h/\r\nX: y", errAny},
		{"http://h:port/", errAny},
		{"http://h/%zz", errAny},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := Allowed(tt.url)
			switch {
			case tt.want == nil && err != nil:
				t.Errorf("Allowed(%q) = %v, want nil", tt.url, err)
			case tt.want == errAny && err == nil:
				t.Errorf("Allowed(%q) = nil, want an error", tt.url)
			case tt.want != nil && tt.want != errAny && !errors.Is(err, tt.want):
				t.Errorf("Allowed(%q) = %v, want %v", tt.url, err, tt.want)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestAllowedErrorHidesPassword(t *testing.T) {
	err := Allowed("http://u:secret@h:bad/")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("Allowed = %v; want an error without the password", err)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://crm/call?nr=1", "http://crm/call?nr=1"},
		{"http://user:secret@crm/x", "http://user:@crm/x"},
		{"http://user@crm/x", "http://user@crm/x"},
		{"https://u:p%40ss@crm:8443/a@b?c=d@e", "https://u:@crm:8443/a@b?c=d@e"},
		{"http://u:p@ss@crm/", "http://u:@crm/"},
		{"http://u:secret@h:bad/", "http://u:@h:bad/"},
		{"http://h/\r\n[ERROR] forged", "http://h/%0D%0A[ERROR] forged"},
		{"not a url", "not a url"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
