package firmware

import (
	"slices"
	"strconv"
	"strings"

	"phonesim/provisioning"
)

// Multicast paging, as snom phones do it: the phone listens on the
// multicast addresses of mc_address1… ("239.1.1.1:5000", with snom's
// options priority=0..10 and interrupt=0..3), and plays an RTP stream
// (PCMU or PCMA) that arrives on one, with no SIP at all. The SIP adapter
// joins the groups (MulticastListen), reports a stream starting and
// stopping (MulticastStarted, MulticastStopped: no RTP for a short while)
// and plays the one the core chooses (MulticastPlay). The core decides:
//   - DND refuses pages, unless mc_ignore_dnd is on;
//   - during a call, a group's interrupt= decides: 0 (snom's default)
//     ignores the page (and a page playing stops while a call is in
//     progress, resuming after it; a call ringing in does not stop it), 1 plays it over the call, 2 mixes it
//     with the call (both play here), 3 holds the call and resumes it
//     after the page;
//   - of several streams, the one of highest priority plays (10 highest,
//     snom's default 5); at equal priority the first one received. A
//     higher one preempts a lower one, which plays again when the higher
//     one stops if it still streams.

// MulticastGroup is one address the phone listens on for pages.
type MulticastGroup struct {
	Index     int    // mc_address<Index>
	Addr      string // IPv4 multicast address and port: "239.1.1.1:5000"
	Priority  int    // 0..10, 10 highest
	Interrupt int    // 0 idle only, 1 over a call, 2 mixed with a call, 3 holds the call
}

// MulticastListen asks the adapter to listen on exactly Groups (none:
// listen on nothing).
type MulticastListen struct{ Groups []MulticastGroup }

// MulticastPlay asks the adapter to play the stream arriving on Group
// ("" stops playing).
type MulticastPlay struct{ Group string }

func (MulticastListen) effect() {}
func (MulticastPlay) effect()   {}

func (e MulticastListen) String() string {
	parts := make([]string, 0, len(e.Groups))
	for _, g := range e.Groups {
		parts = append(parts, g.Addr+" priority "+strconv.Itoa(g.Priority)+" interrupt "+strconv.Itoa(g.Interrupt))
	}
	if len(parts) == 0 {
		return "multicast listen: none"
	}
	return "multicast listen: " + strings.Join(parts, ", ")
}

func (e MulticastPlay) String() string {
	if e.Group == "" {
		return "multicast play: stop"
	}
	return "multicast play " + e.Group
}

// MulticastStarted is an RTP stream starting on a group the phone listens
// on: Group as in MulticastGroup.Addr, Source the sender's ip:port, Codec
// "PCMU" or "PCMA".
type MulticastStarted struct {
	Group  string
	Source string
	Codec  string
}

// MulticastStopped is a stream on Group that stopped (no RTP for a short
// while).
type MulticastStopped struct{ Group string }

func (MulticastStarted) event() {}
func (MulticastStopped) event() {}

// maxPageSource caps the sender address the display shows.
const maxPageSource = 64

// pageState is what the phone knows of multicast paging.
type pageState struct {
	groups  []MulticastGroup // listened on
	live    []pageStream     // streams arriving, oldest first
	playing string           // the group playing ("" none)
	held    CallID           // the call held for the page (interrupt=3), resumed after
}

type pageStream struct {
	group  string
	source string
}

// readMulticastGroups reads mc_address1…; a value that is not an IPv4
// multicast address with a port, or has a bad option, is left out and
// the returned notes say why.
func readMulticastGroups(s *provisioning.Settings) (groups []MulticastGroup, notes []string) {
	for i := 1; i <= provisioning.MaxIdentities; i++ {
		name := "mc_address" + strconv.Itoa(i)
		v := strings.TrimSpace(s.Get(name))
		if v == "" {
			continue
		}
		g, err := parseMulticastGroup(v)
		if err != "" {
			notes = append(notes, name+" ignored: "+err)
			continue
		}
		dup := false
		for _, o := range groups {
			dup = dup || o.Addr == g.Addr
		}
		if dup {
			notes = append(notes, name+" ignored: "+g.Addr+" is listed already")
			continue
		}
		g.Index = i
		groups = append(groups, g)
	}
	return groups, notes
}

