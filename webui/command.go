package webui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"phonesim/firmware"
	"phonesim/keypad"
)

// Limits on one remote-control request.
const (
	maxCommandEvents = 128
	maxNumberLen     = 256
	maxQueryLen      = 8192
)

// command serves snom's remote control:
//
//	/command.htm?key=OFFHOOK;1;2;%23   keys, pressed in order
//	/command.htm?number=0301234        dial a number (or a sip: URI) at once
//	/command.htm?key_dtmf=12%2A        each character pressed as a digit key
//	/command.htm?key=P3&hold=1500      keys held that long (1000 ms or more: a long press)
//
// Parameters may be combined and run in the order given. Everything is
// checked before anything is posted: a bad key name posts nothing.
func (h *handler) command(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "webui: /command.htm takes GET", http.StatusMethodNotAllowed)
		return
	}
	if why := h.crossOrigin(r); why != "" {
		http.Error(w, "webui: cross-origin command refused: "+why, http.StatusForbidden)
		return
	}
	evs, err := parseCommand(r.URL.RawQuery)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for i, ev := range evs {
		if err := h.phone.Post(ev); err != nil {
			http.Error(w, fmt.Sprintf("webui: the phone is not running (%d of %d done): %v", i, len(evs), err), http.StatusServiceUnavailable)
			return
		}
	}
	h.render(w, "ok", page{Title: "OK", Done: describe(evs)})
}

// parseCommand turns a /command.htm query into events. It reads the raw
// query itself: "key=P1;P2" must keep its semicolons, and a "+" in a
// number is the international prefix, not a space.
func parseCommand(raw string) ([]firmware.Event, error) {
	if len(raw) > maxQueryLen {
		return nil, errors.New("webui: query too long")
	}
	if ev, ok, err := hotdeskCommand(raw); ok { // hotdesk.go
		if err != nil {
			return nil, err
		}
		return []firmware.Event{ev}, nil
	}
	held, err := holdOf(raw)
	if err != nil {
		return nil, err
	}
	var evs []firmware.Event
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(name)
		if err != nil {
			return nil, fmt.Errorf("webui: bad percent-encoding in parameter name %s", quote(name))
		}
		value, err = url.PathUnescape(value)
		if err != nil {
			return nil, fmt.Errorf("webui: bad percent-encoding in %s=%s", name, quote(value))
		}
		switch name {
		case "key":
			keys, err := keypad.ParseList(value)
			if err != nil {
				return nil, fmt.Errorf("webui: bad key in key=%s: %v (key names: 0-9, %%2A for *, %%23 for #, OFFHOOK, ONHOOK, ENTER, CANCEL, DND, P1..., EK0..., F1-F4 ...)", quote(value), err)
			}
			for _, k := range keys {
				evs = append(evs, firmware.KeyPressed{Key: k, Held: held})
			}
		case "number":
			n := strings.TrimSpace(value)
			if n == "" {
				return nil, errors.New("webui: number= is empty")
			}
			if len(n) > maxNumberLen {
				return nil, errors.New("webui: number= is too long")
			}
			for _, c := range n {
				if c < 0x20 || c == 0x7f || c >= 0x80 && c <= 0x9f {
					return nil, fmt.Errorf("webui: number=%s holds a control character", quote(n))
				}
			}
			if why := badDialString(n); why != "" {
				return nil, fmt.Errorf("webui: number=%s %s", quote(n), why)
			}
			evs = append(evs, firmware.NumberDialed{Number: n})
		case "hold":
			// read by holdOf: it applies to the request's keys wherever it stands
		case "key_dtmf":
			if value == "" {
				return nil, errors.New("webui: key_dtmf= is empty")
			}
			for i := 0; i < len(value); i++ {
				k := keypad.Key(value[i : i+1])
				if _, ok := k.Digit(); !ok {
					return nil, fmt.Errorf("webui: bad digit %s in key_dtmf=%s (0-9, %%2A for *, %%23 for #)", quote(string(k)), quote(value))
				}
				evs = append(evs, firmware.KeyPressed{Key: k})
			}
		}
		if len(evs) > maxCommandEvents {
			return nil, fmt.Errorf("webui: too many keys (at most %d)", maxCommandEvents)
		}
	}
	if len(evs) == 0 {
		return nil, errors.New("webui: nothing to do: use key=K[;K...], number=N or key_dtmf=D")
	}
	return evs, nil
}

// badDialString says what makes a number (or user@host, or sip: URI)
// obviously undialable, "" when nothing does: it could never become a
// valid Request-URI. The phone checks the URI it builds in full
// (firmware.CheckSIPURI); this refuses before anything is posted.
func badDialString(n string) string {
	for i := 0; i < len(n); i++ {
		switch c := n[i]; {
		case c == ' ' || c == '\t':
			return "holds a space (a number or SIP URI has none)"
		case c >= 0x80:
			return "holds a character outside ASCII (write a SIP URI's user part in %HH escapes)"
		case c == '%' && (i+2 >= len(n) || !isHex(n[i+1]) || !isHex(n[i+2])):
			return "holds a % that is not an escape %HH (write %2525 for a literal %)"
		}
	}
	return ""
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// maxHold caps hold=: a minute is longer than anyone holds a key.
const maxHold = 60 * time.Second

// holdOf reads hold=MS, how long the request's keys are held.
func holdOf(raw string) (time.Duration, error) {
	for pair := range strings.SplitSeq(raw, "&") {
		name, value, _ := strings.Cut(pair, "=")
		if name != "hold" {
			continue
		}
		ms, err := strconv.Atoi(value)
		if err != nil || ms < 0 || time.Duration(ms)*time.Millisecond > maxHold {
			return 0, fmt.Errorf("webui: hold=%s: want milliseconds, 0 to %d", quote(value), maxHold.Milliseconds())
		}
		return time.Duration(ms) * time.Millisecond, nil
	}
	return 0, nil
}

func describe(evs []firmware.Event) []string {
	out := make([]string, 0, len(evs))
	for _, ev := range evs {
		switch ev := ev.(type) {
		case firmware.KeyPressed:
			if ev.Held >= firmware.LongPress {
				out = append(out, "key "+string(ev.Key)+" (long press)")
			} else {
				out = append(out, "key "+string(ev.Key))
			}
		case firmware.NumberDialed:
			out = append(out, "number "+ev.Number)
		}
	}
	return out
}
