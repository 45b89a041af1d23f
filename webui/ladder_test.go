package webui

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"phonesim/trace"
)

// ladderPhone is the fake phone with a SIP ladder.
type ladderPhone struct {
	*fakePhone
	rec *trace.Recorder
}

func (p ladderPhone) SIPCalls() []trace.Call { return p.rec.Calls() }

func sipText(start, callID, cseq, extra, body string) string {
	return start + "\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\nCall-ID: " + callID +
		"\r\nCSeq: " + cseq + "\r\n" + extra + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body
}

func TestLadderPage(t *testing.T) {
	rec, err := trace.NewRecorder(trace.Options{})
	if err != nil {
		t.Fatal(err)
	}
	us := netip.MustParseAddrPort("127.0.0.1:5060")
	them := netip.MustParseAddrPort("127.0.0.1:5070")
	at := time.Date(2026, 11, 30, 14, 2, 11, 0, time.Local)
	send := func(d time.Duration, dir trace.Direction, msg string) {
		rec.SIP(trace.Packet{Time: at.Add(d), Dir: dir, Transport: "UDP", Local: us, Remote: them, Data: []byte(msg)})
	}
	// an earlier call, and a hostile one
	send(0, trace.Sent, sipText("INVITE sip:bob@127.0.0.1:5070 SIP/2.0", "first-call", "1 INVITE", "", ""))
	send(time.Millisecond, trace.Received, sipText("SIP/2.0 486 Busy Here", "first-call", "1 INVITE", "", ""))
	evil := `<script>alert(1)</script>"'&`
	send(time.Second, trace.Received, sipText("INVITE sip:alice@127.0.0.1:5060 SIP/2.0", "id-"+evil+"\x1b[2J", "1 INVITE",
		"From: \""+evil+"\" <sip:x@y>\r\n", "v=0\r\n</pre></details><img src=x onerror=alert(2)>\r\n"))
	send(time.Second+5*time.Millisecond, trace.Sent, sipText("SIP/2.0 180 "+evil, "id-"+evil+"\x1b[2J", "1 INVITE", "", ""))
	send(time.Second+9*time.Millisecond, trace.Sent, sipText("SIP/2.0 200 OK", "id-"+evil+"\x1b[2J", "1 INVITE", "", ""))

	h := newHandler(ladderPhone{newFake(), rec}, Options{})
	res := get(h, "/ladder.htm")
	page := body(t, res)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("%d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), page)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("CSP %q", csp)
	}

	// Nothing of the network is markup: no script, no image, no handler.
	for _, bad := range []string{"<script", "<img", "\x1b", "</pre></details><"} {
		if strings.Contains(page, bad) {
			t.Errorf("page holds %q", bad)
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;",    // the label and the Call-ID, escaped
		`id-&lt;script&gt;alert(1)&lt;/script&gt;`, // the Call-ID
		`\x1b[2J`,                            // the escape character shown, not sent
		"&lt;img src=x onerror=alert(2)&gt;", // the body, escaped
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}

	// Newest call first, with its ladder: two parties, three arrows.
	second, first := strings.Index(page, `<h2 id="c1">`), strings.Index(page, `<h2 id="c2">Call first-call</h2>`)
	if second < 0 || first < 0 || second > first {
		t.Fatalf("calls out of order:\n%s", page)
	}
	svgs := regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(page, -1)
	if len(svgs) != 2 {
		t.Fatalf("%d pictures", len(svgs))
	}
	newest := svgs[0]
	for _, want := range []string{
		`>127.0.0.1:5060</text>`, `>this phone</text>`, `>127.0.0.1:5070</text>`, `>other side</text>`,
		`>INVITE</text>`, `>180 &lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;&amp; (INVITE)</text>`, `>200 OK (INVITE)</text>`,
		`<a href="#c1m1">`, `<a href="#c1m3">`, `>&#43;0.009</text>`,
	} {
		if !strings.Contains(newest, want) {
			t.Errorf("picture lacks %q", want)
		}
	}
	if n := strings.Count(newest, "<polygon"); n != 3 {
		t.Errorf("%d arrows", n)
	}
	// the INVITE goes right to left (from them, the second column, to us)
	if !strings.Contains(newest, `<line x1="400" y1="56" x2="150" y2="56"`) && !strings.Contains(newest, `<line x1="525" y1="56" x2="275" y2="56"`) {
		t.Errorf("INVITE arrow:\n%s", newest)
	}
	if !strings.Contains(svgs[1], `fill="#c01c28">486 Busy Here (INVITE)</text>`) {
		t.Errorf("a failure is not red:\n%s", svgs[1])
	}
	// Each picture is well-formed XML.
	for _, s := range svgs {
		d := xml.NewDecoder(strings.NewReader(s))
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("SVG: %v\n%s", err, s)
			}
		}
	}
	// The messages' text, behind the arrows' anchors.
	if !strings.Contains(page, `<pre id="c1m3">SIP/2.0 200 OK`+"\n"+`Via: SIP/2.0/UDP`) {
		t.Errorf("message text:\n%s", page)
	}
	if !strings.Contains(page, `<details><summary>#1 14:02:12.000000 UDP 127.0.0.1:5070 → 127.0.0.1:5060 INVITE</summary>`) {
		t.Errorf("summary:\n%s", page)
	}
}

func TestLadderPageWithoutLadder(t *testing.T) {
	h := newHandler(newFake(), Options{})
	if res := get(h, "/ladder.htm"); res.StatusCode != 404 {
		t.Fatalf("status %d", res.StatusCode)
	}
	rec, _ := trace.NewRecorder(trace.Options{})
	res := get(newHandler(ladderPhone{newFake(), rec}, Options{}), "/ladder.htm")
	if page := body(t, res); res.StatusCode != 200 || !strings.Contains(page, "No calls yet.") {
		t.Fatalf("%d\n%s", res.StatusCode, page)
	}
}
