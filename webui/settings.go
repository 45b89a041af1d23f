package webui

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"phonesim/keypad"
	"phonesim/phonelog"
	"phonesim/provisioning"
)

// Limits on a settings change.
const (
	maxFormLen = 256 << 10 // a POST /settings.htm body
)

// Sources of user changes, as the findings and the phone log name them.
const (
	sourceForm  = "web form"
	sourceDummy = "dummy.htm"
)

// settingsForm is the editable /settings.htm: the schema's groups, each
// a list of tables, and the set names the phone does not know.
type settingsForm struct {
	Notice   string // "saved 2 settings", "nothing was saved: ..."
	Failed   bool   // Notice reports a refused save
	Findings []findingView
	Server   string // setting_server in force, for the fetch button
	Groups   []groupView
	Unknown  []unknownRow
}

type findingView struct{ Severity, Name, Message string }

type groupView struct {
	ID, Name string
	Blocks   []block
}

// block is one table of a group: settings one per row (single settings,
// one identity, one client action), or the function keys one key per
// row with the key family's settings side by side (Heads).
type block struct {
	Caption string
	Rows    []field
	Heads   []keyHead
	Keys    []keyRow
}

type keyHead struct{ Name, Doc string }

type keyRow struct {
	Key    string
	Fields []field
}

// field is one setting's row or cell. Value is what the page shows:
// inert, with a URL's password blanked (shown), or the user's input
// after a refused save; a secret's value is never in it.
type field struct {
	Name      string
	Value     string
	Options   []option // a select's choices; nil for a text input
	Size      int
	Secret    bool
	HasValue  bool // a secret holds a value: shown as "(set)"
	Perm      string
	PermTitle string
	From      string
	Default   bool // nothing set it
	Doc       string
	Refused   string // why the user may not change it: shown disabled
	Err       string // an error of the save just refused
}

type option struct {
	Value    string
	Selected bool
	Extra    bool // the value in force, not one of the spec's values
}

type unknownRow struct {
	Name, Value, From, Suggest string
	Secret                     bool
}

// settingsPage serves GET /settings.htm.
func (h *handler) settingsPage(w http.ResponseWriter, r *http.Request) {
	h.renderSettings(w, http.StatusOK, &settingsForm{}, nil, nil)
}

// renderSettings fills form from the settings in force (typed: the
// user's input to show instead, errs: error messages by setting) and
// writes the page with status code.
func (h *handler) renderSettings(w http.ResponseWriter, code int, form *settingsForm, typed, errs map[string]string) {
	s := h.settings()
	form.Server = shown(s.Get("setting_server"))
	form.Groups = h.groups(s, typed, errs)
	form.Unknown = unknown(s)
	h.renderCode(w, code, "settings", page{Title: "Settings", Form: form})
}

func (h *handler) settings() *provisioning.Settings {
	if s := h.phone.Settings(); s != nil {
		return s
	}
	return provisioning.New()
}

// groups lays the schema out by group, in page order. A run of single
// settings is one table; a numbered family is a table per identity or
// client action in use (plus one empty one to fill in), or one table of
// the function keys the configured expansion modules give.
func (h *handler) groups(s *provisioning.Settings, typed, errs map[string]string) []groupView {
	schema := provisioning.Schema()
	var out []groupView
	for gi, g := range provisioning.Groups {
		gv := groupView{ID: "g" + strconv.Itoa(gi+1), Name: g}
		var specs []*provisioning.Spec
		for i := range schema {
			if schema[i].Group == g {
				specs = append(specs, &schema[i])
			}
		}
		for i := 0; i < len(specs); {
			j := i + 1
			for j < len(specs) && specs[j].Family == specs[i].Family {
				j++
			}
			run := specs[i:j]
			i = j
			switch fam := run[0].Family; fam {
			case provisioning.Single:
				b := block{}
				for _, sp := range run {
					b.Rows = append(b.Rows, h.field(s, sp, sp.Name, typed, errs))
				}
				gv.Blocks = append(gv.Blocks, b)
			case provisioning.PerKey:
				b := block{}
				for _, sp := range run {
					b.Heads = append(b.Heads, keyHead{Name: sp.Name, Doc: sp.Doc})
				}
				for _, idx := range keysShown(s, run) {
					kr := keyRow{Key: string(keypad.FunctionKey(idx))}
					for _, sp := range run {
						kr.Fields = append(kr.Fields, h.field(s, sp, sp.Name+strconv.Itoa(idx), typed, errs))
					}
					b.Keys = append(b.Keys, kr)
				}
				gv.Blocks = append(gv.Blocks, b)
			default:
				word := "Identity"
				if fam == provisioning.PerAction {
					word = "Client action"
				}
				used, empty := instancesShown(s, run)
				for _, idx := range used {
					b := block{Caption: word + " " + strconv.Itoa(idx)}
					if idx == empty {
						b.Caption += " (new)"
					}
					for _, sp := range run {
						b.Rows = append(b.Rows, h.field(s, sp, sp.Name+strconv.Itoa(idx), typed, errs))
					}
					gv.Blocks = append(gv.Blocks, b)
				}
			}
		}
		out = append(out, gv)
	}
	return out
}

