package webui

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"phonesim/phonelog"
)

// logEvent is the data of an "event: log" on /api/events.
type logEvent struct {
	Seq     uint64 `json:"seq"`
	Time    string `json:"time"` // RFC 3339 with fractions
	Level   string `json:"level"`
	Message string `json:"message"` // inert already
	Line    string `json:"line"`    // the log line as /log.txt has it
}

// gapEvent is the data of an "event: gap": the events with ids after
// After were lost to this client, Missed of them (their ids are After+1
// to After+Missed; the gap carries the last as its id). Restart says the
// client asked to resume from an id this phone has not reached: the
// phone restarted (its ids begin at 1 again).
type gapEvent struct {
	After   uint64 `json:"after"`
	Missed  uint64 `json:"missed"`
	Restart bool   `json:"restart,omitempty"`
}

// Lost is the Data of a Notice a phone puts on a subscriber's channel in
// place of notices it had to drop because the subscriber did not keep up
// (it never waits for one): N of them. /api/events gives the lost notices
// ids all the same, so its clients get a gap for them.
type Lost struct {
	N int `json:"missed"`
}

// replaySize is how many events the stream keeps for clients that come
// back with Last-Event-ID.
const replaySize = 512

// events serves /api/events as Server-Sent Events:
//
//	event: state   id: N  data: the /api/state document (first, on a new connection)
//	event: <kind>  id: N  data: the JSON of each Notice the phone publishes
//	event: log     id: N  data: {"seq","time","level","message","line"}
//	event: gap     id: N  data: {"after","missed"[,"restart"]}
//	: keepalive    every 15 s
//
// Every event carries an id from one counter per phone (see hub), so a
// client that reconnects with Last-Event-ID gets what it missed, or a gap.
// At most maxStreams streams are open at once; more get 503. The stream
// ends when the client goes away or the phone goes. A client too slow to
// keep up gets a gap rather than slowing the phone.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	select {
	case h.streams <- struct{}{}:
		defer func() { <-h.streams }()
	default:
		http.Error(w, "webui: too many event streams open", http.StatusServiceUnavailable)
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a server WriteTimeout must not cut the stream

	resume, resuming := lastEventID(r)
	fl := h.hub.attach()
	defer h.hub.detach(fl)

	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	var b bytes.Buffer
	b.WriteString(": phonesim events\n\n")
	switch {
	case !resuming:
		// the state as it is now: every event up to fl.next-1 is in it
		// (and maybe the effect of one still to come)
		writeEvent(&b, "state", strconv.FormatUint(fl.next-1, 10), StateOf(h.phone.View()))
	case resume >= fl.next:
		// an id this phone has not reached: it restarted since
		writeEvent(&b, "gap", "0", gapEvent{After: resume, Restart: true})
		fl.next = 1
	default:
		fl.next = resume + 1
	}
	tick := time.NewTicker(h.keepalive)
	defer tick.Stop()
	for {
		ended := h.hub.since(fl, &b)
		if !send(w, rc, &b) || ended {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-fl.wake:
		case <-fl.ended:
		case <-tick.C:
			b.WriteString(": keepalive\n\n")
		}
	}
}

// lastEventID reads the Last-Event-ID header a reconnecting EventSource
// sends (curl: -H 'Last-Event-ID: 42'). ok is false without one, or when
// it is not a number: then the client gets a new stream.
func lastEventID(r *http.Request) (id uint64, ok bool) {
	v := strings.TrimSpace(r.Header.Get("Last-Event-ID"))
	if v == "" {
		return 0, false
	}
	id, err := strconv.ParseUint(v, 10, 64)
	return id, err == nil
}

// hub is a phone's event stream, shared by all /api/events connections:
// it takes the phone's notices and log lines, numbers them with one
// counter (ids from 1, never reused while the handler lives) and keeps
// the last replaySize of them for clients that resume with Last-Event-ID
// or fall behind.
//
// It starts following the phone at the first /api/events request. A
// phone that has Done() <-chan struct{} (the device does) is followed
// from then until Done is closed, so a client that comes back after a
// disconnect finds what happened meanwhile. Another phone is followed
// only while a stream is open; when it is followed again, the id between
// is skipped, so a client resuming across the pause gets a gap.
type hub struct {
	phone Phone
	done  <-chan struct{} // the phone's Done; nil: follow only while streams are open

	feedMu  sync.Mutex // held while starting and stopping the feed (it calls the phone)
	feed    *feed      // the feed in force; nil before the first stream (and, without done, when none is open)
	started bool       // a feed ran before
	streams int        // open streams, under feedMu

	mu      sync.Mutex
	last    uint64                 // the id of the newest event
	ring    [replaySize]*record    // event id i at ring[i%replaySize], if that holds id i
	waiters map[*follower]struct{} // streams to wake on a new event
}

