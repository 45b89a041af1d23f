package webui

import (
	"bytes"
	"html/template"
	"net/http"
	"strings"
	"sync"

	"phonesim/firmware"
	"phonesim/phonelog"
)

// page is what the HTML templates get. Every string in it is network or
// user data: html/template escapes it, and the templates pass it through
// inert first, so control characters show as \x1b rather than vanish.
type page struct {
	Title   string
	Refresh int
	State   State
	Lines   []logLine
	Form    *settingsForm
	Done    []string
	Back    string // the "ok" page's link back ("/" when empty)
}

type logLine struct {
	Level string
	Text  string
}

// pages are parsed when first needed: a phone whose web pages nobody
// opens (a headless phone, --http off) keeps none in memory.
var pages = sync.OnceValue(parsePages)

// parsePages parses the pages' templates (a template that has run cannot
// be cloned: the ladder page parses its own set).
func parsePages() *template.Template {
	return template.Must(template.New("").Funcs(template.FuncMap{
		"inert": phonelog.Inert,
		"lower": strings.ToLower,
	}).Parse(`
{{define "top"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
{{if .Refresh}}<meta http-equiv="refresh" content="{{.Refresh}}">{{end}}
<title>phonesim: {{.Title}}</title>
<style>
body{font-family:sans-serif;margin:1em}
pre,td.v{font-family:monospace}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}
.error,.warning{color:#b00}.debug{color:#777}
.lcd{background:#cdb;padding:.5em;display:inline-block;min-width:20em}
nav a{margin-right:1em}
.d,.ro{color:#666;font-size:smaller}.ok{color:#070}
</style></head><body>
<nav><a href="/">Phone</a><a href="/log.htm">Log</a><a href="/settings.htm">Settings</a><a href="/ladder.htm">SIP ladder</a><a href="/log.txt">log.txt</a><a href="/api/state">/api/state</a></nav>
<h1>{{.Title}}</h1>
{{end}}

{{define "bottom"}}</body></html>
{{end}}

{{define "index"}}{{template "top" .}}{{with .State}}
<pre class="lcd">{{range .Display}}{{inert .}}
{{end}}</pre>
<p>Softkeys: {{range .Softkeys}}[{{inert .}}] {{end}}</p>
<p>Hook: {{.Hook}}{{if .DND}}, DND{{end}}{{if .Redirect.Mode}}, redirect {{inert .Redirect.Mode}} to {{inert .Redirect.Target}}{{end}}{{if .Missed}}, {{.Missed}} missed{{end}}</p>
<h2>Identities</h2>
<table><tr><th>#</th><th>user</th><th>host</th><th>display</th><th>registered</th></tr>
{{range .Identities}}<tr><td>{{.Index}}</td><td>{{inert .User}}</td><td>{{inert .Host}}</td><td>{{inert .Display}}</td><td>{{if .Registered}}yes{{else}}no {{inert .RegError}}{{end}}</td></tr>
{{end}}</table>
<h2>Calls</h2>
<table><tr><th>id</th><th>state</th><th>direction</th><th>remote</th><th>display</th><th>time</th></tr>
{{range .Calls}}<tr><td>{{inert .ID}}</td><td>{{.State}}</td><td>{{.Direction}}</td><td>{{inert .Remote}}</td><td>{{inert .Display}}</td><td>{{.Seconds}} s{{if .Muted}} (muted){{end}}</td></tr>
{{end}}</table>
<h2>Keys</h2>
<table><tr><th>key</th><th>label</th><th>kind</th><th>LED</th></tr>
{{range .LEDs}}<tr><td><a href="/command.htm?key={{.Key}}">{{.Key}}</a></td><td>{{inert .Label}}</td><td>{{inert .Kind}}</td><td>{{.State}} {{.Color}}</td></tr>
{{end}}</table>
{{end}}
<h2>Dial</h2>
<form action="/command.htm" method="get"><input name="number" size="20"> <button>Dial</button></form>
{{template "bottom" .}}{{end}}

{{define "log"}}{{template "top" .}}
<pre>{{range .Lines}}<span class="{{lower .Level}}">{{.Text}}</span>
{{end}}</pre>
{{template "bottom" .}}{{end}}

{{define "settings"}}{{template "top" .}}{{with .Form}}
{{if .Notice}}<p class="{{if .Failed}}error{{else}}ok{{end}}">{{inert .Notice}}</p>
{{end}}{{if .Findings}}<ul>{{range .Findings}}<li class="{{.Severity}}">{{.Severity}}: {{if .Name}}{{inert .Name}}: {{end}}{{inert .Message}}</li>{{end}}</ul>
{{end}}<form method="post" action="/settings.htm"><input type="hidden" name="action" value="reprovision"><button>Fetch settings now</button> {{if .Server}}from {{inert .Server}}{{else}}(no setting_server is set){{end}}</form>
<p>{{range .Groups}}<a href="#{{.ID}}">{{.Name}}</a> | {{end}}<a href="#unknown">Unknown settings</a></p>
<p class="d">perm: $ the user may change it, provisioning overwrites the change; ! provisioning keeps the user's change; &amp; read-only. Passwords are never shown: leave one blank to keep it.</p>
<form method="post" action="/settings.htm">
{{range .Groups}}<h2 id="{{.ID}}">{{.Name}}</h2>
{{range .Blocks}}{{if .Caption}}<h3>{{.Caption}}</h3>
{{end}}{{if .Heads}}<p class="d">{{range .Heads}}{{.Name}}: {{.Doc}}. {{end}}Perm and origin shown for keys set by a source.</p>
<table><tr><th>key</th>{{range .Heads}}<th>{{.Name}}</th>{{end}}</tr>
{{range .Keys}}<tr><td>{{.Key}}</td>{{range .Fields}}<td>{{template "input" .}}{{if not .Default}} <span title="{{.PermTitle}}">{{.Perm}}</span> <small>{{inert .From}}</small>{{end}}</td>{{end}}</tr>
{{end}}</table>
{{else}}<table><tr><th>name</th><th>value</th><th>perm</th><th>from</th><th></th></tr>
{{range .Rows}}<tr><td>{{.Name}}</td><td>{{template "input" .}}</td><td title="{{.PermTitle}}">{{.Perm}}</td><td>{{inert .From}}</td><td class="d">{{.Doc}}</td></tr>
{{end}}</table>
{{end}}{{end}}<p><button>Save</button></p>
{{end}}</form>
<h2 id="unknown">Unknown settings</h2>
{{if .Unknown}}<p class="d">Set, but the phone does not read them.</p>
<table><tr><th>name</th><th>value</th><th>from</th><th></th></tr>
{{range .Unknown}}<tr><td>{{inert .Name}}</td><td class="v">{{if .Secret}}(set){{else}}{{.Value}}{{end}}</td><td>{{inert .From}}</td><td>{{if .Suggest}}did you mean {{.Suggest}}?{{end}}</td></tr>
{{end}}</table>
{{else}}<p>none</p>
{{end}}{{end}}{{template "bottom" .}}{{end}}

{{define "input"}}{{if .Secret}}<input type="password" name="{{.Name}}" autocomplete="new-password"{{if .Refused}} disabled{{end}}>{{if .HasValue}} (set){{end}}
{{- else if .Options}}<select name="{{.Name}}"{{if .Refused}} disabled{{end}}>{{range .Options}}<option{{if .Extra}} value="{{.Value}}"{{end}}{{if .Selected}} selected{{end}}>{{.Value}}</option>{{end}}</select>
{{- else}}<input name="{{.Name}}"{{if .Value}} value="{{.Value}}"{{end}}{{if .Size}} size="{{.Size}}"{{end}}{{if .Refused}} disabled{{end}}>{{end}}
{{- if .Refused}} <small class="ro">{{inert .Refused}}</small>{{end}}{{if .Err}} <small class="error">{{inert .Err}}</small>{{end}}{{end}}

{{define "ok"}}{{template "top" .}}
<ul>{{range .Done}}<li>{{inert .}}</li>{{end}}</ul>
<p><a href="{{if .Back}}{{.Back}}{{else}}/{{end}}">back</a></p>
{{template "bottom" .}}{{end}}
`))
}

