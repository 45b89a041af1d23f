package sipua

import (
	"strings"
	"sync"
)

// Directed pickup, the caller's side (RFC 3891 §3). A phone that picks up
// the call we are placing sends us an INVITE whose Replaces names our
// early dialog (our tag as to-tag, the ringing phone's as from-tag,
// usually early-only). replacedCall (replaces.go) matches it against the
// marks below, which the call's goroutine keeps and onInvite's reads:
//
//   - a confirmed dialog matches on its remote tag; early-only → 486;
//   - an early dialog we initiated (our INVITE has provisional answers
//     with To tags, one per fork) matches on any of those tags: the core
//     answers the new INVITE and CANCELs the ringing call;
//   - an early dialog we did not initiate (a call ringing here) → 481, as
//     is a Replaces naming no dialog.

// maxEarlyTags caps the forks' tags kept for one outgoing call.
const maxEarlyTags = 16

// dialogMarks are a call's dialog tags and whether it is confirmed, safe
// to read from other goroutines.
type dialogMarks struct {
	mu        sync.Mutex
	outgoing  bool
	local     string   // our tag
	early     []string // outgoing, not yet confirmed: the To tags of provisional answers
	remote    string   // the other side's tag, once confirmed (incoming: from the start)
	confirmed bool
}

// start records our tag, and for an incoming call the caller's.
func (m *dialogMarks) start(outgoing bool, local, remote string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.outgoing, m.local, m.remote = outgoing, local, remote
}

// provisional records the To tag of a provisional answer to our INVITE.
func (m *dialogMarks) provisional(tag string) {
	if tag == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.early {
		if t == tag {
			return
		}
	}
	if len(m.early) < maxEarlyTags {
		m.early = append(m.early, tag)
	}
}

// confirm records that the dialog is confirmed (a 2xx sent or received);
// remote is the other side's tag ("" keeps the one known).
func (m *dialogMarks) confirm(remote string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if remote != "" {
		m.remote = remote
	}
	m.confirmed, m.early = true, nil
}

// match is the status for an INVITE whose Replaces names this call's
// dialog with toTag (ours) and fromTag (theirs): 0 when it replaces the
// call, else 481 or 486.
func (m *dialogMarks) match(toTag, fromTag string, earlyOnly bool) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.local == "" || m.local != toTag {
		return 481
	}
	switch {
	case m.confirmed:
		if m.remote != fromTag {
			return 481
		}
		if earlyOnly {
			return 486
		}
		return 0
	case m.outgoing:
		for _, t := range m.early {
			if t == fromTag {
				return 0
			}
		}
		return 481
	default: // ringing here: not ours to hand over
		return 481
	}
}

// earlyOnly tells whether a Replaces value has the early-only flag.
func earlyOnly(v string) bool {
	parts := strings.Split(v, ";")
	for _, p := range parts[1:] {
		if strings.EqualFold(strings.TrimSpace(p), "early-only") {
			return true
		}
	}
	return false
}