// record is one event of the stream. It is written out (JSON encoded)
// once, by the first stream that sends it, so the feed only numbers and
// stores: it keeps up with the phone, whose notices are dropped for a
// subscriber that does not.
type record struct {
	id   uint64
	kind string
	data any
	once sync.Once
	text []byte
}

// bytes returns the record as an SSE event.
func (rec *record) bytes() []byte {
	rec.once.Do(func() {
		var b bytes.Buffer
		writeEvent(&b, rec.kind, strconv.FormatUint(rec.id, 10), rec.data)
		rec.text, rec.data = b.Bytes(), nil
	})
	return rec.text
}

// feed is one run of following the phone.
type feed struct {
	quit  chan struct{} // closed to stop it
	ended chan struct{} // closed when it has stopped (asked to, or the phone went)
	once  sync.Once
}

func (f *feed) stop() { f.once.Do(func() { close(f.quit) }) }

// follower is one open stream: the id it wants next and how it is woken.
type follower struct {
	next  uint64
	wake  chan struct{} // 1 slot: a new event is there
	ended <-chan struct{}
}

func newHub(p Phone) *hub {
	hb := &hub{phone: p, waiters: map[*follower]struct{}{}}
	if d, ok := p.(interface{ Done() <-chan struct{} }); ok {
		hb.done = d.Done()
	}
	return hb
}

// attach opens a stream: it starts following the phone if needed and
// returns a follower whose next is the id of the next event to come.
func (hb *hub) attach() *follower {
	hb.feedMu.Lock()
	defer hb.feedMu.Unlock()
	hb.streams++
	if hb.feed == nil {
		hb.feed = hb.start()
	}
	fl := &follower{wake: make(chan struct{}, 1), ended: hb.feed.ended}
	hb.mu.Lock()
	fl.next = hb.last + 1
	hb.waiters[fl] = struct{}{}
	hb.mu.Unlock()
	return fl
}

// detach closes a stream; a phone without Done is let go with the last.
func (hb *hub) detach(fl *follower) {
	hb.mu.Lock()
	delete(hb.waiters, fl)
	hb.mu.Unlock()
	hb.feedMu.Lock()
	defer hb.feedMu.Unlock()
	hb.streams--
	if hb.done == nil && hb.streams == 0 && hb.feed != nil {
		hb.feed.stop()
		hb.feed = nil
	}
}

// start subscribes to the phone and runs a feed; feedMu is held.
func (hb *hub) start() *feed {
	f := &feed{quit: make(chan struct{}), ended: make(chan struct{})}
	if hb.started {
		// what happened while nobody followed the phone is unknown: an
		// id that is never sent makes a resuming client see a gap
		hb.mu.Lock()
		hb.last++
		hb.mu.Unlock()
	}
	hb.started = true
	log := hb.phone.Log()
	logs, cancelLogs := log.Subscribe(256)
	notices, cancelNotices := hb.phone.Events()
	go func() {
		var lastSeq uint64 // of the last log line
		defer func() {
			cancelLogs()
			if cancelNotices != nil {
				cancelNotices()
			}
			hb.end(f)
		}()
		for {
			select {
			case <-f.quit:
				return
			case <-hb.done: // nil (never) for a phone without Done
				return
			case e, ok := <-logs:
				if !ok {
					logs = nil
					continue
				}
				if lastSeq != 0 && e.Seq > lastSeq+1 {
					hb.skip(f, e.Seq-lastSeq-1) // lines dropped for us: a gap
				}
				lastSeq = e.Seq
				hb.add(f, "log", logEvent{
					Seq: e.Seq, Time: e.Time.Format(time.RFC3339Nano), Level: e.Level.String(),
					Message: e.Message, Line: e.String(),
				})
			case n, ok := <-notices:
				if !ok {
					return
				}
				if l, ok := n.Data.(Lost); ok {
					hb.skip(f, uint64(max(l.N, 0)))
					continue
				}
				hb.add(f, n.Kind, n.Data)
			}
		}
	}()
	return f
}

