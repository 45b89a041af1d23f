package firmware

import (
	"strconv"
	"strings"

	"phonesim/provisioning"
)

// Hot-desking: a user logs an identity on at a shared phone (from the
// handset's menu or /command.htm?logon=USER&pass=PASS), the identity
// registers, action_log_on_url fires with $context_url the identity's
// SIP URI; logging off fires action_log_off_url and unregisters. The
// logon is a user change (user_name, user_pass, user_host, user_active):
// it survives a restart and a provisioning, as on a snom phone.

// LogOnRequested asks the phone to log a user on (hot-desking). Identity
// 0 takes the first identity with no user name. Host "" keeps the
// identity's user_host (the hot-desk registrar provisioned on the phone).
type LogOnRequested struct {
	Identity int
	User     string
	Password string // a secret: never logged
	Host     string
}

// LogOffRequested asks the phone to log an identity off; 0 logs off
// every identity logged on by hot-desking.
type LogOffRequested struct{ Identity int }

func (LogOnRequested) event()  {}
func (LogOffRequested) event() {}

// hotdeskEditing is the menu's pseudo-setting for the logon entry: the
// user types USER*PIN.
const hotdeskEditing = "hotdesk_logon"

const maxHotdeskField = 64

func (p *Phone) logOn(e LogOnRequested) {
	user := strings.TrimSpace(e.User)
	if !validHotdeskUser(user) || len(e.Password) > 128 || strings.ContainsAny(e.Password, "\x00\r\n") {
		p.logf(Warning, "log on refused: bad user name "+quoteShort(user))
		p.say("Log on failed")
		p.render()
		return
	}
	if e.Host != "" {
		if err := provisioning.Validate("user_host1", e.Host); err != nil {
			p.logf(Warning, "log on refused: bad host "+quoteShort(e.Host)+": "+err.Error())
			p.say("Log on failed")
			p.render()
			return
		}
	}
	i := e.Identity
	if i == 0 {
		for j := 1; j <= provisioning.MaxIdentities; j++ {
			if p.s.Get("user_name"+strconv.Itoa(j)) == "" || p.hotdesk[j] {
				i = j
				break
			}
		}
	}
	if i < 1 || i > provisioning.MaxIdentities {
		p.logf(Warning, "log on of "+quoteShort(user)+" refused: no free identity")
		p.say("Log on failed: no free identity")
		p.render()
		return
	}
	n := strconv.Itoa(i)
	if p.hotdesk[i] && p.s.Get("user_name"+n) != "" {
		p.logOff(LogOffRequested{Identity: i})
	}
	host := e.Host
	if host == "" {
		host = p.s.Get("user_host" + n)
	}
	if host == "" {
		p.logf(Warning, "log on of "+quoteShort(user)+" refused: identity "+n+" has no user_host")
		p.say("Log on failed: no registrar")
		p.render()
		return
	}
	p.saveSetting("user_name"+n, user)
	p.saveSetting("user_pass"+n, e.Password)
	p.saveSetting("user_host"+n, host)
	p.saveSetting("user_active"+n, "on")
	p.hotdesk[i] = true
	p.logf(Info, "identity "+n+": "+user+"@"+host+" logged on")
	p.register(i)
	p.fireIdentity("action_log_on_url", i)
	p.say("Logged on: " + user)
	p.render()
}

func (p *Phone) logOff(e LogOffRequested) {
	ids := []int{e.Identity}
	if e.Identity == 0 {
		ids = nil
		for j := 1; j <= provisioning.MaxIdentities; j++ {
			if p.hotdesk[j] {
				ids = append(ids, j)
			}
		}
	}
	if len(ids) == 0 {
		p.logf(Info, "log off: nobody is logged on")
		return
	}
	for _, i := range ids {
		if i < 1 || i > provisioning.MaxIdentities {
			p.logf(Warning, "log off refused: no identity "+strconv.Itoa(i))
			continue
		}
		n := strconv.Itoa(i)
		user := p.s.Get("user_name" + n)
		if user == "" {
			p.logf(Info, "log off: identity "+n+" has nobody logged on")
			continue
		}
		p.fireIdentity("action_log_off_url", i) // $context_url: still the identity's URI
		p.logf(Info, "identity "+n+": "+user+" logged off")
		p.saveSetting("user_name"+n, "")
		p.saveSetting("user_pass"+n, "")
		p.hotdesk[i] = false
		p.register(i) // no user: the adapter unregisters
		p.say("Logged off: " + user)
	}
	p.render()
}

func validHotdeskUser(u string) bool {
	if u == "" || len(u) > maxHotdeskField {
		return false
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-_.!~+", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// hotdeskMenu returns the menu's hot-desking rows: "Log on" while
// identity 1 has no user (a hot-desk phone ships without one), and "Log
// off USER" for each identity logged on by hot-desking.
func (p *Phone) hotdeskMenu() []menuItem {
	var items []menuItem
	for i := 1; i <= provisioning.MaxIdentities; i++ {
		if !p.hotdesk[i] {
			continue
		}
		i := i
		user := p.s.Get("user_name" + strconv.Itoa(i))
		items = append(items, menuItem{label: "Log off " + user, change: func(p *Phone, _ bool) {
			p.logOff(LogOffRequested{Identity: i})
		}})
	}
	if p.s.Get("user_name1") == "" {
		items = append(items, menuItem{label: "Log on (user*PIN)", change: func(p *Phone, _ bool) {
			p.editing, p.edit = hotdeskEditing, nil
		}})
	}
	return items
}

// hotdeskEntered logs on what the user typed in the menu: USER*PIN.
func (p *Phone) hotdeskEntered(v string) {
	user, pin, ok := strings.Cut(v, "*")
	if !ok || user == "" {
		p.say("Log on: type user*PIN")
		return
	}
	p.logOn(LogOnRequested{Identity: 1, User: user, Password: pin})
}