// parseMulticastGroup reads "IP:PORT" followed by snom's options,
// separated by commas or spaces: priority=0..10, interrupt=0..3,
// speaker=0|1 and volmax=0|1 (the last two change nothing here).
func parseMulticastGroup(v string) (MulticastGroup, string) {
	g := MulticastGroup{Priority: 5}
	fields := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	if len(fields) == 0 {
		return g, "empty"
	}
	addr, port, ok := splitHostPort(fields[0])
	if !ok || port == "" {
		return g, "want IP:PORT, got " + strconv.Quote(clip(fields[0], 32))
	}
	if !isMulticastIPv4(addr) {
		return g, strconv.Quote(clip(addr, 32)) + " is not an IPv4 multicast address (224.0.0.0–239.255.255.255)"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return g, "bad port " + strconv.Quote(clip(port, 8))
	}
	g.Addr = addr + ":" + strconv.Itoa(n)
	for _, f := range fields[1:] {
		k, val, _ := strings.Cut(f, "=")
		k = strings.ToLower(k)
		num, err := strconv.Atoi(val)
		switch {
		case k == "priority" && err == nil && num >= 0 && num <= 10:
			g.Priority = num
		case k == "interrupt" && err == nil && num >= 0 && num <= 3:
			g.Interrupt = num
		case (k == "speaker" || k == "volmax") && (val == "0" || val == "1"):
		default:
			return g, "bad option " + strconv.Quote(clip(f, 32)) + " (priority=0..10, interrupt=0..3, speaker=0|1, volmax=0|1)"
		}
	}
	return g, ""
}

// isMulticastIPv4 reports whether s is a dotted IPv4 address in
// 224.0.0.0/4.
func isMulticastIPv4(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for i, part := range parts {
		if part == "" || len(part) > 3 || strings.Trim(part, "0123456789") != "" || (len(part) > 1 && part[0] == '0') {
			return false
		}
		n, _ := strconv.Atoi(part)
		if n > 255 || (i == 0 && (n < 224 || n > 239)) {
			return false
		}
	}
	return true
}

// clip shortens s to n bytes for a log line.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// multicastConfigure reads mc_address1… and, when the groups changed,
// tells the adapter where to listen. At boot it says nothing when there
// is nothing to listen on.
func (p *Phone) multicastConfigure() {
	if !p.booted {
		return
	}
	groups, notes := readMulticastGroups(p.s)
	if slices.Equal(groups, p.page.groups) {
		return
	}
	for _, n := range notes {
		p.logf(Warning, "multicast paging: "+n)
	}
	p.page.groups = groups
	p.emit(MulticastListen{Groups: groups})
	var names []string
	for _, g := range groups {
		names = append(names, g.Addr)
	}
	if len(names) > 0 {
		p.logf(Info, "multicast paging: listening on "+strings.Join(names, ", "))
	} else {
		p.logf(Info, "multicast paging: listening on nothing")
	}
	// streams of groups no longer listened on are gone
	live := p.page.live[:0]
	for _, st := range p.page.live {
		if _, ok := p.pageGroup(st.group); ok {
			live = append(live, st)
		}
	}
	p.page.live = live
	p.pageChoose("")
}

func (p *Phone) pageGroup(addr string) (MulticastGroup, bool) {
	for _, g := range p.page.groups {
		if g.Addr == addr {
			return g, true
		}
	}
	return MulticastGroup{}, false
}

func (p *Phone) pageStream(addr string) int {
	for i, st := range p.page.live {
		if st.group == addr {
			return i
		}
	}
	return -1
}

// multicastStarted takes a stream the adapter heard.
func (p *Phone) multicastStarted(e MulticastStarted) {
	if _, ok := p.pageGroup(e.Group); !ok {
		p.logf(Notice, "multicast stream on "+strconv.Quote(clip(e.Group, 32))+" ignored: not listened on")
		return
	}
	if e.Codec != "PCMU" && e.Codec != "PCMA" {
		p.logf(Notice, "multicast stream on "+e.Group+" ignored: codec "+strconv.Quote(clip(e.Codec, 16))+" (PCMU or PCMA only)")
		return
	}
	if p.pageStream(e.Group) >= 0 {
		return // it streams already
	}
	src := inertSource(e.Source)
	p.page.live = append(p.page.live, pageStream{group: e.Group, source: src})
	p.logf(Info, "multicast stream from "+src+" on "+e.Group)
	p.pageChoose(e.Group)
}

