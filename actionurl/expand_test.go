package actionurl

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

var phoneVars = Map{
	"local":                 "100",
	"local_ip":              "192.168.1.20",
	"remote":                "200",
	"call-id":               "abc@pbx",
	"mac":                   "000413A1B2C3",
	"active_user":           "100",
	"active_host":           "pbx.example.com",
	"display_remote":        "Alice Smith",
	"phone_ip":              "fe80::1",
	"user_pass1":            "",
	"cancel_reason":         "",
	HeaderVar("X-CRM-Id"):   "42",
	HeaderVar("P-Asserted"): "<sip:200@pbx>",
}

func TestExpand(t *testing.T) {
	tests := []struct {
		name     string
		template string
		vars     Map
		want     string
	}{
		{"no variables", "http://crm/x?a=1", nil, "http://crm/x?a=1"},
		{"query value", "http://crm/call?nr=$remote", nil, "http://crm/call?nr=200"},
		{"path value", "http://crm/$mac/x", nil, "http://crm/000413A1B2C3/x"},
		{"braces", "http://crm/${mac}x", nil, "http://crm/000413A1B2C3x"},
		{"name with dash", "http://crm/?id=$call-id", nil, "http://crm/?id=abc%40pbx"},
		{"longest match wins", "http://crm/?ip=$local_ip", nil, "http://crm/?ip=192.168.1.20"},
		{"shorter match leaves the rest", "http://crm/?n=$localx", nil, "http://crm/?n=100x"},
		{"longest known prefix", "http://crm/?n=$local_ipv6", nil, "http://crm/?n=192.168.1.20v6"},
		{"dash after known name", "http://crm/$local-list", nil, "http://crm/100-list"},
		{"amp ends name in path", "http://h/$mac&/x", nil, "http://h/000413A1B2C3/x"},
		{"amp ends name before name chars", "http://h/$local&abc", nil, "http://h/100abc"},
		{"amp in query separates parameters", "http://h/?a=$local&b=2", nil, "http://h/?a=100&b=2"},
		{"amp in query before name chars", "http://h/?a=$local&x", nil, "http://h/?a=100x"},
		{"amp in query at the end", "http://h/?a=$local&", nil, "http://h/?a=100"},
		{"amp after braces stays", "http://h/${local}&/x", nil, "http://h/100&/x"},
		{"amp after unknown name is dropped", "http://h/$nope&/x", nil, "http://h//x"},
		{"amp before percent param", "http://h/?a=$local&%41=1", nil, "http://h/?a=100&%41=1"},
		{"unknown is empty", "http://h/?a=$nope&b=1", nil, "http://h/?a=&b=1"},
		{"unknown braces is empty", "http://h/?a=${nope}", nil, "http://h/?a="},
		{"empty value", "http://h/?r=$cancel_reason", nil, "http://h/?r="},
		{"secret is blank", "http://h/?p=$user_pass1", nil, "http://h/?p="},
		{"lone dollar at end", "http://h/x$", nil, "http://h/x$"},
		{"dollar before slash", "http://h/$/x", nil, "http://h/$/x"},
		{"double dollar", "http://h/?a=$$local", nil, "http://h/?a=$100"},
		{"unclosed brace", "http://h/?a=${local", nil, "http://h/?a=${local"},
		{"empty braces", "http://h/?a=${}", nil, "http://h/?a=${}"},
		{"sip header", "http://h/?id=$sip_header(X-CRM-Id)", nil, "http://h/?id=42"},
		{"sip header any case", "http://h/?id=$sip_header(x-crm-id)", nil, "http://h/?id=42"},
		{"sip header encoded", "http://h/?pai=$sip_header(P-Asserted)", nil, "http://h/?pai=%3Csip%3A200%40pbx%3E"},
		{"sip header unknown", "http://h/?id=$sip_header(X-Other)&b=1", nil, "http://h/?id=&b=1"},
		{"sip header unclosed", "http://h/?id=$sip_header(X", nil, "http://h/?id=(X"},
		{"space in query", "http://h/?n=$display_remote", nil, "http://h/?n=Alice%20Smith"},
		{"host from variable", "http://$active_host/x", nil, "http://pbx.example.com/x"},
		{"host and port from variable", "http://$local_ip:8080/x", nil, "http://192.168.1.20:8080/x"},
		{"ipv6 host in brackets", "http://[$phone_ip]:8080/x", nil, "http://[fe80::1]:8080/x"},
		{"ipv6 outside brackets loses colons", "http://$phone_ip/x", nil, "http://fe801/x"},
		{"fragment", "http://h/x#$display_remote", nil, "http://h/x#Alice%20Smith"},
		{"no scheme is path", "$mac/x", nil, "000413A1B2C3/x"},
		{"scheme-relative authority", "//$active_host/x", nil, "//pbx.example.com/x"},
		{"empty value cannot open an authority", "http:/$cancel_reason/$remote", Map{"cancel_reason": "", "remote": "evil.com"}, "http:/%2Fevil.com"},
		{"values cannot make a scheme and authority", "$a:$b/$b/x", Map{"a": "http", "b": ""}, "http:/%2Fx"},

		// Hostile values.
		{"param injection", "http://h/?n=$remote&b=1", Map{"remote": "1&admin=1"}, "http://h/?n=1%26admin%3D1&b=1"},
		{"fragment injection", "http://h/?n=$remote", Map{"remote": "1#x"}, "http://h/?n=1%23x"},
		{"plus stays data", "http://h/?n=$remote", Map{"remote": "+4930"}, "http://h/?n=%2B4930"},
		{"crlf removed", "http://h/?n=$remote", Map{"remote": "a\r\nX-Evil: 1\x00"}, "http://h/?n=aX-Evil%3A%201"},
		{"html", "http://h/?n=$remote", Map{"remote": "<script>alert(1)</script>"}, "http://h/?n=%3Cscript%3Ealert%281%29%3C%2Fscript%3E"},
		{"path traversal", "http://h/a/$remote/b", Map{"remote": "../admin"}, "http://h/a/..%2Fadmin/b"},
		{"dot dot segment", "http://h/a/$remote/b", Map{"remote": ".."}, "http://h/a/%2E%2E/b"},
		{"dots in query stay", "http://h/?v=$remote", Map{"remote": ".."}, "http://h/?v=.."},
		{"question mark in path", "http://h/$remote", Map{"remote": "x?admin=1"}, "http://h/x%3Fadmin%3D1"},
		{"unicode", "http://h/?n=$remote", Map{"remote": "Jürgen 日本"}, "http://h/?n=J%C3%BCrgen%20%E6%97%A5%E6%9C%AC"},
		{"invalid utf8", "http://h/?n=$remote", Map{"remote": "\xff"}, "http://h/?n=%FF"},
		{"host injection", "http://$remote/x", Map{"remote": "evil.com/@x"}, "http://evil.comx/x"},
		{"port injection", "http://$remote/x", Map{"remote": "h:99@evil"}, "http://h99evil/x"},
		{"userinfo value", "http://$user:$pw@h/x", Map{"user": "a@b", "pw": "p:w/"}, "http://a%40b:p%3Aw%2F@h/x"},
		{"dollar in value is not expanded", "http://h/?n=$remote", Map{"remote": "$local"}, "http://h/?n=%24local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := phoneVars
			if tt.vars != nil {
				vars = tt.vars
			}
			if got := Expand(tt.template, vars); got != tt.want {
				t.Errorf("Expand(%q) = %q, want %q", tt.template, got, tt.want)
			}
		})
	}
}

