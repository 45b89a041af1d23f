package webui

import (
	"fmt"
	"html/template"
	"net/http"
	"net/netip"
	"strings"
	"sync"

	"phonesim/phonelog"
	"phonesim/trace"
)

// Ladder is what GET /ladder.htm needs from the phone: the last calls'
// SIP messages (trace.Recorder.Calls), oldest first. It is optional: a
// Phone that does not implement it (test fakes) answers 404 there; the
// device implements it.
type Ladder interface {
	SIPCalls() []trace.Call
}

// The ladder picture's geometry, in SVG pixels.
const (
	ladderTimeW = 150 // the left margin with the times
	ladderColW  = 250 // between two parties' lines
	ladderTop   = 56  // the first arrow
	ladderRowH  = 30
)

// ladderView is the ladder page's data; Title and Refresh as "top" wants.
type ladderView struct {
	Title   string
	Refresh int
	Calls   []ladderCall
}

type ladderCall struct {
	ID      string // "c1": the newest call is c1
	CallID  string // inert
	Start   string
	Dropped int
	Width   int
	Height  int
	LineEnd int // where the parties' lines end
	Parties []ladderParty
	Rows    []ladderRow
}

type ladderParty struct {
	X    int
	Addr string
	Us   bool // an address of this phone
}

type ladderRow struct {
	ID       string // the message's anchor: "c1m3"
	N        int
	Y        int
	X1, X2   int
	Head     string // the arrowhead's points
	LabelX   int
	Label    string // inert
	Time     string // local time, milliseconds
	Delta    string // since the call's first message
	Color    string
	Dash     string // responses dashed
	Summary  string // inert
	Text     string // the message, inert line by line
	Cut      bool
	Loop     bool // to itself: drawn as a loop
	LoopPath string
}

var ladderPage = sync.OnceValue(func() *template.Template {
	return template.Must(parsePages().Parse(`
{{define "ladder"}}{{template "top" .}}
<style>
pre:target{background:#ffd;outline:2px solid #cc0}
svg text{font-family:sans-serif;font-size:12px}
svg a:hover line,svg a:hover path{stroke-width:3}
details pre{margin:.3em 0 .8em 1.5em;white-space:pre-wrap}
</style>
<p class="d">The last calls' SIP messages as this phone sent and received them, newest call first. Click an arrow, or a line below it, for the message. <a href="/ladder.htm">Reload</a></p>
{{range .Calls}}{{$call := .}}<h2 id="{{.ID}}">Call {{.CallID}}</h2>
<p class="d">{{.Start}}, {{len .Rows}} messages{{if .Dropped}}, {{.Dropped}} more not kept{{end}}</p>
<svg xmlns="http://www.w3.org/2000/svg" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" role="img">
{{range .Parties}}<text x="{{.X}}" y="16" text-anchor="middle" font-weight="bold">{{.Addr}}</text>
<text x="{{.X}}" y="32" text-anchor="middle" fill="#666">{{if .Us}}this phone{{else}}other side{{end}}</text>
<line x1="{{.X}}" y1="38" x2="{{.X}}" y2="{{$call.LineEnd}}" stroke="#999"/>
{{end}}{{range .Rows}}<a href="#{{.ID}}"><title>{{.Summary}}</title>
<text x="4" y="{{.Y}}" fill="#444">{{.Time}}</text><text x="92" y="{{.Y}}" fill="#888">{{.Delta}}</text>
{{if .Loop}}<path d="{{.LoopPath}}" fill="none" stroke="{{.Color}}" stroke-width="1.5"{{if .Dash}} stroke-dasharray="{{.Dash}}"{{end}}/>{{else}}<line x1="{{.X1}}" y1="{{.Y}}" x2="{{.X2}}" y2="{{.Y}}" stroke="{{.Color}}" stroke-width="1.5"{{if .Dash}} stroke-dasharray="{{.Dash}}"{{end}}/>{{end}}
<polygon points="{{.Head}}" fill="{{.Color}}"/>
<text x="{{.LabelX}}" y="{{.Y}}" dy="-5" text-anchor="middle" fill="{{.Color}}">{{.Label}}</text></a>
{{end}}</svg>
{{range .Rows}}<details><summary>{{.Summary}}</summary><pre id="{{.ID}}">{{.Text}}{{if .Cut}}
(cut short){{end}}</pre></details>
{{end}}{{else}}<p>No calls yet.</p>
{{end}}{{template "bottom" .}}{{end}}
`))
})

