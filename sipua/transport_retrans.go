package sipua

import (
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
)

// An INVITE retransmission normally meets its server transaction, which
// absorbs it. If that transaction is gone (a transport error ended it, or
// Timer L ran out during a long call), sipgo makes a new one and hands
// the copy to us again: without this, a second call, or a 482. seenInvites
// remembers each INVITE while its handler runs and for 64·T1 after.
type seenInvites struct {
	mu    sync.Mutex
	m     map[string]time.Time // key → forget after; zero: handler running
	ended []seenInvite         // handlers done, oldest first (their times ascend)
}

type seenInvite struct {
	key   string
	until time.Time
}

// maxSeenInvites bounds the memory an INVITE flood can take; past it, an
// INVITE goes through unremembered.
const maxSeenInvites = 1024

// inviteKey identifies one INVITE transaction, also without an RFC 3261
// branch (RFC 2543 peers).
func inviteKey(req *sip.Request) string {
	var key []byte
	if h := req.CallID(); h != nil {
		key = append(key, h.Value()...)
	}
	key = append(key, 0)
	if h := req.CSeq(); h != nil {
		key = append(key, h.Value()...)
	}
	key = append(key, 0)
	if h := req.From(); h != nil {
		key = append(key, tagOf(h.Params)...)
	}
	key = append(key, 0)
	if h := req.Via(); h != nil {
		if b, ok := h.Params.Get("branch"); ok {
			key = append(key, b...)
		} else {
			key = append(key, h.Value()...)
		}
	}
	return string(key)
}

// begin records key: fresh is false for a retransmission; remembered is
// false when the memory is full.
func (s *seenInvites) begin(key string, now time.Time) (fresh, remembered bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forget(now)
	if _, ok := s.m[key]; ok {
		return false, false
	}
	if len(s.m) >= maxSeenInvites {
		return true, false
	}
	if s.m == nil {
		s.m = map[string]time.Time{}
	}
	s.m[key] = time.Time{}
	return true, true
}

// end starts key's 64·T1 of memory.
func (s *seenInvites) end(key string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	until := now.Add(64 * sip.T1)
	s.m[key] = until
	s.ended = append(s.ended, seenInvite{key, until})
}

// forget drops what is past its time; an idle phone keeps no map.
func (s *seenInvites) forget(now time.Time) {
	i := 0
	for ; i < len(s.ended) && !now.Before(s.ended[i].until); i++ {
		if until, ok := s.m[s.ended[i].key]; ok && until.Equal(s.ended[i].until) {
			delete(s.m, s.ended[i].key)
		}
	}
	s.ended = s.ended[i:]
	if len(s.ended) == 0 {
		s.ended = nil
	}
	if len(s.m) == 0 {
		s.m = nil
	}
}

// absorbRetransmissions drops an INVITE already handed to the core.
func (u *UA) absorbRetransmissions(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		key := inviteKey(req)
		fresh, remembered := u.seen.begin(key, time.Now())
		if !fresh {
			u.logf(firmware.Debug, "sip: INVITE retransmission absorbed (Call-ID %s)", inert(callIDOf(req), maxHeaderRunes))
			return
		}
		if remembered {
			defer func() { u.seen.end(key, time.Now()) }()
		}
		h(req, tx)
	}
}