// render executes a template into a buffer first, so a template error is
// a clean 500 instead of half a page.
func (h *handler) render(w http.ResponseWriter, name string, p page) {
	h.renderCode(w, http.StatusOK, name, p)
}

// renderCode is render with a status code.
func (h *handler) renderCode(w http.ResponseWriter, code int, name string, p page) {
	var b bytes.Buffer
	if err := pages().ExecuteTemplate(&b, name, p); err != nil {
		http.Error(w, "webui: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(b.Bytes())
}

func (h *handler) index(w http.ResponseWriter, r *http.Request) {
	h.render(w, "index", page{Title: "Phone", Refresh: 5, State: StateOf(h.phone.View())})
}

// logPage is /log.htm and logText /log.txt: the entries at the log's
// level (--log-level) and above, or at ?level= (a name or a snom digit,
// see phonelog.ParseLevel) and above, in the log's format.
func (h *handler) logPage(w http.ResponseWriter, r *http.Request) {
	log, min, ok := h.logLevel(w, r)
	if !ok {
		return
	}
	f := log.LineFormat()
	var lines []logLine
	for _, e := range log.Entries() {
		if e.Level >= min {
			lines = append(lines, logLine{Level: e.Level.String(), Text: e.Line(f)})
		}
	}
	h.render(w, "log", page{Title: "Log", Refresh: 5, Lines: lines})
}

func (h *handler) logText(w http.ResponseWriter, r *http.Request) {
	log, min, ok := h.logLevel(w, r)
	if !ok {
		return
	}
	f := log.LineFormat()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	var b bytes.Buffer
	for _, e := range log.Entries() {
		if e.Level >= min {
			b.WriteString(e.Line(f))
			b.WriteByte('\n')
		}
	}
	_, _ = w.Write(b.Bytes())
}

// logLevel is the lowest level the log pages show: ?level= when given,
// else the log's own. A bad ?level= is answered 400 here (ok false).
func (h *handler) logLevel(w http.ResponseWriter, r *http.Request) (*phonelog.Log, firmware.Level, bool) {
	log := h.phone.Log()
	q := r.URL.Query()
	if !q.Has("level") {
		return log, log.Level(), true
	}
	min, err := phonelog.ParseLevel(q.Get("level"))
	if err != nil {
		http.Error(w, "webui: "+phonelog.Inert(err.Error()), http.StatusBadRequest)
		return nil, 0, false
	}
	return log, min, true
}