// ladder serves /ladder.htm: each kept call's SIP message flow as an SVG
// ladder drawn here (no script: the page's CSP allows none), arrows
// linking to the messages' text in <details> below.
func (h *handler) ladder(w http.ResponseWriter, r *http.Request) {
	l, ok := h.phone.(Ladder)
	if !ok {
		http.Error(w, "webui: this phone keeps no SIP ladder", http.StatusNotFound)
		return
	}
	calls := l.SIPCalls()
	v := ladderView{Title: "SIP ladder"}
	for i := len(calls) - 1; i >= 0; i-- {
		if len(calls[i].Messages) > 0 {
			v.Calls = append(v.Calls, ladderOf(calls[i], len(v.Calls)+1))
		}
	}
	var b strings.Builder
	if err := ladderPage().ExecuteTemplate(&b, "ladder", v); err != nil {
		http.Error(w, "webui: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

// ladderOf lays out one call: a column per address (this phone's first),
// a row per message.
func ladderOf(c trace.Call, n int) ladderCall {
	lc := ladderCall{ID: fmt.Sprintf("c%d", n), CallID: phonelog.Inert(c.CallID), Dropped: c.Dropped}
	col := map[netip.AddrPort]int{}
	us := map[netip.AddrPort]bool{}
	var order []netip.AddrPort
	addParty := func(a netip.AddrPort) {
		if _, ok := col[a]; !ok {
			col[a] = len(order)
			order = append(order, a)
		}
	}
	for _, m := range c.Messages {
		local := m.Src
		if m.Dir == trace.Received {
			local = m.Dst
		}
		us[local] = true
		addParty(local)
	}
	for _, m := range c.Messages {
		addParty(m.Src)
		addParty(m.Dst)
	}
	x := func(a netip.AddrPort) int { return ladderTimeW + ladderColW/2 + col[a]*ladderColW }
	for _, a := range order {
		lc.Parties = append(lc.Parties, ladderParty{X: x(a), Addr: a.String(), Us: us[a]})
	}
	first := c.Messages[0].Time
	lc.Start = first.Local().Format("2006-01-02 15:04:05 MST")
	for i, m := range c.Messages {
		row := ladderRow{
			ID: fmt.Sprintf("%sm%d", lc.ID, i+1), N: i + 1, Y: ladderTop + i*ladderRowH,
			X1: x(m.Src), X2: x(m.Dst), Label: phonelog.Inert(m.Label),
			Time:  m.Time.Local().Format("15:04:05.000"),
			Delta: fmt.Sprintf("+%.3f", m.Time.Sub(first).Seconds()),
			Color: "#1a5fb4", Cut: m.Cut,
		}
		if m.Dir == trace.Received {
			row.Color = "#26803a"
		}
		if !m.Request {
			row.Dash = "6 3"
			if m.Response >= 400 {
				row.Color = "#c01c28"
			}
		}
		row.LabelX = (row.X1 + row.X2) / 2
		switch {
		case row.X1 == row.X2: // to itself
			row.Loop = true
			row.LoopPath = fmt.Sprintf("M %d %d h 40 v 10 h -32", row.X1, row.Y-5)
			row.Head = fmt.Sprintf("%d,%d %d,%d %d,%d", row.X1, row.Y+5, row.X1+8, row.Y+1, row.X1+8, row.Y+9)
			row.LabelX = row.X1 + 44
		case row.X2 > row.X1:
			row.Head = fmt.Sprintf("%d,%d %d,%d %d,%d", row.X2, row.Y, row.X2-9, row.Y-4, row.X2-9, row.Y+4)
		default:
			row.Head = fmt.Sprintf("%d,%d %d,%d %d,%d", row.X2, row.Y, row.X2+9, row.Y-4, row.X2+9, row.Y+4)
		}
		row.Summary = fmt.Sprintf("#%d %s %s %s → %s %s", i+1, m.Time.Local().Format("15:04:05.000000"), m.Transport,
			m.Src, m.Dst, row.Label)
		row.Text = inertLines(m.Text)
		lc.Rows = append(lc.Rows, row)
	}
	lc.Width = ladderTimeW + len(order)*ladderColW
	lc.LineEnd = ladderTop + len(c.Messages)*ladderRowH - ladderRowH/2
	lc.Height = lc.LineEnd + 10
	return lc
}

// inertLines makes a SIP message showable: line by line (CRLF or LF),
// control characters and the like made visible.
func inertLines(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\r\n"), "\n")
	for i, l := range lines {
		lines[i] = phonelog.Inert(strings.TrimSuffix(l, "\r"))
	}
	return strings.Join(lines, "\n")
}
