package firmware

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"phonesim/keypad"
	"phonesim/provisioning"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/*.txt scenarios")

// start is the wall time of every scenario's first tick.
var start = time.Date(2026, 3, 5, 9, 4, 0, 0, time.UTC)

// TestScenarios runs testdata/*.txt: each block is a command, a "----"
// line and the effects it must produce; blocks are separated by a blank
// line. Run with -rewrite to regenerate the expected output.
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runScenario(t, file)
		})
	}
}

func runScenario(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	r := &runner{t: t}
	blocks := splitBlocks(string(data))
	for _, b := range blocks {
		got := r.exec(b.cmd)
		out.WriteString(b.comment + b.cmd + "\n----\n" + got)
		if !strings.HasSuffix(got, "\n") && got != "" {
			out.WriteString("\n")
		}
		out.WriteString("\n")
		if !*rewrite && strings.TrimSpace(got) != strings.TrimSpace(b.want) {
			t.Errorf("%s:%d: %s\n got:\n%s\nwant:\n%s", file, b.line, b.cmd, got, b.want)
		}
	}
	if *rewrite {
		if err := os.WriteFile(file, []byte(strings.TrimRight(out.String(), "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type block struct {
	comment   string // the "#" lines before the command, kept by -rewrite
	cmd, want string
	line      int
}

func splitBlocks(s string) []block {
	var bs []block
	lines := strings.Split(s, "\n")
	var comment string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "#") {
			comment += l + "\n"
			continue
		}
		if strings.TrimSpace(l) == "" {
			continue
		}
		b := block{cmd: l, line: i + 1, comment: comment}
		comment = ""
		i++
		for i < len(lines) && lines[i] != "----" {
			b.cmd += "\n" + lines[i]
			i++
		}
		i++
		var want []string
		for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
			want = append(want, lines[i])
			i++
		}
		b.want = strings.Join(want, "\n")
		bs = append(bs, b)
	}
	return bs
}

type runner struct {
	t     *testing.T
	store *provisioning.Store // the settings' sources, as the device keeps them
	p     *Phone
	now   time.Time
	saved []Memory // every SaveMemory, oldest first
	// tickless skips Ticks until the phone's NextTick, as the device does
	// (tickless_test.go); behind says one was skipped since the last.
	tickless, behind bool
	lastTick         time.Time // of the last Tick the phone got
}

func (r *runner) exec(cmd string) string {
	fields := splitArgs(cmd)
	if len(fields) == 0 {
		return ""
	}
	args := fields[1:]
	kv := func(name string) string {
		for _, a := range args {
			if k, v, ok := strings.Cut(a, "="); ok && k == name {
				return v
			}
		}
		return ""
	}
	pos := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	var effects []Effect
	step := func(ev Event) {
		if t, tick := ev.(Tick); tick {
			r.lastTick = t.Now
		} else if r.behind && r.p != nil {
			r.behind = false // the device's catch-up Tick before an event
			r.lastTick = r.now
			effects = append(effects, r.p.Step(Tick{Now: r.now})...)
		}
		out := r.p.Step(ev)
		for i, e := range out {
			if _, ok := e.(SaveMemory); ok { // as the device does: the Memory now
				m := r.p.Memory()
				r.saved = append(r.saved, m)
				out[i] = savedMemory{m}
			}
			if u, ok := e.(SaveSetting); ok && r.store != nil {
				// as the device does: the user's change goes into the store
				if fs := r.store.Change([]provisioning.UserChange{{Name: u.Name, Value: u.Value}}, "handset"); provisioning.HasError(fs) {
					r.t.Fatalf("handset change refused by the store: %v", fs)
				}
			}
		}
		effects = append(effects, out...)
		if err := checkInvariants(r.p); err != nil {
			r.t.Fatalf("after %q: %v", cmd, err)
		}
	}
	if fields[0] != "new" && fields[0] != "restart" && r.p == nil {
		r.t.Fatalf("%q before new", cmd)
	}
	switch fields[0] {
	case "restart":
		// a new phone that loads what the old one saved last
		var mem Memory
		if n := len(r.saved); n > 0 {
			mem = r.saved[n-1]
		}
		r.p, r.behind = New(r.settings(args)), false
		step(MemoryLoaded{Memory: mem})
		step(PoweredOn{})
		step(NetworkUp{IP: "192.0.2.10", Port: 5060})
	case "new":
		r.p, r.behind = New(r.settings(args)), false
		// what the phone was made with is its setting file; the store
		// then keeps the user's changes, as the device's does
		f := &provisioning.File{Name: "new"}
		for _, a := range args {
			k, v, _ := strings.Cut(a, "=")
			f.Entries = append(f.Entries, provisioning.Entry{Name: k, Value: v})
		}
		r.store = provisioning.NewStore()
		r.store.AddFile(f)
		r.now = start
		step(PoweredOn{})
		step(NetworkUp{IP: "192.0.2.10", Port: 5060})
		step(Tick{Now: r.now})
	case "provision":
		// a setting server delivers these (name, name!, name& or
		// name$ = value), as the device applies a fetch
		f := &provisioning.File{Name: "server.xml"}
		for i, a := range args {
			k, v, _ := strings.Cut(a, "=")
			if k == "book" {
				name, number, _ := strings.Cut(v, ":")
				f.Contacts = append(f.Contacts, provisioning.Contact{Name: name, Number: number})
				continue
			}
			perm := ""
			if n := len(k); n > 0 && strings.ContainsRune("!&$", rune(k[n-1])) {
				k, perm = k[:n-1], k[n-1:]
			}
			pm, err := provisioning.ParsePerm(perm)
			if err != nil {
				r.t.Fatal(err)
			}
			f.Entries = append(f.Entries, provisioning.Entry{Name: k, Value: v, Perm: pm, Line: i + 1})
		}
		if fs := r.store.SetServer([]*provisioning.File{f}); provisioning.HasError(fs) {
			effects = append(effects, Log{Level: Warning, Message: "provisioning refused: " + provisioning.FormatFindings(fs)})
			break
		}
		next := r.store.Resolve()
		if !next.IsSet("user_name1") {
			_ = next.Set("user_name1", "100")
		}
		step(SettingsChanged{Settings: next})
	case "set":
		for _, a := range args {
			k, v, _ := strings.Cut(a, "=")
			step(SettingChanged{Name: k, Value: v})
		}
	case "key":
		for _, a := range args {
			k, err := keypad.Parse(a)
			if err != nil {
				r.t.Fatal(err)
			}
			step(KeyPressed{Key: k})
		}
	case "longpress":
		k, err := keypad.Parse(pos(0))
		if err != nil {
			r.t.Fatal(err)
		}
		step(KeyPressed{Key: k, Held: 1500 * time.Millisecond})
	case "transferred":
		// transferred CALL ok TARGET | transferred CALL STATUS REASON
		if pos(1) == "ok" {
			step(CallTransferred{Call: CallID(pos(0)), Target: pos(2), OK: true, Status: 202})
		} else {
			n, _ := strconv.Atoi(pos(1))
			step(CallTransferred{Call: CallID(pos(0)), Status: n, Reason: pos(2)})
		}
	case "referred":
		// referred CALL TARGET [replaces=VALUE]: a REFER came in
		step(CallReferred{Call: CallID(pos(0)), Target: pos(1), Replaces: kv("replaces")})
	case "attended-transferred":
		// attended-transferred HELD CONSULT ok | ... HELD CONSULT STATUS REASON
		if pos(2) == "ok" {
			step(AttendedTransferDone{Call: CallID(pos(0)), Consult: CallID(pos(1)), OK: true, Status: 200})
		} else {
			n, _ := strconv.Atoi(pos(2))
			step(AttendedTransferDone{Call: CallID(pos(0)), Consult: CallID(pos(1)), Status: n, Reason: pos(3)})
		}
	case "dial":
		step(NumberDialed{Number: pos(0)})
	case "hangup":
		step(HangUpRequested{Call: CallID(pos(0))})
	case "offer":
		from := Party{URI: kv("uri"), Display: kv("name")}
		if u, err := strconv.Unquote(`"` + from.Display + `"`); err == nil {
			from.Display = u // lets a scenario write \x1b
		}
		h := map[string]string{}
		for _, a := range args {
			if k, v, ok := strings.Cut(a, "="); ok && k == "header" {
				hk, hv, _ := strings.Cut(v, ":")
				h[hk] = hv
			}
		}
		step(CallOffered{Call: CallID(pos(0)), SIPCallID: pos(0) + "@sip", From: from, To: kv("to"), Headers: h, Source: kv("source"), Replaces: CallID(kv("replaces"))})
	case "logon":
		// logon user=U pass=P [host=H] [identity=N]: hot-desking
		n, _ := strconv.Atoi(kv("identity"))
		step(LogOnRequested{Identity: n, User: kv("user"), Password: kv("pass"), Host: kv("host")})
	case "logoff":
		n, _ := strconv.Atoi(pos(0))
		step(LogOffRequested{Identity: n})
	case "sent":
		step(CallSent{Call: CallID(pos(0)), SIPCallID: pos(1)})
	case "progress":
		n, _ := strconv.Atoi(pos(1))
		step(CallProgressed{Call: CallID(pos(0)), Status: n})
	case "answered":
		step(CallAnswered{Call: CallID(pos(0))})
	case "failed":
		n, _ := strconv.Atoi(pos(1))
		step(CallFailed{Call: CallID(pos(0)), Status: n, Reason: pos(2)})
	case "redirected":
		n, _ := strconv.Atoi(pos(1))
		step(CallRedirected{Call: CallID(pos(0)), Status: n, Target: pos(2)})
	case "cancel":
		step(CallCanceled{Call: CallID(pos(0)), Reason: kv("reason")})
	case "bye":
		step(CallEnded{Call: CallID(pos(0)), Reason: "bye"})
	case "ended":
		// ended CALL REASON...: the dialog died (no answer to a
		// re-INVITE, session expired, no RTP)
		step(CallEnded{Call: CallID(pos(0)), Reason: strings.Join(args[1:], " ")})
	case "data-failed":
		step(DataFolderFailed{Reason: strings.Join(args, " ")})
	case "data-ok":
		step(DataFolderRecovered{})
	case "registered":
		n, _ := strconv.Atoi(pos(0))
		step(Registered{Identity: n})
	case "registration-failed":
		n, _ := strconv.Atoi(pos(0))
		code, _ := strconv.Atoi(pos(1))
		step(RegistrationFailed{Identity: n, Status: code, Reason: strings.Join(args[2:], " ")})
	case "tick":
		n := 1
		if len(args) > 0 {
			n, _ = strconv.Atoi(args[0])
		}
		for i := 0; i < n; i++ {
			r.now = r.now.Add(TickInterval)
			if r.tickless {
				if n, ok := r.p.NextTick(); !ok || r.now.Before(r.lastTick.Add(time.Duration(n)*TickInterval)) {
					r.behind = true // as the device does: no Tick before the phone's next
					continue
				}
			}
			r.behind = false
			step(Tick{Now: r.now})
		}
	case "state":
		return describe(r.p.View())
	default:
		if f, ok := subscriptionCommands[fields[0]]; ok { // blf_scenario_test.go
			if ev, out := f(r, args); ev != nil {
				step(ev)
			} else {
				return out
			}
			break
		}
		r.t.Fatalf("unknown command %q", cmd)
	}
	var b strings.Builder
	for _, e := range effects {
		b.WriteString(formatEffect(e) + "\n")
	}
	return b.String()
}

// settings are identity 100 plus the name=value arguments.
func (r *runner) settings(args []string) *provisioning.Settings {
	s := provisioning.New()
	_ = s.Set("user_name1", "100")
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		if err := s.Set(k, v); err != nil {
			r.t.Fatal(err)
		}
	}
	return s
}

// splitArgs splits on spaces, keeping double-quoted parts together.
func splitArgs(s string) []string {
	var out []string
	var cur strings.Builder
	quoted, any := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			any = true
		case r == ' ' && !quoted:
			if any {
				out = append(out, cur.String())
			}
			cur.Reset()
			any = false
		default:
			cur.WriteRune(r)
			any = true
		}
	}
	if any {
		out = append(out, cur.String())
	}
	return out
}

func formatEffect(e Effect) string {
	switch e := e.(type) {
	case Render:
		return "render"
	case Dial:
		if e.Replaces != "" {
			return fmt.Sprintf("dial %s %s from %s replaces %s", e.Call, e.Target, e.From.URI, e.Replaces)
		}
		return fmt.Sprintf("dial %s %s from %s", e.Call, e.Target, e.From.URI)
	case Ring:
		return fmt.Sprintf("ring %s", e.Call)
	case Answer:
		return fmt.Sprintf("answer %s", e.Call)
	case Reject:
		return fmt.Sprintf("reject %s %d %s", e.Call, e.Status, e.Reason)
	case Redirect:
		return fmt.Sprintf("redirect %s %d %s", e.Call, e.Status, e.Target)
	case Hangup:
		return fmt.Sprintf("hangup %s", e.Call)
	case HoldCall:
		return fmt.Sprintf("hold %s", e.Call)
	case ResumeCall:
		return fmt.Sprintf("resume %s", e.Call)
	case MuteCall:
		return fmt.Sprintf("mute %s %v", e.Call, e.Muted)
	case SendDTMF:
		return fmt.Sprintf("dtmf %s %s", e.Call, e.Digits)
	case TransferCall:
		return fmt.Sprintf("transfer %s %s", e.Call, e.Target)
	case Conference:
		return fmt.Sprintf("conference %s with %s", e.Call, e.With)
	case SplitConference:
		return fmt.Sprintf("split conference %s from %s", e.Call, e.With)
	case ReferProgress:
		return fmt.Sprintf("refer progress %s %d %s", e.Call, e.Status, e.Reason)
	case AttendedTransfer:
		return fmt.Sprintf("attended transfer %s to %s", e.Call, e.Consult)
	case FetchURL:
		return fmt.Sprintf("fetch %s %s", e.Event, e.URL)
	case SetLED:
		return fmt.Sprintf("led %s %s %s", keypad.FunctionKey(e.Index), e.LED.State, e.LED.Color)
	case Register:
		pass := ""
		if e.Password != "" {
			pass = " (password set)"
		}
		return fmt.Sprintf("register %d %s@%s expires %d%s", e.Identity, e.User, e.Host, e.Expires, pass)
	case Log:
		return fmt.Sprintf("log %s: %s", e.Level, e.Message)
	case SaveSetting:
		return fmt.Sprintf("save setting %s=%s", e.Name, e.Value)
	case Reprovision:
		return "reprovision"
	case RunApp:
		return fmt.Sprintf("run app %d %q (%s): %q", e.Action, e.Name, e.Trigger, e.Argv)
	case savedMemory:
		m := e.Memory
		return fmt.Sprintf("save memory: dnd=%v redirect=%q missed=%d (%d unseen) received=%d dialed=%d last=%q",
			m.DND, m.Redirect, len(m.Missed), m.MissedUnseen, len(m.Received), len(m.Dialed), m.LastDialed)
	}
	if s, ok := formatSubscriptionEffect(e); ok { // blf_scenario_test.go
		return s
	}
	if s, ok := e.(fmt.Stringer); ok { // effects that print themselves (multicast.go)
		return s.String()
	}
	return fmt.Sprintf("%T", e)
}

// describe prints the parts of a View a scenario checks.
func describe(v View) string {
	var b strings.Builder
	fmt.Fprintf(&b, "hook=%s dnd=%v redirect=%q", v.Hook, v.DND, v.Redirect)
	if v.Digits != "" {
		fmt.Fprintf(&b, " digits=%s", v.Digits)
	}
	if v.Active != "" {
		fmt.Fprintf(&b, " active=%s", v.Active)
	}
	if v.Message != "" {
		fmt.Fprintf(&b, " message=%q", v.Message)
	}
	if v.Screen == ScreenMenu {
		fmt.Fprintf(&b, " screen=menu")
		if v.Editing != "" {
			fmt.Fprintf(&b, " editing=%s", v.Editing)
		}
		for i, row := range v.Menu {
			mark := " "
			if i == v.ListCursor {
				mark = ">"
			}
			fmt.Fprintf(&b, "\n  %s %s", mark, row)
		}
	} else if v.Screen != ScreenIdle {
		fmt.Fprintf(&b, " screen=%s entries=%d", v.Screen, len(v.List))
	}
	if v.Missed > 0 {
		fmt.Fprintf(&b, " missed=%d", v.Missed)
	}
	if v.DataError != "" {
		fmt.Fprintf(&b, " data_error=%q", v.DataError)
	}
	b.WriteString("\n")
	for _, c := range v.Calls {
		fmt.Fprintf(&b, "call %s %s %s %s", c.ID, c.Direction, c.State, c.Remote.URI)
		if c.Remote.Display != "" {
			fmt.Fprintf(&b, " %q", c.Remote.Display)
		}
		if c.Remote.Name != "" {
			fmt.Fprintf(&b, " book=%q", c.Remote.Name)
		}
		if c.Seconds > 0 {
			fmt.Fprintf(&b, " %ds", c.Seconds)
		}
		if c.Muted {
			b.WriteString(" muted")
		}
		if c.Ring != "" {
			fmt.Fprintf(&b, " ring=%q", c.Ring)
		}
		if c.Info != "" {
			fmt.Fprintf(&b, " info=%q", c.Info)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "softkeys: %s\n", strings.Join(v.Softkeys[:], "|"))
	var leds []string
	for i, k := range v.Keys {
		if k.LED.State != LEDOff {
			leds = append(leds, fmt.Sprintf("%s=%s/%s", keypad.FunctionKey(i), k.LED.State, k.LED.Color))
		}
	}
	sort.Strings(leds)
	if len(leds) > 0 {
		fmt.Fprintf(&b, "leds: %s\n", strings.Join(leds, " "))
	}
	return b.String()
}

// checkInvariants is what must hold after every event.
func checkInvariants(p *Phone) error {
	busy, connected := 0, 0
	for i := range p.calls {
		c := &p.calls[i]
		if c.id == "" {
			continue
		}
		if i >= p.maxCalls {
			return fmt.Errorf("call %s in slot %d beyond max_calls %d", c.id, i, p.maxCalls)
		}
		if c.state != Ended {
			busy++
		}
		if c.state == Connected {
			// a local conference's two calls count as one (conference.go)
			if o := p.confPartner(c); o == nil || o.seq > c.seq {
				connected++
			}
		}
		if p.hook == OnHook && c.live() {
			return fmt.Errorf("on hook with call %s %s", c.id, c.state)
		}
		for j := range p.calls[:i] {
			if p.calls[j].id == c.id {
				return fmt.Errorf("call %s twice", c.id)
			}
		}
	}
	if busy > p.maxCalls {
		return fmt.Errorf("%d calls, max %d", busy, p.maxCalls)
	}
	if connected > 1 {
		return fmt.Errorf("%d calls connected at once", connected)
	}
	if p.active != "" && p.find(p.active) == nil {
		return fmt.Errorf("active call %s does not exist", p.active)
	}
	if p.ndigits < 0 || p.ndigits > len(p.digits) {
		return fmt.Errorf("digit count %d", p.ndigits)
	}
	return nil
}

// savedMemory is a SaveMemory with the Memory the runner took, to print.
type savedMemory struct{ Memory Memory }

func (savedMemory) effect() {}
