package firmware

import "strings"

// maxCallerURI caps a URI taken from a caller-ID header.
const maxCallerURI = 256

// callerID applies the caller-ID headers of an incoming INVITE to c:
// P-Asserted-Identity, else Remote-Party-ID, replaces the From as the
// caller shown and in the Action URL variables when trust_pai is on; the
// phone book's name follows the number that wins. Diversion or
// History-Info put "Forwarded by X" on the display. Display names and
// numbers are kept as sent, so a PBX's caller-ID prefix shows.
func (p *Phone) callerID(c *call, e CallOffered) {
	if p.s.On("trust_pai") {
		for _, name := range []string{"P-Asserted-Identity", "Remote-Party-Id"} {
			v := header(e.Headers, name)
			if v == "" {
				continue
			}
			who, ok := assertedParty(v)
			if !ok {
				p.logf(Warning, "call from "+e.From.URI+": malformed "+name+" "+quoteShort(v)+" ignored")
				continue
			}
			if who.URI != c.remote.URI || (who.Display != "" && who.Display != c.remote.Display) {
				p.logf(Info, "caller ID from "+name+": "+displayOf(who)+" (From "+displayOf(e.From)+")")
				if who.Display == "" && sameUser(who.URI, e.From.URI) {
					who.Display = e.From.Display
				}
				c.remote = who
				c.remote.Name = p.s.NameFor(who.URI)
			}
			break
		}
	}
	if by := forwardedBy(e.Headers); by != "" {
		c.alert.info = "Forwarded by " + by
		p.logf(Info, "call from "+displayOf(c.remote)+" forwarded by "+by)
	}
}

// assertedParty reads the first name-addr of a P-Asserted-Identity or
// Remote-Party-ID value: `"Name" <sip:user@host>;params`, `<tel:+49…>`
// or a bare URI. A sip: or sips: entry wins over a tel: one.
func assertedParty(v string) (Party, bool) {
	var best Party
	found := false
	for i, part := range splitOutsideBrackets(v) {
		if i == 4 {
			break
		}
		who, ok := nameAddr(part)
		if !ok {
			continue
		}
		if !found || (strings.HasPrefix(best.URI, "tel:") && !strings.HasPrefix(who.URI, "tel:")) {
			best, found = who, true
		}
	}
	return best, found
}

// nameAddr parses one `"Display" <uri>;params` or `uri;params`.
func nameAddr(s string) (Party, bool) {
	s = strings.TrimSpace(s)
	var who Party
	if lt := strings.IndexByte(s, '<'); lt >= 0 {
		gt := strings.IndexByte(s[lt:], '>')
		if gt < 0 {
			return Party{}, false
		}
		who.Display = strings.TrimSpace(s[:lt])
		if strings.HasPrefix(who.Display, `"`) && strings.HasSuffix(who.Display, `"`) && len(who.Display) >= 2 {
			who.Display = strings.ReplaceAll(who.Display[1:len(who.Display)-1], `\"`, `"`)
		}
		who.URI = strings.TrimSpace(s[lt+1 : lt+gt])
	} else {
		who.URI, _, _ = strings.Cut(s, ";")
		who.URI = strings.TrimSpace(who.URI)
	}
	lower := strings.ToLower(who.URI)
	if len(who.URI) > maxCallerURI || strings.ContainsAny(who.URI, " \"<>") ||
		!(strings.HasPrefix(lower, "sip:") || strings.HasPrefix(lower, "sips:") || strings.HasPrefix(lower, "tel:")) {
		return Party{}, false
	}
	rest := who.URI[strings.IndexByte(who.URI, ':')+1:]
	if rest == "" || (!strings.HasPrefix(lower, "tel:") && !strings.Contains(rest, "@")) {
		return Party{}, false
	}
	if len(who.Display) > maxCallerURI {
		who.Display = who.Display[:maxCallerURI]
	}
	return who, true
}

func sameUser(a, b string) bool {
	ua, _, _ := strings.Cut(strings.SplitN(a, ":", 2)[len(strings.SplitN(a, ":", 2))-1], "@")
	ub, _, _ := strings.Cut(strings.SplitN(b, ":", 2)[len(strings.SplitN(b, ":", 2))-1], "@")
	return ua != "" && ua == ub
}

// forwardedBy names who forwarded the call: the first Diversion entry
// (RFC 5806), else the History-Info entry before the last (RFC 7044),
// as its display name or its user part; "" when none.
func forwardedBy(h map[string]string) string {
	if v := header(h, "Diversion"); v != "" {
		if who, ok := nameAddr(splitOutsideBrackets(v)[0]); ok {
			return partyShort(who)
		}
	}
	if v := header(h, "History-Info"); v != "" {
		parts := splitOutsideBrackets(v)
		if len(parts) > 16 {
			parts = parts[:16]
		}
		if len(parts) >= 2 {
			if who, ok := nameAddr(parts[len(parts)-2]); ok {
				return partyShort(who)
			}
		}
	}
	return ""
}

func partyShort(who Party) string {
	if who.Display != "" {
		return who.Display
	}
	u := who.URI[strings.IndexByte(who.URI, ':')+1:]
	u, _, _ = strings.Cut(u, "@")
	u, _, _ = strings.Cut(u, ";")
	return u
}