// instancesShown returns the numbers of an identity or client action
// family to show: those in use (the family's first setting, user_name or
// client_action_name, is not empty, or any of its settings is set), and
// the lowest unused one as empty (-1 when all are in use).
func instancesShown(s *provisioning.Settings, run []*provisioning.Spec) (shown []int, empty int) {
	lo, hi := run[0].Family.Range()
	empty = -1
	for i := lo; i <= hi; i++ {
		n := strconv.Itoa(i)
		used := s.Get(familyKey(run[0].Family)+n) != ""
		for _, sp := range run {
			used = used || s.IsSet(sp.Name+n)
		}
		if !used && empty < 0 {
			empty = i
		}
		if used || empty == i {
			shown = append(shown, i)
		}
	}
	return shown, empty
}

// familyKey is the setting whose value makes an identity or a client
// action exist (user_name, client_action_name), whatever group a
// family's other settings are shown in.
func familyKey(f provisioning.Family) string {
	if f == provisioning.PerAction {
		return "client_action_name"
	}
	return "user_name"
}

// keysShown returns the function keys the phone has: P1–P32 and 18 per
// expansion module, and any key beyond them that is set.
func keysShown(s *provisioning.Settings, run []*provisioning.Spec) []int {
	lo, hi := run[0].Family.Range()
	n := 32 + 18*min(max(s.Int("expansion_modules", 0), 0), 3)
	var out []int
	for i := lo; i <= hi; i++ {
		use := i-lo < n
		for _, sp := range run {
			use = use || s.IsSet(sp.Name+strconv.Itoa(i))
		}
		if use {
			out = append(out, i)
		}
	}
	return out
}

// field describes one setting for the form.
func (h *handler) field(s *provisioning.Settings, sp *provisioning.Spec, name string, typed, errs map[string]string) field {
	m := s.Meta(name)
	f := field{
		Name: name, Doc: sp.Doc,
		Perm: m.Perm.String(), PermTitle: m.Perm.Describe(),
		From: from(m), Default: m.Source == provisioning.FromDefault && !s.IsSet(name),
		Refused: h.phone.Refuses(name), Err: errs[name],
	}
	if provisioning.IsSecret(name) {
		f.Secret, f.HasValue = true, s.Get(name) != ""
		return f
	}
	f.Value = shown(s.Get(name))
	if t, ok := typed[name]; ok {
		f.Value = phonelog.Inert(t)
	}
	switch sp.Kind {
	case provisioning.Bool, provisioning.Enum:
		found := false
		for _, v := range sp.Values {
			found = found || v == f.Value
		}
		if !found {
			f.Options = append(f.Options, option{Value: f.Value, Selected: true, Extra: true})
		}
		for _, v := range sp.Values {
			f.Options = append(f.Options, option{Value: v, Selected: v == f.Value})
		}
	case provisioning.URL:
		f.Size = 50
	case provisioning.Fkey:
		f.Size = 30
	}
	return f
}

