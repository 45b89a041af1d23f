package firmware

import (
	"sort"
	"strconv"
)

// Message waiting (RFC 3842). An identity with a `user_mailbox`
// subscribes to message-summary at its own address of record once it is
// registered; the adapter accepts unsolicited NOTIFYs too and reports
// each summary as MessageSummary. The core shows the count on the idle
// screen, lights a `keyevent F_VOICEMAIL` key while messages wait, and
// that key dials the active identity's mailbox.

// MessageSummary is a message-summary NOTIFY for an identity (1-12):
// Messages-Waiting and the Voice-Message counts ("2/8 (0/2)": new/old,
// urgent new/old).
type MessageSummary struct {
	Identity             int
	Waiting              bool
	New, Old             int
	UrgentNew, UrgentOld int
}

func (MessageSummary) event() {}

// Mailbox is an identity's message summary as the phone shows it.
type Mailbox struct {
	Identity             int
	Waiting              bool
	New, Old             int
	UrgentNew, UrgentOld int
}

// mwiSubscription is identity i's message-summary subscription, when it
// has a mailbox and a registrar (blf.go's syncSubscriptions asks for it).
func (p *Phone) mwiSubscription(i int) (Subscribe, bool) {
	n := strconv.Itoa(i)
	if p.s.Get("user_mailbox"+n) == "" || p.s.Get("user_host"+n) == "" {
		return Subscribe{}, false
	}
	return Subscribe{ID: "mwi" + n, Identity: i, Event: "message-summary",
		Accept: "application/simple-message-summary", Target: p.localURI(i)}, true
}

func (p *Phone) messageSummary(e MessageSummary) {
	if e.Identity < 1 || e.Identity >= len(p.regs) {
		return
	}
	if p.sub.mailboxes == nil {
		p.sub.mailboxes = map[int]Mailbox{}
	}
	m := Mailbox{Identity: e.Identity, Waiting: e.Waiting, New: max(e.New, 0), Old: max(e.Old, 0),
		UrgentNew: max(e.UrgentNew, 0), UrgentOld: max(e.UrgentOld, 0)}
	if old, ok := p.sub.mailboxes[e.Identity]; ok && old == m {
		return
	}
	p.sub.mailboxes[e.Identity] = m
	w := "no"
	if m.Waiting {
		w = "yes"
	}
	p.logf(Info, "identity "+strconv.Itoa(e.Identity)+": messages waiting: "+w+", "+
		strconv.Itoa(m.New)+" new, "+strconv.Itoa(m.Old)+" old")
	p.syncLEDs()
	p.render()
}

// mailboxes is the message summaries, by identity.
func (p *Phone) mailboxes() []Mailbox {
	var out []Mailbox
	for _, m := range p.sub.mailboxes {
		out = append(out, m)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Identity < out[b].Identity })
	return out
}

func (p *Phone) mwiLED() LED {
	for _, m := range p.sub.mailboxes {
		if m.Waiting {
			return LED{LEDOn, Red}
		}
	}
	return LED{}
}

// dialMailbox calls the active identity's mailbox (user_mailbox).
func (p *Phone) dialMailbox() {
	i := p.activeIdentity()
	box := p.s.Get("user_mailbox" + strconv.Itoa(i))
	if box == "" {
		p.say("No mailbox")
		p.render()
		return
	}
	p.dial(box)
}