// end marks a feed stopped and wakes the streams that follow it; a phone
// without Done is followed anew by the next stream.
func (hb *hub) end(f *feed) {
	hb.feedMu.Lock()
	if hb.feed == f && hb.done == nil {
		hb.feed = nil
	}
	close(f.ended)
	hb.feedMu.Unlock()
}

// add numbers one event of feed f and hands it to the streams.
func (hb *hub) add(f *feed, kind string, data any) {
	hb.mu.Lock()
	defer hb.mu.Unlock()
	select {
	case <-f.quit: // stopped: not this feed's turn any more
		return
	default:
	}
	hb.last++
	hb.ring[hb.last%replaySize] = &record{id: hb.last, kind: kind, data: data}
	for fl := range hb.waiters {
		select {
		case fl.wake <- struct{}{}:
		default:
		}
	}
}

// skip gives ids to n events of feed f that were lost before they reached
// it: they are never sent, so the streams get a gap for them.
func (hb *hub) skip(f *feed, n uint64) {
	hb.mu.Lock()
	defer hb.mu.Unlock()
	select {
	case <-f.quit:
		return
	default:
	}
	hb.last += n
}

// since appends the events from fl.next on to b, with a gap event for
// each run of ids no longer kept (or never sent), and moves fl.next past
// them. It reports whether the stream has ended: the feed stopped and
// every event it made is in b.
func (hb *hub) since(fl *follower, b *bytes.Buffer) (ended bool) {
	select {
	case <-fl.ended:
		ended = true // checked first: events added before the end are read below
	default:
	}
	// under the lock only collect; write out after
	type item struct {
		rec             *record
		gapFrom, gapLen uint64
	}
	var items []item
	hb.mu.Lock()
	var gapFrom, gapLen uint64
	flush := func() {
		if gapLen > 0 {
			items = append(items, item{gapFrom: gapFrom, gapLen: gapLen})
			gapLen = 0
		}
	}
	if hb.last >= replaySize && fl.next+replaySize <= hb.last {
		// older than anything the ring can hold
		gapFrom, gapLen = fl.next, hb.last-replaySize+1-fl.next
		fl.next = hb.last - replaySize + 1
	}
	for ; fl.next <= hb.last; fl.next++ {
		rec := hb.ring[fl.next%replaySize]
		if rec == nil || rec.id != fl.next {
			if gapLen == 0 {
				gapFrom = fl.next
			}
			gapLen++
			continue
		}
		flush()
		items = append(items, item{rec: rec})
	}
	flush()
	hb.mu.Unlock()
	for _, it := range items {
		if it.rec != nil {
			b.Write(it.rec.bytes())
		} else {
			writeEvent(b, "gap", strconv.FormatUint(it.gapFrom+it.gapLen-1, 10), gapEvent{After: it.gapFrom - 1, Missed: it.gapLen})
		}
	}
	return ended
}

func send(w http.ResponseWriter, rc *http.ResponseController, b *bytes.Buffer) bool {
	if b.Len() == 0 {
		return true
	}
	_, err := w.Write(b.Bytes())
	b.Reset()
	if err != nil {
		return false
	}
	return rc.Flush() == nil
}

// writeEvent appends one SSE event. The kind is reduced to a safe word and
// the data is single-line JSON (json.Marshal escapes line breaks in
// strings; data it cannot encode becomes an error object), so nothing
// from the network can end the event early or forge another.
func writeEvent(b *bytes.Buffer, kind, id string, data any) {
	js, err := json.Marshal(data)
	if err != nil {
		js, _ = json.Marshal(map[string]string{"error": "cannot encode " + eventName(kind) + " data: " + phonelog.Inert(err.Error())})
	}
	b.WriteString("event: ")
	b.WriteString(eventName(kind))
	b.WriteByte('\n')
	if id != "" {
		b.WriteString("id: ")
		b.WriteString(id)
		b.WriteByte('\n')
	}
	b.WriteString("data: ")
	b.Write(js)
	b.WriteString("\n\n")
}

func eventName(kind string) string {
	if kind == "" {
		return "notice"
	}
	out := []byte(kind)
	if len(out) > 64 {
		out = out[:64]
	}
	for i, c := range out {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == ':' || c == '-') {
			out[i] = '_'
		}
	}
	return string(out)
}