// unknown lists the names that are set but that the phone does not read.
func unknown(s *provisioning.Settings) []unknownRow {
	var out []unknownRow
	for _, n := range s.Names() {
		if provisioning.Known(n) || !s.IsSet(n) {
			continue
		}
		u := unknownRow{Name: n, From: from(s.Meta(n)), Suggest: provisioning.Suggest(n), Secret: provisioning.IsSecret(n)}
		if !u.Secret {
			u.Value = shown(s.Get(n))
		}
		out = append(out, u)
	}
	return out
}

// from says where a value came from: default, file NAME, server URL,
// user, command line.
func from(m provisioning.Meta) string {
	switch m.Source {
	case provisioning.FromDefault, provisioning.FromUser, provisioning.FromCommandLine:
		return m.Source.String()
	}
	if m.Origin == "" {
		return m.Source.String()
	}
	return m.Source.String() + " " + shown(m.Origin)
}

// shown is a value as a page shows it: inert, and with the password of
// a URL in it blanked ("http://u:pw@h/" shows as "http://u:@h/").
// Posting the shown value back leaves the value unchanged.
func shown(v string) string {
	return phonelog.Inert(blankPassword(v))
}

// blankPassword blanks the password of the first URL in v.
func blankPassword(v string) string {
	i := strings.Index(v, "://")
	if i < 0 {
		return v
	}
	a := i + 3
	e := len(v)
	if j := strings.IndexAny(v[a:], "/?# "); j >= 0 {
		e = a + j
	}
	at := strings.LastIndexByte(v[a:e], '@')
	if at < 0 {
		return v
	}
	c := strings.IndexByte(v[a:a+at], ':')
	if c < 0 || c+1 == at {
		return v
	}
	return v[:a+c+1] + v[a+at:]
}

// pair is one name=value of a query or form, in the order given.
type pair struct{ name, value string }

// parsePairs splits a query or form body at "&" (never ";": a function
// key or a SIP URI holds semicolons) and query-decodes each part ("+" is
// a space). A name given twice keeps its first place and its last value.
func parsePairs(raw string) ([]pair, error) {
	var out []pair
	at := map[string]int{}
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		n, v, _ := strings.Cut(part, "=")
		name, err := url.QueryUnescape(n)
		if err != nil {
			return nil, fmt.Errorf("webui: bad percent-encoding in parameter name %s", quote(n))
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("webui: bad percent-encoding in %s=%s", quote(name), quote(v))
		}
		if i, ok := at[name]; ok {
			out[i].value = value
			continue
		}
		at[name] = len(out)
		out = append(out, pair{name, value})
	}
	return out, nil
}

