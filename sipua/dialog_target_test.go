package sipua

import (
	"fmt"
	"testing"
	"time"

	"phonesim/firmware"
)

// A target that is no valid SIP URI (the core refuses these before
// dialing; this is the adapter's own check) never reaches the wire: no
// "INVITE sip:a b@... SIP/2.0", a CallFailed instead.
func TestDialRefusesAnInvalidRequestURI(t *testing.T) {
	a := dialogPhone(t, "A", MediaTone, nil)
	r := newRaw(t)
	for i, target := range []string{
		fmt.Sprintf("sip:a b@127.0.0.1:%d", r.port),
		fmt.Sprintf("sip:50%%@127.0.0.1:%d", r.port),
		fmt.Sprintf("sip:\u202e1234@127.0.0.1:%d", r.port),
	} {
		id := firmware.CallID(fmt.Sprintf("c%d", i))
		a.ua.Do(firmware.Dial{Call: id, Target: target})
		if got := expectOnly[firmware.CallFailed](a); got.Call != id || got.Status != 0 {
			t.Fatalf("%q: CallFailed = %+v", target, got)
		}
	}
	r.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	buf := make([]byte, 2048)
	if n, _, err := r.conn.ReadFromUDP(buf); err == nil {
		t.Fatalf("sent:\n%s", buf[:n])
	}
}
