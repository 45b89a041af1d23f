package firmware

import (
	"strconv"
	"strings"
)

// alertState is what an incoming INVITE's Alert-Info, Call-Info and
// caller-ID headers asked of the phone.
type alertState struct {
	ring     string // the ring Alert-Info chose ("" = ring_sound)
	info     string // a note for the display: "Auto answer", "Forwarded by 200"
	answerAt int64  // tick at which to answer by itself (0 = never)
	oneWay   bool   // a one-way page: answered muted, we send no audio
}

// Caps on what the core reads of an Alert-Info or Call-Info value: far
// above what a PBX sends, so a huge header costs nothing.
const (
	maxAlertBytes    = 1024
	maxAlertElements = 8
	maxAnswerAfter   = 3600 // seconds
	maxRingName      = 64
)

// header returns the value of the header named name (any case), "" when
// absent.
func header(h map[string]string, name string) string {
	if v, ok := h[name]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// alertElement is one comma-separated element of an Alert-Info or
// Call-Info value: an optional <URI> and its ;parameters, or a bare token
// ("Auto Answer", "Bellcore-dr2").
type alertElement struct {
	uri    string
	token  string
	params map[string]string // lower-case names; values as sent
}

// parseAlert splits a header value into elements, capped.
func parseAlert(v string) []alertElement {
	if len(v) > maxAlertBytes {
		v = v[:maxAlertBytes]
	}
	var out []alertElement
	for _, part := range splitOutsideBrackets(v) {
		if len(out) == maxAlertElements {
			break
		}
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		el := alertElement{params: map[string]string{}}
		if strings.HasPrefix(part, "<") {
			end := strings.IndexByte(part, '>')
			if end < 0 {
				continue // malformed: an unclosed <
			}
			el.uri = strings.TrimSpace(part[1:end])
			part = part[end+1:]
		} else if i := strings.IndexByte(part, ';'); i != 0 {
			if first, _, _ := strings.Cut(part, ";"); strings.Contains(first, "=") {
				part = ";" + part // bare parameters: "info=alert-group"
			} else if i < 0 {
				el.token, part = strings.TrimSpace(part), ""
			} else {
				el.token, part = strings.TrimSpace(part[:i]), part[i:]
			}
		}
		for _, pr := range strings.Split(part, ";") {
			pr = strings.TrimSpace(pr)
			if pr == "" {
				continue
			}
			k, val, _ := strings.Cut(pr, "=")
			el.params[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(val), `"`)
		}
		out = append(out, el)
	}
	return out
}

// splitOutsideBrackets splits at commas that are not inside <...>.
func splitOutsideBrackets(v string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '<':
			depth++
		case '>':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}

// autoAnswerRequest reads the vendor forms of "answer this by yourself":
// Call-Info ;answer-after=N (RFC 5373's predecessor, Polycom, snom),
// Alert-Info info=alert-autoanswer (with ;delay=N, Aastra), "Auto Answer"
// and "Ring Answer" (AudioCodes, Grandstream), intercom (Yealink). It
// returns the delay in seconds, whether one was asked, and a note on a
// malformed value ("" when none).
func autoAnswerRequest(h map[string]string) (secs int, asked, oneWay bool, bad string) {
	secs = -1
	seen := func(n int) {
		if secs < 0 || n < secs {
			secs = n
		}
		asked = true
	}
	readSecs := func(v string) (int, bool) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, false
		}
		return min(n, maxAnswerAfter), true
	}
	for _, name := range []string{"Call-Info", "Alert-Info"} {
		for _, el := range parseAlert(header(h, name)) {
			if v, ok := el.params["answer-after"]; ok {
				if n, ok := readSecs(v); ok {
					seen(n)
				} else {
					bad = name + " answer-after=" + quoteShort(v)
				}
			}
			info := strings.ToLower(el.params["info"])
			tok := strings.ToLower(el.token)
			switch {
			case info == "alert-autoanswer" || info == "intercom" || info == "alert-intercom" ||
				tok == "auto answer" || tok == "ring answer" || tok == "intercom":
				n := 0
				if v, ok := el.params["delay"]; ok {
					if d, ok := readSecs(v); ok {
						n = d
					} else {
						bad = name + " delay=" + quoteShort(v)
					}
				}
				seen(n)
			case info == "alert-page" || info == "page" || info == "one-way" || tok == "page":
				seen(0)
				oneWay = true
			}
			if strings.EqualFold(el.params["page"], "one-way") {
				oneWay = true
			}
		}
	}
	if !asked {
		secs = 0
	}
	return secs, asked, oneWay, bad
}

