package device

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"phonesim/firmware"
	"phonesim/provisioning"
	"phonesim/sipua"
)

// Quitting during a call (q, SIGTERM: the phone's context ends) hangs
// the call up before the phone is done: when Done closes, the BYE has
// been answered and the SIP transport is closed, so a process that exits
// right after Done leaves no call behind. Ten times, as the fault showed
// in half of the tries.
func TestQuitDuringCallEndsItAtThePeer(t *testing.T) {
	b, _ := startDevice(t, map[string]string{"user_auto_connect1": "on"})
	ip, port := b.SIPAddr()
	for i := range 10 {
		s := provisioning.New()
		_ = s.Set("user_name1", "200")
		a, err := New(Config{Settings: s, SIP: "127.0.0.1:0", Media: sipua.MediaSilence})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		require.NoError(t, a.Start(ctx))
		_, aPort := a.SIPAddr()

		require.NoError(t, a.Post(firmware.NumberDialed{Number: fmt.Sprintf("sip:100@%s:%d", ip, port)}))
		connected := func(v firmware.View) bool {
			for _, c := range v.Calls {
				if c.State == firmware.Connected {
					return true
				}
			}
			return false
		}
		waitView(t, a, "A connected", connected)
		waitView(t, b, "B connected", connected)

		cancel() // q or SIGTERM
		select {
		case <-a.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("try %d: A did not stop", i)
		}
		// The process may exit now: everything A had to say is said.
		l, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", aPort))
		require.NoErrorf(t, err, "try %d: A's SIP socket is still open when Done closed", i)
		l.Close()
		waitView(t, b, "B's call ended", func(v firmware.View) bool { return !connected(v) })
		require.Eventually(t, func() bool {
			return strings.Count(strings.Join(b.Log().Lines(), "\n"), "ended by the remote party") == i+1
		}, 2*time.Second, 10*time.Millisecond, "try %d: B did not hear the BYE", i)
	}
}
