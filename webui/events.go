package webui

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
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

// events serves /api/events as Server-Sent Events:
//
//	event: state   (once, first) data: the /api/state document
//	event: <kind>  data: the JSON of each Notice the phone publishes
//	event: log     id: <seq>  data: {"seq","time","level","message","line"}
//	: keepalive    every 15 s
//
// At most maxStreams streams are open at once; more get 503.
// The stream ends when the client goes away or the phone's notice channel
// closes. A client too slow to keep up misses log lines (see the seq gap)
// rather than slowing the phone.
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

	logs, cancelLogs := h.phone.Log().Subscribe(256)
	defer cancelLogs()
	notices, cancelNotices := h.phone.Events()
	if cancelNotices != nil {
		defer cancelNotices()
	}

	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	var b bytes.Buffer
	b.WriteString(": phonesim events\n\n")
	writeEvent(&b, "state", "", StateOf(h.phone.View()))
	if !send(w, rc, &b) {
		return
	}
	tick := time.NewTicker(h.keepalive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case e, ok := <-logs:
			if !ok {
				logs = nil
				continue
			}
			writeEvent(&b, "log", strconv.FormatUint(e.Seq, 10), logEvent{
				Seq: e.Seq, Time: e.Time.Format(time.RFC3339Nano), Level: e.Level.String(),
				Message: e.Message, Line: e.String(),
			})
		case n, ok := <-notices:
			if !ok {
				return
			}
			writeEvent(&b, n.Kind, "", n.Data)
		case <-tick.C:
			b.WriteString(": keepalive\n\n")
		}
		if !send(w, rc, &b) {
			return
		}
	}
}

func send(w http.ResponseWriter, rc *http.ResponseController, b *bytes.Buffer) bool {
	_, err := w.Write(b.Bytes())
	b.Reset()
	if err != nil {
		return false
	}
	return rc.Flush() == nil
}

// writeEvent appends one SSE event. The kind is reduced to a safe word and
// the data is single-line JSON, so nothing from the network can end the
// event early or forge another.
func writeEvent(b *bytes.Buffer, kind, id string, data any) {
	js, err := json.Marshal(data)
	if err != nil {
		js, _ = json.Marshal(map[string]string{"error": "cannot encode " + kind + " data: " + phonelog.Inert(err.Error())})
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