// alerting applies the INVITE's Alert-Info and Call-Info to a call that
// just started ringing: the ring it plays, and an automatic answer when
// answer_after_policy and the trust rule allow.
func (p *Phone) alerting(c *call, e CallOffered) {
	p.chooseRing(c, header(e.Headers, "Alert-Info"))
	secs, asked, oneWay, bad := autoAnswerRequest(e.Headers)
	if bad != "" {
		p.logf(Warning, "call from "+c.remote.URI+": malformed "+bad+" ignored")
	}
	if !asked {
		return
	}
	if why := p.autoAnswerRefused(c, e.Source, true); why != "" {
		p.logf(Info, "auto answer asked by "+quoteShort(e.Source)+" not done: "+why+"; ringing")
		return
	}
	c.alert.oneWay = oneWay
	c.alert.info = "Auto answer"
	c.alert.answerAt = p.ticks + int64(secs)*ticksPerSecond
	p.logf(Info, "auto answer of the call from "+displayOf(c.remote)+" in "+strconv.Itoa(secs)+" s (answer_after_policy="+p.policy()+")")
	if secs == 0 {
		p.autoAnswer(c)
		return
	}
	p.render()
}

func (p *Phone) policy() string {
	v := strings.ToLower(strings.TrimSpace(p.s.Get("answer_after_policy")))
	if v == "" {
		return "off"
	}
	return v
}

// autoAnswerRefused says why the phone must not answer c by itself ("" =
// it may).
func (p *Phone) autoAnswerRefused(c *call, source string, checkSource bool) string {
	switch p.policy() {
	case "off":
		return "answer_after_policy is off"
	case "idle":
		if p.hook != OnHook {
			return "answer_after_policy is idle and the phone is off hook"
		}
		for i := range p.calls {
			o := &p.calls[i]
			if o != c && o.id != "" && o.state != Ended {
				return "answer_after_policy is idle and another call is in progress"
			}
		}
	case "not_busy":
		for i := range p.calls {
			o := &p.calls[i]
			if o != c && o.id != "" && o.state != Ended && o.state != OnHold {
				return "answer_after_policy is not_busy and another call is active"
			}
		}
	case "always":
	default:
		return "answer_after_policy " + quoteShort(p.policy()) + " unknown"
	}
	if checkSource && !p.trustedSource(source, c.identity) {
		return "source not trusted (answer_after_trusted)"
	}
	return ""
}

// trustedSource reports whether source (host:port of the INVITE's
// sender) may ask for an automatic answer: it is listed in
// answer_after_trusted ("*" lists all), or it is the identity's
// registrar or outbound proxy. An entry with a port must match the port
// too; one without matches any port of that host.
func (p *Phone) trustedSource(source string, identity int) bool {
	entries := strings.FieldsFunc(p.s.Get("answer_after_trusted"), func(r rune) bool { return r == ',' || r == ' ' || r == ';' })
	n := strconv.Itoa(identity)
	for _, name := range []string{"user_host" + n, "user_outbound" + n} {
		if v := p.s.Get(name); v != "" {
			entries = append(entries, v)
		}
	}
	host, port := hostOnly(source), portOnly(source)
	for _, t := range entries {
		if t == "*" {
			return true
		}
		if host == "" || !strings.EqualFold(hostOnly(t), host) {
			continue
		}
		if tp := portOnly(t); tp == "" || tp == port {
			return true
		}
	}
	return false
}

// hostPortPart is the "host[:port]" of "host:port" or a SIP URI.
func hostPortPart(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "sip:"), "sips:")
	if i := strings.IndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexAny(s, ";>"); i >= 0 {
		s = s[:i]
	}
	return s
}

// portOnly returns the port of "host:port" or a SIP URI, "" when none.
func portOnly(s string) string {
	if _, p, ok := splitHostPort(hostPortPart(s)); ok {
		return p
	}
	return ""
}

// splitHostPort splits "host:port" or "[v6]:port" as net.SplitHostPort
// does for these forms, without bringing package net into the core.
func splitHostPort(s string) (host, port string, ok bool) {
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]:")
		if end < 0 {
			return "", "", false
		}
		return s[1:end], s[end+2:], s[end+2:] != ""
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.IndexByte(s[:i], ':') >= 0 || i == len(s)-1 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// hostOnly returns the host of "host", "host:port", "[v6]:port" or a SIP
// URI's host part.
func hostOnly(s string) string {
	s = hostPortPart(s)
	if h, _, ok := splitHostPort(s); ok {
		return h
	}
	return strings.Trim(s, "[]")
}

