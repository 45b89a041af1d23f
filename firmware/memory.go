package firmware

// Memory is what a phone keeps across restarts: the user's own changes
// (DND, redirection) and the call lists. The core says it changed with a
// SaveMemory effect (the adapter that keeps it takes Phone.Memory) and
// takes it back, at boot, in a MemoryLoaded event; the adapter decides
// where it lives.
type Memory struct {
	DND          bool        `json:"dnd"`
	Redirect     string      `json:"redirect"` // "", "all", "busy", "time"
	Missed       []ListEntry `json:"missed"`
	Received     []ListEntry `json:"received"`
	Dialed       []ListEntry `json:"dialed"`
	MissedUnseen int         `json:"missed_unseen"`
	LastDialed   string      `json:"last_dialed"`
}

// MemoryLoaded gives the phone what it kept before the restart. It comes
// before PoweredOn. DND and redirection are taken from it unless the
// settings the phone started with set them explicitly: provisioning wins
// over a remembered user change.
type MemoryLoaded struct{ Memory Memory }

// SaveMemory says the Memory changed in this Step: an adapter that keeps
// it takes Phone.Memory before the next Step (replacing what it kept).
// One without a data folder ignores it, and no copy of the call lists is
// made for nothing.
type SaveMemory struct{}

// DataFolderFailed reports that the data folder does not take what the
// phone keeps (read-only, full, gone): the user's changes (DND,
// redirection) and the call lists will not survive a restart. Reason is
// the adapter's error. DataFolderRecovered reports that writing works
// again.
type DataFolderFailed struct{ Reason string }

type DataFolderRecovered struct{}

func (MemoryLoaded) event()        {}
func (SaveMemory) effect()         {}
func (DataFolderFailed) event()    {}
func (DataFolderRecovered) event() {}

// dataFolder takes the news about the data folder: the display and the
// state say so while it fails, so a change that will be lost at the next
// restart is not lost in silence. The log has it once per failure.
func (p *Phone) dataFolder(failed bool, reason string) {
	if !failed {
		if p.dataErr == "" {
			return
		}
		p.dataErr = ""
		p.logf(Info, "data folder: writing again")
		p.render()
		return
	}
	if reason == "" {
		reason = "cannot write"
	}
	was := p.dataErr
	p.dataErr = reason
	if was == "" {
		p.logf(Error, "data folder: "+reason+": changes (DND, redirection, call lists) will not survive a restart")
	}
	p.render()
}

func (p *Phone) loadMemory(m Memory) {
	if !p.s.IsSet("dnd_mode") {
		p.dnd = m.DND
		p.setSetting("dnd_mode", onOff(m.DND))
	}
	if !p.s.IsSet("redirect_event") {
		p.redirect = redirectMode(m.Redirect)
		if p.redirect == "" {
			p.setSetting("redirect_event", "none")
		} else {
			p.setSetting("redirect_event", p.redirect)
		}
	}
	p.missed = capList(m.Missed)
	p.received = capList(m.Received)
	p.dialed = capList(m.Dialed)
	p.missedUnseen = clamp(m.MissedUnseen, 0, len(p.missed))
	p.lastDialed = m.LastDialed
	p.syncLEDs()
	p.render()
}

// setSetting records a user change in the settings without re-applying it.
func (p *Phone) setSetting(name, value string) {
	next := p.s.Clone() // copy on write: Settings handed p.s out
	_ = next.Set(name, value)
	p.s = next
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func capList(l []ListEntry) []ListEntry {
	if len(l) > maxListEntries {
		l = l[:maxListEntries]
	}
	return append([]ListEntry(nil), l...)
}

// memory is a copy of what the phone keeps.
// Memory is what the phone keeps across restarts, as it is now (a copy).
func (p *Phone) Memory() Memory {
	return Memory{
		DND: p.dnd, Redirect: p.redirect,
		Missed: capList(p.missed), Received: capList(p.received), Dialed: capList(p.dialed),
		MissedUnseen: p.missedUnseen, LastDialed: p.lastDialed,
	}
}
