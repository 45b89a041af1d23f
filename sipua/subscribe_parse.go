package sipua

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"

	"phonesim/firmware"
)

// dialogInfo is an RFC 4235 dialog-info document, the parts we use.
type dialogInfo struct {
	XMLName xml.Name      `xml:"dialog-info"`
	State   string        `xml:"state,attr"` // full | partial
	Entity  string        `xml:"entity,attr"`
	Dialogs []dialogEntry `xml:"dialog"`
}

type dialogEntry struct {
	ID        string      `xml:"id,attr"`
	CallID    string      `xml:"call-id,attr"`
	LocalTag  string      `xml:"local-tag,attr"`
	RemoteTag string      `xml:"remote-tag,attr"`
	Direction string      `xml:"direction,attr"` // initiator | recipient
	State     string      `xml:"state"`
	Remote    participant `xml:"remote"`
}

type participant struct {
	Identity struct {
		Display string `xml:"display,attr"`
		URI     string `xml:",chardata"`
	} `xml:"identity"`
	Target struct {
		URI string `xml:"uri,attr"`
	} `xml:"target"`
}

// Caps on the dialog ids handed to the core: a longer value is dropped
// (a cut Call-ID or tag would name another dialog).
const (
	maxIDRunes     = 256
	maxTargetRunes = 512
)

// idField is a dialog id or target from a NOTIFY, or "" when it is over
// its cap or not inert (a control character, a bidi override): changed,
// it would name another dialog.
func idField(s string, limit int) string {
	s = strings.TrimSpace(s)
	if len(s) > limit || inert(s, limit) != s {
		return ""
	}
	return s
}

// maxDialogs caps the dialogs of one document we keep.
const maxDialogs = 64

// parseDialogInfo parses a dialog-info body: strict XML, no DTD, no
// entities beyond XML's five (encoding/xml expands none other and Strict
// refuses unknown ones).
func parseDialogInfo(body []byte) (*dialogInfo, error) {
	if len(body) > maxNotifyBody {
		return nil, fmt.Errorf("dialog-info of %d bytes", len(body))
	}
	if bytes.Contains(bytes.ToUpper(body), []byte("<!DOCTYPE")) || bytes.Contains(bytes.ToUpper(body), []byte("<!ENTITY")) {
		return nil, errors.New("dialog-info with a DTD")
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	d.Entity = nil
	var info dialogInfo
	if err := d.Decode(&info); err != nil {
		return nil, fmt.Errorf("dialog-info: %w", err)
	}
	if len(info.Dialogs) > maxDialogs {
		return nil, fmt.Errorf("dialog-info with %d dialogs", len(info.Dialogs))
	}
	return &info, nil
}

// apply merges a document into the subscription's dialogs (full: replace,
// partial: update) and returns the aggregated state. Called with s.mu.
func (s *subscription) apply(info *dialogInfo) firmware.DialogStateChanged {
	if s.dialogs == nil || info.State != "partial" {
		s.dialogs = map[string]dialogEntry{}
	}
	for i, d := range info.Dialogs {
		id := d.ID
		if id == "" {
			id = fmt.Sprint("#", i)
		}
		if strings.EqualFold(strings.TrimSpace(d.State), "terminated") {
			delete(s.dialogs, id)
			continue
		}
		if len(s.dialogs) < maxDialogs {
			s.dialogs[id] = d
		}
	}
	return aggregate(s.eff.ID, s.dialogs)
}

// aggregate is one state for all an extension's dialogs: confirmed when
// any is (or the extension is calling out), early when one rings, else
// terminated. Remote is the ringing dialog's caller, Dialog its ids
// (for a pickup with Replaces) when the notifier gave them.
func aggregate(sub string, dialogs map[string]dialogEntry) firmware.DialogStateChanged {
	e := firmware.DialogStateChanged{Sub: sub, State: firmware.DialogTerminated}
	for _, d := range dialogs {
		switch strings.ToLower(strings.TrimSpace(d.State)) {
		case "confirmed":
			e.State, e.Remote = firmware.DialogConfirmed, firmware.Party{}
			return e
		case "trying", "proceeding", "early":
			if d.Direction == "initiator" {
				e.State, e.Remote = firmware.DialogConfirmed, firmware.Party{}
				return e
			}
			if e.State != firmware.DialogEarly {
				e.State = firmware.DialogEarly
				e.Remote = firmware.Party{URI: inert(strings.TrimSpace(d.Remote.Identity.URI), maxHeaderRunes),
					Display: InertDisplay(strings.TrimSpace(d.Remote.Identity.Display))}
				e.Dialog = dialogIDs(d)
			}
		}
	}
	return e
}

// dialogIDs are a ringing dialog's call-id and tags (the watched
// extension's side: local is its tag) and where its caller is reached:
// the remote target, else the remote identity. Empty when any id is
// missing or over its cap.
func dialogIDs(d dialogEntry) firmware.DialogIDs {
	ids := firmware.DialogIDs{CallID: idField(d.CallID, maxIDRunes),
		LocalTag: idField(d.LocalTag, maxIDRunes), RemoteTag: idField(d.RemoteTag, maxIDRunes)}
	if ids.CallID == "" || ids.LocalTag == "" || ids.RemoteTag == "" {
		return firmware.DialogIDs{}
	}
	target := d.Remote.Target.URI
	if strings.TrimSpace(target) == "" {
		target = d.Remote.Identity.URI
	}
	ids.Target = idField(target, maxTargetRunes)
	return ids
}

// parseMessageSummary parses an application/simple-message-summary body
// (RFC 3842 §5.2): Messages-Waiting, and Voice-Message "new/old
// (urgent new/urgent old)".
func parseMessageSummary(body []byte) (firmware.MessageSummary, error) {
	var m firmware.MessageSummary
	seen := false
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 1024), maxNotifyBody)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "messages-waiting":
			switch strings.ToLower(value) {
			case "yes":
				m.Waiting = true
			case "no":
			default:
				return m, fmt.Errorf("Messages-Waiting: %q", inert(value, 32))
			}
			seen = true
		case "voice-message":
			counts, urgent, _ := strings.Cut(value, "(")
			fmt.Sscanf(strings.TrimSpace(counts), "%d/%d", &m.New, &m.Old)
			fmt.Sscanf(strings.TrimSpace(urgent), "%d/%d", &m.UrgentNew, &m.UrgentOld)
		}
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if !seen {
		return m, errors.New("no Messages-Waiting")
	}
	m.New, m.Old = clampCount(m.New), clampCount(m.Old)
	m.UrgentNew, m.UrgentOld = clampCount(m.UrgentNew), clampCount(m.UrgentOld)
	return m, nil
}

func clampCount(n int) int { return min(max(n, 0), 99999) }
