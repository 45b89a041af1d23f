package webui

import (
	"strings"
	"testing"

	"phonesim/firmware"
)

// number= refuses what could never become a valid Request-URI (a space,
// a bare %, raw non-ASCII such as U+202E) with 400 before anything is
// posted; escapes, + and # (sent by the phone as %23) pass.
func TestCommandNumberValidated(t *testing.T) {
	for _, tt := range []struct{ name, query, msg string }{
		{"space", "number=a%20b", "space"},
		{"space in a URI", "number=sip:a%20b@pbx.example", "space"},
		{"bare percent", "number=50%25", "not an escape"},
		{"short escape", "number=50%254", "not an escape"},
		{"bidi override", "number=%E2%80%AE1234", "outside ASCII"},
		{"raw non-ASCII", "number=\u00e9", "outside ASCII"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			res := get(New(f, Options{}), "/command.htm?"+tt.query)
			b := body(t, res)
			eq(t, 400, res.StatusCode, b)
			if !strings.Contains(b, tt.msg) {
				t.Errorf("message %q lacks %q", b, tt.msg)
			}
			if strings.ContainsRune(b, '\u202e') {
				t.Errorf("raw U+202E in message %q", b)
			}
			eq(t, 0, len(f.takePosted()), "nothing posted")
		})
	}
	for _, tt := range []struct{ query, want string }{
		{"number=%2A21%23", "*21#"},
		{"number=+4930%2520", "+4930%20"},
		{"number=sip:bob%40pbx.example;transport=tcp", "sip:bob@pbx.example;transport=tcp"},
	} {
		f := newFake()
		res := get(New(f, Options{}), "/command.htm?"+tt.query)
		b := body(t, res)
		eq(t, 200, res.StatusCode, b)
		eq(t, []firmware.Event{firmware.NumberDialed{Number: tt.want}}, f.takePosted())
	}
}
