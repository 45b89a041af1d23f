package device

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"phonesim/firmware"
	"phonesim/keypad"
)

// The REC key records the call in progress to a WAV file, and stops.
func TestRecordKey(t *testing.T) {
	dir := t.TempDir()
	d, _ := startDevice(t, map[string]string{"record_dir": dir})
	callee, _ := startDevice(t, map[string]string{"user_name1": "200", "user_auto_connect1": "on"})
	ip, port := callee.SIPAddr()
	require.NoError(t, d.Post(firmware.NumberDialed{Number: fmt.Sprintf("sip:200@%s:%d", ip, port)}))
	v := waitView(t, d, "the call connected", func(v firmware.View) bool {
		return len(v.Calls) == 1 && v.Calls[0].State == firmware.Connected
	})
	call := v.Calls[0].ID
	require.NoError(t, d.Post(firmware.KeyPressed{Key: keypad.Record}))
	require.Eventually(t, func() bool { return d.MediaStats(call).RecordingActive }, 5*time.Second, 10*time.Millisecond)
	time.Sleep(200 * time.Millisecond) // some audio
	require.NoError(t, d.Post(firmware.KeyPressed{Key: keypad.Record}))
	waitLog(t, d, "recording stopped: ")
	files, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, files, 1)
	info, err := files[0].Info()
	require.NoError(t, err)
	require.Greater(t, info.Size(), int64(44), "a WAV with audio in it")
}