// multicastStopped takes the end of a stream.
func (p *Phone) multicastStopped(e MulticastStopped) {
	i := p.pageStream(e.Group)
	if i < 0 {
		return
	}
	p.page.live = append(p.page.live[:i], p.page.live[i+1:]...)
	p.logf(Info, "multicast stream on "+e.Group+" stopped")
	p.pageChoose("")
}

// multicastDue applies the policy again after every event while streams
// arrive: a call starting or ending, DND switched, may stop or resume a
// page. It needs no tick of its own.
func (p *Phone) multicastDue() {
	if len(p.page.live) > 0 || p.page.playing != "" {
		p.pageChoose("")
	}
}

// inertSource keeps an address the adapter reported printable and short.
func inertSource(s string) string {
	s = clip(s, maxPageSource)
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
}

// pageRefused says why a page on g may not play now ("" when it may).
func (p *Phone) pageRefused(g MulticastGroup) string {
	if p.dnd && !p.s.On("mc_ignore_dnd") {
		return "DND is on"
	}
	if g.Interrupt == 0 {
		for i := range p.calls {
			c := &p.calls[i]
			// a call ringing in only knocks (snom): the page stops once it is answered
			if c.id != "" && c.state != Ended && c.id != p.page.held && (c.state != Ringing || c.dir != Incoming) {
				return "a call is in progress (mc_address" + strconv.Itoa(g.Index) + " interrupt=0)"
			}
		}
	}
	return ""
}

// pageChoose plays the stream the policy picks, if it is not playing
// already. started names a stream that just started: when it does not
// play, the log says why.
func (p *Phone) pageChoose(started string) {
	best, bestPrio := -1, -1
	why := ""
	for i, st := range p.page.live {
		g, _ := p.pageGroup(st.group)
		if r := p.pageRefused(g); r != "" {
			if st.group == started {
				why = r
			}
			continue
		}
		if g.Priority > bestPrio {
			best, bestPrio = i, g.Priority
		}
	}
	next := ""
	if best >= 0 {
		next = p.page.live[best].group
	}
	if started != "" && started != next {
		if why == "" {
			why = "the page on " + next + " has a higher or equal priority"
		}
		p.logf(Info, "page on "+started+" not played: "+why)
	}
	if next == p.page.playing {
		return
	}
	prev := p.page.playing
	p.page.playing = next
	p.emit(MulticastPlay{Group: next})
	if next == "" {
		reason := "ended"
		if p.pageStream(prev) >= 0 {
			g, _ := p.pageGroup(prev)
			reason = "interrupted: " + p.pageRefused(g)
		}
		p.logf(Info, "page on "+prev+" "+reason)
		if c := p.find(p.page.held); c != nil && c.state == OnHold {
			p.logf(Info, "call with "+displayOf(c.remote)+" resumed after the page")
			p.resume(c)
		}
		p.page.held = ""
		p.render()
		return
	}
	g, _ := p.pageGroup(next)
	if prev != "" && p.pageStream(prev) >= 0 {
		pg, _ := p.pageGroup(prev)
		if p.pageRefused(pg) == "" {
			p.logf(Info, "page on "+next+" (priority "+strconv.Itoa(g.Priority)+") preempts the page on "+prev+" (priority "+strconv.Itoa(pg.Priority)+")")
		} else {
			p.logf(Info, "page on "+prev+" interrupted: "+p.pageRefused(pg))
		}
	}
	p.logf(Info, "playing the page from "+p.page.live[best].source+" on "+next)
	if g.Interrupt == 3 && p.page.held == "" {
		for i := range p.calls {
			c := &p.calls[i]
			if c.id != "" && c.state == Connected {
				p.logf(Info, "call with "+displayOf(c.remote)+" held for the page (interrupt=3)")
				p.hold(c)
				p.page.held = c.id
				break
			}
		}
	}
	p.render()
}

// pageView is the display's line for the page playing.
func (p *Phone) pageView() string {
	if p.page.playing == "" {
		return ""
	}
	if i := p.pageStream(p.page.playing); i >= 0 {
		return "Page from " + p.page.live[i].source + " (" + p.page.playing + ")"
	}
	return "Page (" + p.page.playing + ")"
}
