package device

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"phonesim/firmware"
)

// A client action's program that never exits is killed at its timeout;
// meanwhile the phone answers keys and calls as ever.
func TestHangingAppDoesNotStopThePhone(t *testing.T) {
	d, _ := startDevice(t, map[string]string{
		"client_action_name1": "Hang", "client_action_type1": "app", "client_action_target1": "sleep 30",
		"client_action_trigger1": "ringing", "client_action_direction1": "incoming", "client_action_timeout": "1",
	})
	caller, _ := startDevice(t, map[string]string{"user_name1": "200"})
	ip, port := d.SIPAddr()
	require.NoError(t, caller.Post(firmware.NumberDialed{Number: fmt.Sprintf("sip:100@%s:%d", ip, port)}))
	waitView(t, d, "the call ringing", func(v firmware.View) bool { return len(v.Calls) == 1 && v.Calls[0].State == firmware.Ringing })
	waitLog(t, d, `client action "Hang" (ringing)`)

	// the program runs; the phone answers at once
	require.NoError(t, d.Post(firmware.KeyPressed{Key: "ENTER"}))
	waitView(t, caller, "the call connected at the caller", func(v firmware.View) bool {
		return len(v.Calls) == 1 && v.Calls[0].State == firmware.Connected
	})
	require.NoError(t, d.Post(firmware.KeyPressed{Key: "ONHOOK"}))
	waitView(t, d, "the call ended", func(v firmware.View) bool {
		return len(v.Calls) == 0 || v.Calls[0].State == firmware.Ended
	})
	waitLog(t, d, "killed after 1s")
	line := ""
	for _, l := range d.Log().Lines() {
		if strings.Contains(l, "killed after") {
			line = l
		}
	}
	require.Contains(t, line, `client action "Hang" (ringing): sleep with 1 arguments: killed after 1s`)
}