// saveSettings serves POST /settings.htm: the form (only the fields
// whose value differs from the one in force become changes, all in one
// ChangeSettings), or action=reprovision (the fetch button).
func (h *handler) saveSettings(w http.ResponseWriter, r *http.Request) {
	if why := h.crossOrigin(r); why != "" {
		http.Error(w, "webui: cross-origin settings change refused: "+why, http.StatusForbidden)
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		http.Error(w, "webui: POST /settings.htm takes application/x-www-form-urlencoded", http.StatusUnsupportedMediaType)
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormLen))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("webui: form too large (at most %d bytes)", maxFormLen), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "webui: reading the form: "+err.Error(), http.StatusBadRequest)
		return
	}
	pairs, err := parsePairs(string(data))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, p := range pairs {
		if p.name == "action" && p.value == "reprovision" {
			h.reprovision(w)
			return
		}
	}

	s := h.settings()
	var changes []provisioning.UserChange
	typed := map[string]string{}
	secrets := false
	for _, p := range pairs {
		if p.name == "action" {
			continue
		}
		cur := s.Get(p.name)
		if provisioning.IsSecret(p.name) {
			if p.value == "" || p.value == cur {
				continue // blank: unchanged
			}
			secrets = true
		} else {
			if p.value == cur || p.value == shown(cur) {
				continue
			}
			typed[p.name] = p.value
		}
		changes = append(changes, provisioning.UserChange{Name: p.name, Value: p.value})
	}
	if len(changes) == 0 {
		h.renderSettings(w, http.StatusOK, &settingsForm{Notice: "nothing changed"}, nil, nil)
		return
	}
	fs, err := h.phone.ChangeSettings(changes, sourceForm)
	if err != nil {
		http.Error(w, "webui: the phone is not running, nothing was saved: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	form := &settingsForm{Findings: findingViews(fs)}
	if provisioning.HasError(fs) {
		form.Failed = true
		form.Notice = "nothing was saved: fix the errors below and save again"
		if secrets {
			form.Notice += " (type the passwords again: they are never shown)"
		}
		errs := map[string]string{}
		for _, f := range fs {
			if f.Severity == provisioning.Error && f.Name != "" {
				errs[f.Name] = f.Message
			}
		}
		h.renderSettings(w, http.StatusBadRequest, form, typed, errs)
		return
	}
	form.Notice = saved(len(changes))
	h.renderSettings(w, http.StatusOK, form, nil, nil)
}

// reprovision answers the "Fetch settings now" button.
func (h *handler) reprovision(w http.ResponseWriter) {
	if err := h.phone.Reprovision(); err != nil {
		http.Error(w, "webui: the phone is not running: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	msg := "fetching the settings from " + shown(h.phone.Setting("setting_server")) + "; the outcome goes to the log"
	if strings.TrimSpace(h.phone.Setting("setting_server")) == "" {
		msg = "no setting_server is set: there is nothing to fetch"
	}
	h.render(w, "ok", page{Title: "Fetch settings", Done: []string{msg}, Back: "/log.htm"})
}

func saved(n int) string {
	if n == 1 {
		return "saved 1 setting"
	}
	return "saved " + strconv.Itoa(n) + " settings"
}

func findingViews(fs []provisioning.Finding) []findingView {
	out := make([]findingView, len(fs))
	for i, f := range fs {
		out[i] = findingView{Severity: f.Severity.String(), Name: f.Name, Message: f.Message}
	}
	return out
}

// dummy serves snom's script form of saving settings:
//
//	/dummy.htm?settings=save&dnd_mode=on&fkey_label3=Alice
//
// Every pair but settings=save is a change, all in one ChangeSettings:
// 200 and a plain-text list of what was saved, or 400 and the findings
// (nothing saved).
func (h *handler) dummy(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "webui: /dummy.htm takes GET", http.StatusMethodNotAllowed)
		return
	}
	if why := h.crossOrigin(r); why != "" {
		http.Error(w, "webui: cross-origin settings change refused: "+why, http.StatusForbidden)
		return
	}
	if len(r.URL.RawQuery) > maxQueryLen {
		http.Error(w, fmt.Sprintf("webui: query too long (at most %d bytes)", maxQueryLen), http.StatusBadRequest)
		return
	}
	pairs, err := parsePairs(r.URL.RawQuery)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	op, hasOp := "", false
	var changes []provisioning.UserChange
	for _, p := range pairs {
		if p.name == "settings" {
			op, hasOp = p.value, true
			continue
		}
		changes = append(changes, provisioning.UserChange{Name: p.name, Value: p.value})
	}
	if op != "save" {
		msg := "webui: /dummy.htm needs settings=save: /dummy.htm?settings=save&NAME=VALUE&NAME2=VALUE2"
		if hasOp {
			msg = "webui: unknown settings=" + quote(op) + ": only settings=save is known (/dummy.htm?settings=save&NAME=VALUE)"
		}
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	var b strings.Builder
	if len(changes) == 0 {
		b.WriteString("nothing to save: add NAME=VALUE pairs\n")
	} else {
		fs, err := h.phone.ChangeSettings(changes, sourceDummy)
		if err != nil {
			http.Error(w, "webui: the phone is not running, nothing was saved: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		if provisioning.HasError(fs) {
			b.WriteString("webui: nothing was saved:\n")
			for _, f := range fs {
				b.WriteString(phonelog.Inert(f.String()) + "\n")
			}
			http.Error(w, strings.TrimSuffix(b.String(), "\n"), http.StatusBadRequest)
			return
		}
		b.WriteString(saved(len(changes)) + ":\n")
		for _, c := range changes {
			v := shown(c.Value)
			if provisioning.IsSecret(c.Name) {
				v = "(secret, not shown)"
			}
			b.WriteString(phonelog.Inert(c.Name) + "=" + v + "\n")
		}
		for _, f := range fs {
			b.WriteString(phonelog.Inert(f.String()) + "\n")
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, b.String())
}
