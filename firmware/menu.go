package firmware

import (
	"strconv"

	"phonesim/keypad"
	"phonesim/provisioning"
)

// The settings menu (the Menu key): the values a user sets on a real
// phone's handset — DND, redirection mode and target, volume, identities
// on and off — and a fetch of the setting server. Each change is a user
// change: it obeys the setting's perm and is kept (SaveSetting).

// menuItem is one row of the menu.
type menuItem struct {
	label   string
	setting string // the setting it changes; "" for none
	change  func(p *Phone, forward bool)
}

func (p *Phone) menuItems() []menuItem {
	items := []menuItem{
		{label: "DND: " + onOff(p.dnd), setting: "dnd_mode", change: func(p *Phone, _ bool) { p.setDND(!p.dnd) }},
		{label: "Redirection: " + redirectLabel(p.redirect), setting: "redirect_event", change: (*Phone).cycleRedirect},
		{label: "Redirect to: " + p.s.Get("redirect_number"), setting: "redirect_number", change: func(p *Phone, _ bool) {
			p.editing, p.edit = "redirect_number", []byte(p.s.Get("redirect_number"))
		}},
		{label: "Volume: " + strconv.Itoa(p.volume), change: func(p *Phone, forward bool) {
			if forward {
				p.volume = clamp(p.volume+1, 0, 15)
			} else {
				p.volume = clamp(p.volume-1, 0, 15)
			}
		}},
	}
	for i := 1; i <= provisioning.MaxIdentities; i++ {
		n := strconv.Itoa(i)
		user := p.s.Get("user_name" + n)
		if user == "" {
			continue
		}
		items = append(items, menuItem{label: "Identity " + n + " " + user + ": " + onOff(p.s.On("user_active"+n)),
			setting: "user_active" + n, change: func(p *Phone, _ bool) {
				p.saveSetting("user_active"+n, onOff(!p.s.On("user_active"+n)))
				p.logf(Info, "identity "+n+" "+onOff(p.s.On("user_active"+n))+" (menu)")
				p.register(i)
			}})
	}
	items = append(items, p.hotdeskMenu()...) // hotdesk.go
	items = append(items, menuItem{label: "Fetch settings now", change: func(p *Phone, _ bool) { p.act(keypad.Reprovision) }})
	for i := range items {
		if items[i].setting != "" && p.s.Perm(items[i].setting) == provisioning.PermReadOnly {
			items[i].label += " (locked)"
		}
	}
	return items
}

func redirectLabel(mode string) string {
	if mode == "" {
		return "off"
	}
	return mode
}

// cycleRedirect steps the redirection mode: off, all, busy, time.
func (p *Phone) cycleRedirect(forward bool) {
	modes := []string{"", "all", "busy", "time"}
	i := 0
	for j, m := range modes {
		if m == p.redirect {
			i = j
		}
	}
	if forward {
		i = (i + 1) % len(modes)
	} else {
		i = (i + len(modes) - 1) % len(modes)
	}
	p.setRedirect(modes[i])
}

// menuKey handles a key while the menu is open; false leaves it to the
// ordinary handling (a call needs the keys, or the key closes the menu).
func (p *Phone) menuKey(k keypad.Key) bool {
	if p.screen != ScreenMenu || p.ringing() != nil || p.find(p.active) != nil {
		return false
	}
	if p.editing != "" {
		return p.editKey(k)
	}
	items := p.menuItems()
	switch k {
	case keypad.Up, keypad.Down:
		if k == keypad.Down && p.cursor < len(items)-1 {
			p.cursor++
		} else if k == keypad.Up && p.cursor > 0 {
			p.cursor--
		}
	case keypad.Enter, keypad.Right, keypad.Left:
		it := items[clamp(p.cursor, 0, len(items)-1)]
		if it.setting != "" && p.locked(it.setting, it.setting) {
			return true
		}
		it.change(p, k != keypad.Left)
	case keypad.Cancel, keypad.Menu:
		p.screen = ScreenIdle
	default:
		if i, ok := k.SoftkeyIndex(); ok {
			sk := p.softkeys()[i]
			if sk.action == softKey {
				return p.menuKey(sk.key)
			}
		}
		return false
	}
	p.render()
	return true
}

// editKey edits a value (the redirect target): digits, * and # type,
// Left deletes, Enter saves, Cancel gives up.
func (p *Phone) editKey(k keypad.Key) bool {
	if i, ok := k.SoftkeyIndex(); ok {
		sk := p.softkeys()[i]
		if sk.action != softKey {
			return true
		}
		k = sk.key
	}
	if d, ok := k.Digit(); ok {
		if len(p.edit) < 64 {
			p.edit = append(p.edit, d)
		}
		p.render()
		return true
	}
	switch k {
	case keypad.Left:
		if len(p.edit) > 0 {
			p.edit = p.edit[:len(p.edit)-1]
		}
	case keypad.Enter:
		value := string(p.edit)
		if p.editing == hotdeskEditing {
			p.hotdeskEntered(value) // hotdesk.go
		} else if err := provisioning.Validate(p.editing, value); err != nil {
			p.say("Not saved: " + err.Error())
		} else {
			p.saveSetting(p.editing, value)
			p.logf(Info, p.editing+" set to "+value+" (menu)")
		}
		p.editing, p.edit = "", nil
	case keypad.Cancel:
		p.editing, p.edit = "", nil
	}
	p.render()
	return true
}
