package firmware

import (
	"strings"
	"testing"
)

func TestCheckSIPURI(t *testing.T) {
	for _, ok := range []string{
		"sip:100@192.0.2.10", "sips:alice@pbx.example:5061", "sip:pbx.example", "SIP:Bob@PBX.example",
		"sip:+4930%2012@pbx.example;user=phone", "sip:*21%23@pbx.example", "sip:a&b=c+d$e,f;g?h/i@host",
		"sip:user:pa$$@host", "sip:bob@[2001:db8::1]:5060;transport=tcp", "sip:bob@host?subject=hi&priority=urgent",
		"sip:o'neil!~(x)@host.",
	} {
		if err := CheckSIPURI(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for bad, why := range map[string]string{
		"sip:a b@host":                           "a space",
		"sip:50%@host":                           "not an escape",
		"sip:50%4@host":                          "not an escape",
		"sip:50%zz@host":                         "not an escape",
		"sip:\u202e1234@host":                    "outside ASCII",
		"sip:12#@host":                           "%23",
		"sip:a\x00@host":                         "control",
		"tel:+4930":                              "not a sip",
		"sip:@host":                              "empty user",
		"sip:bob@":                               "no host",
		"sip:bob@ho st":                          "a space",
		"sip:bob@host:0":                         "port",
		"sip:bob@host:99999":                     "port",
		"sip:bob@host:":                          "empty port",
		"sip:bob@-host":                          "host",
		"sip:bob@[::1":                           "without ]",
		"sip:bob@host;":                          "empty URI parameter",
		"sip:bob@host;a=<b>":                     "URI parameter",
		"sip:a<b@host":                           "user part",
		"sip:bob@host@evil":                      "in the host",
		"sip:" + strings.Repeat("1", 600) + "@h": "longer",
	} {
		err := CheckSIPURI(bad)
		if err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("%q: %v, want an error about %q", bad, err, why)
		}
	}
}

func FuzzCheckSIPURI(f *testing.F) {
	for _, s := range []string{"sip:a@b", "sip:%", "sip:[", "sip:a@[", "sip:a@b;c=d?e=f", "sip:a@b:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckSIPURI(s) == nil && strings.ContainsAny(s, " #\x00") {
			t.Fatalf("%q passed", s)
		}
		_ = escapeHash(s)
	})
}
