package media

import "time"

// The receive jitter buffer: fixed depth, reorders by sequence number,
// drops what comes too late. Playout is driven by the session's 20 ms
// tick; time enters as arguments, so tests use a fake clock.
//
//   - The first packet starts buffering; playout starts at the first tick
//     at least JitterDepth after it arrived (so 60–80 ms of delay).
//   - Each tick plays the next sequence number. Not there but later ones
//     are: it is lost, the tick plays silence (concealed) and moves on.
//     Nothing at all held: an underrun; the tick plays silence and the
//     buffer fills again from the next packet (so a sender whose clock
//     runs slow costs a re-buffer, not a stream of late packets).
//   - A packet older than the one last played is late: dropped, counted.
//     A sequence number already held is a duplicate: dropped, counted.
//   - A packet more than jitterSlots ahead of playout (a new stream, or a
//     long outage) flushes the buffer and starts buffering again.

// JitterDepth is the receive buffer's fixed delay.
const JitterDepth = 60 * time.Millisecond

const jitterSlots = 16 // 320 ms of 20 ms packets

type jbEntry struct {
	held    bool
	seq     uint16
	pt      uint8
	audio   bool // false: a telephone-event, plays as silence
	payload []byte
}

// jitterBuffer is not safe for concurrent use; the session's lock
// guards it.
type jitterBuffer struct {
	slots   [jitterSlots]jbEntry
	count   int
	begun   bool // a first packet has set next
	playing bool // buffering is over
	played  bool // playout has moved past a sequence number: older ones are late
	next    uint16
	firstAt time.Time

	late, duplicate, concealed, underruns, resets uint64
}

type pushResult uint8

const (
	pushed pushResult = iota
	pushedLate
	pushedDuplicate
)

// push stores a packet that arrived at now.
func (j *jitterBuffer) push(seq uint16, pt uint8, audio bool, payload []byte, now time.Time) pushResult {
	if !j.begun {
		j.begun, j.next, j.firstAt = true, seq, now
	}
	d := int16(seq - j.next)
	switch {
	case d < 0 && j.played:
		j.late++
		return pushedLate
	case d < 0: // buffering: an earlier packet than the first; start from it if all still fits
		if span := j.span(); int(-d)+span > jitterSlots {
			j.late++
			return pushedLate
		}
		j.next = seq
	case int(d) >= jitterSlots:
		j.flush()
		j.resets++
		j.next, j.firstAt, j.played = seq, now, false
	}
	if j.count == 0 && !j.playing {
		j.firstAt = now
	}
	e := &j.slots[seq%jitterSlots]
	if e.held {
		if e.seq == seq {
			j.duplicate++
			return pushedDuplicate
		}
		j.count-- // an old one left behind: the new one wins
	}
	e.held, e.seq, e.pt, e.audio = true, seq, pt, audio
	e.payload = append(e.payload[:0], payload...)
	j.count++
	return pushed
}

// span is how many sequence numbers from next to the newest held.
func (j *jitterBuffer) span() int {
	s := 0
	for i := range j.slots {
		if e := &j.slots[i]; e.held {
			if d := int(int16(e.seq-j.next)) + 1; d > s {
				s = d
			}
		}
	}
	return s
}

func (j *jitterBuffer) flush() {
	for i := range j.slots {
		j.slots[i].held = false
	}
	j.count, j.playing = 0, false
}

type popResult uint8

const (
	popBuffering popResult = iota // nothing to play yet
	popOK                         // e is the next packet
	popLost                       // next was lost: play silence
	popUnderrun                   // nothing held: play silence, buffer again
)

// pop gives what the tick at now plays. The entry is valid until the
// next push.
func (j *jitterBuffer) pop(now time.Time) (*jbEntry, popResult) {
	if !j.playing {
		if j.count == 0 || now.Sub(j.firstAt) < JitterDepth {
			return nil, popBuffering
		}
		j.playing = true
	}
	if j.count == 0 {
		j.playing = false
		j.underruns++
		return nil, popUnderrun
	}
	e := &j.slots[j.next%jitterSlots]
	seq := j.next
	j.next++
	j.played = true
	if !e.held || e.seq != seq {
		j.concealed++
		return nil, popLost
	}
	e.held = false
	j.count--
	return e, popOK
}
