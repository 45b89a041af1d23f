// Package display draws the handset as data: a Frame of styled cells and
// the keys they stand for, and its plain-text rendering for golden tests.
// It is pure; display/term puts a Frame on a real terminal.
package display

import (
	"fmt"
	"strings"

	"phonesim/firmware"
)

// ScreenLines returns the text of the phone's display area (not the whole
// handset): what a user reads on the LCD in the current state.
func ScreenLines(v firmware.View) []string {
	lines, _ := screenLines(v)
	return lines
}

// screenLines returns the display's lines and the index of the selected
// one (the list cursor), -1 when none is.
func screenLines(v firmware.View) ([]string, int) {
	if v.Transfer != "" {
		for _, c := range v.Calls {
			if c.ID == v.Transfer {
				return []string{"Transfer " + partyName(c.Remote) + " to:", v.Digits + "_"}, -1
			}
		}
	}
	if c, ok := activeCall(v); ok {
		return callLines(v, c), -1
	}
	if v.Screen == firmware.ScreenMenu {
		return menuLines(v)
	}
	if v.Digits != "" || v.Hook != firmware.OnHook && len(v.Calls) == 0 {
		return []string{"Dial:", v.Digits + "_"}, -1
	}
	switch v.Screen {
	case firmware.ScreenMissed, firmware.ScreenReceived, firmware.ScreenDialed:
		return listLines(v)
	}
	lines := []string{v.Now.Format("Mon 2 Jan 2006"), v.Now.Format("15:04")}
	var marks []string
	if v.DND {
		marks = append(marks, "DND")
	}
	if v.Redirect != "" {
		marks = append(marks, "Fwd "+v.Redirect+": "+v.RedirectTo)
	}
	if v.Missed > 0 {
		marks = append(marks, fmt.Sprintf("%d missed", v.Missed))
	}
	for _, m := range v.Mailboxes {
		if m.Waiting || m.New > 0 {
			marks = append(marks, fmt.Sprintf("%d new msgs", m.New))
		}
	}
	if len(marks) > 0 {
		lines = append(lines, strings.Join(marks, "  "))
	}
	if v.DataError != "" {
		lines = append(lines, "Data folder: cannot write") // changes will not survive a restart
	}
	if v.Page != "" {
		lines = append(lines, v.Page)
	}
	if v.Message != "" {
		lines = append(lines, v.Message)
	}
	return lines, -1
}

func activeCall(v firmware.View) (firmware.CallView, bool) {
	for _, c := range v.Calls {
		if c.ID == v.Active && c.State != firmware.Dialing {
			return c, true
		}
	}
	for _, c := range v.Calls {
		if c.State == firmware.Ringing && c.Direction == firmware.Incoming {
			return c, true
		}
	}
	return firmware.CallView{}, false
}

func callLines(v firmware.View, c firmware.CallView) []string {
	who := partyName(c.Remote)
	var state string
	switch c.State {
	case firmware.Calling:
		state = "Calling..."
	case firmware.Ringing:
		if c.Direction == firmware.Incoming {
			state = "Incoming call"
		} else {
			state = "Ringing..."
		}
	case firmware.EarlyMedia:
		state = "Early media"
	case firmware.Connected:
		state = "Connected " + Timer(c.Seconds)
		if c.Muted {
			state += " (muted)"
		}
	case firmware.OnHold:
		state = "On hold " + Timer(c.Seconds)
	case firmware.Ended:
		state = "Call ended"
	}
	lines := []string{state, who, c.Remote.URI}
	if c.Info != "" {
		lines = append(lines, c.Info)
	}
	if c.Ring != "" && c.State == firmware.Ringing {
		lines = append(lines, "Ring: "+c.Ring)
	}
	if n := len(v.Calls); n > 1 {
		lines = append(lines, fmt.Sprintf("%d calls", n))
	}
	if v.Page != "" { // a page over the call (mc_address interrupt)
		lines = append(lines, v.Page)
	}
	if v.Message != "" {
		lines = append(lines, v.Message)
	}
	return lines
}

func listLines(v firmware.View) ([]string, int) {
	title := map[firmware.Screen]string{
		firmware.ScreenMissed:   "Missed calls",
		firmware.ScreenReceived: "Received calls",
		firmware.ScreenDialed:   "Dialed calls",
	}[v.Screen]
	lines := []string{fmt.Sprintf("%s (%d)", title, len(v.List))}
	if len(v.List) == 0 {
		return append(lines, "(empty)"), -1
	}
	sel := -1
	for i, e := range v.List {
		mark := "  "
		if i == v.ListCursor {
			mark, sel = "> ", len(lines)
		}
		who := partyName(e.Remote)
		lines = append(lines, mark+e.When.Format("02/01 15:04")+" "+who)
	}
	return lines, sel
}

// menuLines is the settings menu, or the value it is editing.
func menuLines(v firmware.View) ([]string, int) {
	if v.Editing != "" {
		return []string{"Settings: " + v.Editing, v.Digits + "_"}, -1
	}
	lines := []string{"Settings"}
	sel := -1
	for i, row := range v.Menu {
		mark := "  "
		if i == v.ListCursor {
			mark, sel = "> ", len(lines)
		}
		lines = append(lines, mark+row)
	}
	if v.Message != "" {
		lines = append(lines, v.Message)
	}
	return lines, sel
}

// Timer formats a call duration as m:ss or h:mm:ss.
func Timer(sec int) string {
	if sec >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", sec/3600, sec/60%60, sec%60)
	}
	return fmt.Sprintf("%d:%02d", sec/60, sec%60)
}

// partyName is how the display names a party: its display name, else the
// user part of its URI.
func partyName(p firmware.Party) string {
	if p.Name != "" {
		return p.Name
	}
	if p.Display != "" {
		return p.Display
	}
	return userOf(p.URI)
}

func userOf(uri string) string {
	u := strings.TrimPrefix(strings.TrimPrefix(uri, "sips:"), "sip:")
	if at := strings.IndexByte(u, '@'); at >= 0 {
		return u[:at]
	}
	return u
}
