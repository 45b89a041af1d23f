package sipua

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestInertDisplay(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"\x1b[2J<script>&x=1", "[2J<script>&x=1"},
		{"Alice", "Alice"},
		{"a\r\nb", "ab"},
		{"a\tb", "a b"},
		{"a\x7fb\u0085c\u009bd", "abcd"},
		{"bidi\u202eevil", "bidievil"},
		{"  spaced  ", "spaced"},
		{"bad\xffutf8", "badutf8"},
		{"Jürgen 🙂", "Jürgen 🙂"},
		{strings.Repeat("é", 1000), strings.Repeat("é", 1000)}, // kept whole
		{strings.Repeat("é", 2000), strings.Repeat("é", maxDisplayRunes)},
	} {
		if got := InertDisplay(tc.in); got != tc.want {
			t.Errorf("InertDisplay(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzInert(f *testing.F) {
	f.Add("\x1b[2J<script>&x=1")
	f.Add("a\r\nb\x00\u0085")
	f.Fuzz(func(t *testing.T, s string) {
		got := inert(s, maxDisplayRunes)
		for _, r := range got {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
				t.Fatalf("control %U left in %q", r, got)
			}
		}
		if n := len([]rune(got)); n > maxDisplayRunes {
			t.Fatalf("%d runes", n)
		}
	})
}

func TestHeaderMap(t *testing.T) {
	msg := "INVITE sip:bob@h SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n" +
		"Contact: <sip:a@h>\r\nMax-Forwards: 70\r\nRecord-Route: <sip:p;lr>\r\nRoute: <sip:p;lr>\r\n" +
		"Authorization: Digest x\r\nProxy-Authorization: Digest y\r\nContent-Type: application/sdp\r\nContent-Disposition: session\r\n" +
		"x-custom: one\r\nX-Custom: two\r\nAlert-Info: <http://x/ring>;info=alert-internal\r\nSubject: hi\x1bthere\r\n" +
		"Content-Length: 0\r\n\r\n"
	m, err := sip.ParseMessage([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	got := headerMap(m.(*sip.Request))
	want := map[string]string{
		"X-Custom":   "one, two",
		"Alert-Info": "<http://x/ring>;info=alert-internal",
		"Subject":    "hithere",
	}
	if len(got) != len(want) {
		t.Fatalf("headers = %q, want %q", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestSplitAddressList(t *testing.T) {
	got := splitAddressList(`<sip:a;lr>, "x,y" <sip:b;lr>,<sip:c?h=1,2>`)
	want := []string{"<sip:a;lr>", `"x,y" <sip:b;lr>`, "<sip:c?h=1,2>"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("%q", got)
	}
}

func TestCutNote(t *testing.T) {
	if n := cutNote("Alice", "abc@pbx", "sip:200@pbx", nil); n != "" {
		t.Errorf("nothing cut, note %q", n)
	}
	n := cutNote(strings.Repeat("A", maxDisplayRunes+1), "id", "sip:a@b", []sip.Header{sip.NewHeader("X-Long", strings.Repeat("x", maxHeaderRunes+5))})
	want := "display name (1025 characters, kept 1024), X-Long (4101 characters, kept 4096)"
	if n != want {
		t.Errorf("note %q, want %q", n, want)
	}
}
