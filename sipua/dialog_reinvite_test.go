package sipua

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
)

// A re-INVITE (hold) that gets no answer, a 408 or a 481 ends the dialog
// (RFC 3261 §14.1): BYE, and CallEnded so the core frees the slot. The
// call does not stay on hold for ever.
func TestReinviteFailureEndsTheCall(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer int // 0: none
	}{{"no answer", 0}, {"408", 408}, {"481", 481}} {
		t.Run(tc.name, func(t *testing.T) {
			b := dialogPhone(t, "B", MediaTone, func(c *Config) { c.TransactionTimeout = 300 * time.Millisecond })
			r := newRaw(t)
			off, _ := inviteAndAnswer(t, r, b, "reinv-"+tc.name)

			b.ua.Do(firmware.HoldCall{Call: off.Call})
			reinv := r.request(sip.INVITE)
			if tc.answer != 0 {
				r.send(response(reinv, tc.answer, "Whatever", "", nil, ""))
			}
			got := expect[firmware.CallEnded](b)
			if got.Call != off.Call || got.Reason == "" {
				t.Fatalf("CallEnded = %+v", got)
			}
			bye := r.request(sip.BYE)
			r.send(response(bye, 200, "OK", "", nil, ""))
			eventually(t, "call gone", func() bool { return b.ua.active() == 0 })
		})
	}
}