func TestExpandNilVars(t *testing.T) {
	if got, want := Expand("http://h/$mac&/x?a=${b}", nil), "http://h//x?a="; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestExpandHostileValuesKeepStructure(t *testing.T) {
	hostile := []string{
		"&x=1", "a&b=c", "\r\nHost: evil", "<script>", "../..", "/", "?", "#",
		"evil.com/@x", "@evil", ":1", "%00", "%2F", "[::1]", "\\", "日本", "a b", "$mac",
	}
	templates := []string{
		"http://crm.local:8080/call/$remote/x?nr=$remote&id=$call-id#$remote",
		"https://u@crm/$remote&/x?$remote",
		"http://crm/?a=${remote}&b=$sip_header(X-Id)",
	}
	for _, tmpl := range templates {
		base, err := url.Parse(Expand(tmpl, Map{"remote": "", "call-id": "", HeaderVar("x-id"): ""}))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range hostile {
			got := Expand(tmpl, Map{"remote": v, "call-id": v, HeaderVar("x-id"): v})
			u, err := url.Parse(got)
			if err != nil {
				t.Errorf("%q with %q: %q does not parse: %v", tmpl, v, got, err)
				continue
			}
			if u.Scheme != base.Scheme || u.Host != base.Host || u.User.String() != base.User.String() {
				t.Errorf("%q with %q: authority changed: %q", tmpl, v, got)
			}
			if strings.Count(u.EscapedPath(), "/") != strings.Count(base.EscapedPath(), "/") {
				t.Errorf("%q with %q: path segments changed: %q", tmpl, v, got)
			}
			if strings.Count(u.RawQuery, "&") != strings.Count(base.RawQuery, "&") {
				t.Errorf("%q with %q: parameters changed: %q", tmpl, v, got)
			}
			if strings.ContainsAny(got, "\r\n\x00 <>") {
				t.Errorf("%q with %q: raw control or markup bytes in %q", tmpl, v, got)
			}
		}
	}
}

func ExampleExpand() {
	vars := Map{
		"remote":      "+49 30 1234&x=1",
		"call-id":     "a84b4c76e66710@pbx",
		"active_user": "100",
		"mac":         "000413A1B2C3",
	}
	fmt.Println(Expand("http://crm/call?nr=$remote&id=$call-id&u=$active_user", vars))
	fmt.Println(Expand("http://crm/phones/$mac&/ring", vars))
	// Output:
	// http://crm/call?nr=%2B49%2030%201234%26x%3D1&id=a84b4c76e66710%40pbx&u=100
	// http://crm/phones/000413A1B2C3/ring
}

func BenchmarkExpand(b *testing.B) {
	vars := Map{"remote": "+49 30 1234567", "call-id": "a84b4c76e66710@pbx.example.com", "active_user": "100"}
	const tmpl = "http://crm/call?nr=$remote&id=$call-id&u=$active_user"
	b.ReportAllocs()
	for b.Loop() {
		_ = Expand(tmpl, vars)
	}
}