// autoAnswer answers c on the speaker after the warning beep; a one-way
// page is answered muted (we send no audio).
func (p *Phone) autoAnswer(c *call) {
	c.alert.answerAt = 0
	p.logf(Info, "auto answer: warning beep, answering on the speaker")
	p.answer(c)
	if c.state != Connected {
		return
	}
	c.alert.info = "Auto answer"
	if c.alert.oneWay {
		c.muted = true
		p.emit(MuteCall{Call: c.id, Muted: true})
		c.alert.info = "Page (one-way)"
		p.logf(Info, "one-way page: sending no audio")
	}
	p.render()
}

// autoAnswerDue answers the calls whose answer-after delay ran out, if
// the policy still allows it then.
func (p *Phone) autoAnswerDue() {
	for i := range p.calls {
		c := &p.calls[i]
		if c.id == "" || c.alert.answerAt == 0 || p.ticks < c.alert.answerAt {
			continue
		}
		c.alert.answerAt = 0
		if c.state != Ringing || c.dir != Incoming {
			continue
		}
		if why := p.autoAnswerRefused(c, "", false); why != "" {
			c.alert.info = ""
			p.logf(Info, "auto answer of the call from "+displayOf(c.remote)+" not done: "+why+"; ringing")
			p.render()
			continue
		}
		p.autoAnswer(c)
	}
}

// chooseRing picks the ring an Alert-Info asks for: info= naming
// alert_internal_ring_text (or _external_, _group_) plays that ring's
// sound; info= or a bare token naming a ring sound (Ringer1..Ringer10,
// Silent) plays it; an http(s) URL plays the file it names. Anything else
// rings the default ring_sound, and the log says why.
func (p *Phone) chooseRing(c *call, v string) {
	if v == "" {
		return
	}
	for _, el := range parseAlert(v) {
		name := el.params["info"]
		if name == "" {
			name = el.token
		}
		if name != "" {
			for _, kind := range []string{"internal", "external", "group"} {
				if t := p.s.Get("alert_" + kind + "_ring_text"); t != "" && strings.EqualFold(t, name) {
					c.alert.ring = p.s.Get("alert_" + kind + "_ring_sound")
					p.logf(Info, "ring "+c.alert.ring+": Alert-Info info="+quoteShort(name)+" matches alert_"+kind+"_ring_text")
					return
				}
			}
			if s := ringSound(name); s != "" {
				c.alert.ring = s
				p.logf(Info, "ring "+s+": named by Alert-Info")
				return
			}
		}
		lower := strings.ToLower(el.uri)
		if (strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://")) && len(el.uri) <= 512 && !strings.ContainsAny(el.uri, " \"'") {
			if _, auto := el.params["info"]; auto && isAutoAnswerInfo(el.params["info"]) {
				continue // snom's intercom form carries a dummy URL
			}
			c.alert.ring = el.uri[strings.LastIndexByte(el.uri, '/')+1:]
			if c.alert.ring == "" || len(c.alert.ring) > maxRingName {
				c.alert.ring = "url"
			}
			p.logf(Info, "ring "+quoteShort(c.alert.ring)+": Alert-Info URL "+quoteShort(el.uri))
			return
		}
	}
	if _, asked, _, _ := autoAnswerRequest(map[string]string{"Alert-Info": v}); asked {
		return
	}
	p.logf(Info, "Alert-Info "+quoteShort(v)+" names no known ring: ring_sound "+p.s.Get("ring_sound"))
}

func isAutoAnswerInfo(info string) bool {
	switch strings.ToLower(info) {
	case "alert-autoanswer", "intercom", "alert-intercom", "alert-page", "page", "one-way":
		return true
	}
	return false
}

// ringSound returns snom's spelling of a ring sound named by name
// ("ringer3", "Bellcore-dr3" → "Ringer3"), or "".
func ringSound(name string) string {
	lower := strings.ToLower(name)
	if lower == "silent" {
		return "Silent"
	}
	for _, prefix := range []string{"ringer", "bellcore-dr"} {
		if rest, ok := strings.CutPrefix(lower, prefix); ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 1 && n <= 10 {
				return "Ringer" + strconv.Itoa(n)
			}
		}
	}
	return ""
}
