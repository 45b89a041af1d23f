package device

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"phonesim/display"
	"phonesim/firmware"
	"phonesim/keypad"
	"phonesim/provisioning"
	"phonesim/sipua"
	"phonesim/webui"
)

func startInData(t *testing.T, dir string) (*Device, context.CancelFunc) {
	t.Helper()
	s := provisioning.New()
	_ = s.Set("user_name1", "100")
	d, err := New(Config{Settings: s, SIP: "127.0.0.1:0", Media: sipua.MediaSilence, Data: dir})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, d.Start(ctx))
	t.Cleanup(func() { cancel(); <-d.Done() })
	return d, cancel
}

// kill -9 in the middle of a write leaves temp files (memory.json.tmp-N,
// settings.cfg.tmp-N, and memory.json.N from earlier versions): the next
// start removes them, and keeps what was put aside.
func TestTempFilesCleanedAtStart(t *testing.T) {
	dir := t.TempDir()
	leftovers := []string{"memory.json.tmp-123456", "settings.cfg.tmp-99", "memory.json.4242", "settings.cfg.77"}
	kept := []string{"memory.json.bad-20260305-090400", "notes.txt"}
	for _, name := range append(append([]string{}, leftovers...), kept...) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("{"), 0o644))
	}
	d, stop := startInData(t, dir)
	waitView(t, d, "booted", func(v firmware.View) bool { return v.Identity.User == "100" })
	stop()
	<-d.Done()
	for _, name := range leftovers {
		_, err := os.Stat(filepath.Join(dir, name))
		assert.Truef(t, os.IsNotExist(err), "%s left behind", name)
	}
	for _, name := range kept {
		_, err := os.Stat(filepath.Join(dir, name))
		assert.NoErrorf(t, err, "%s removed", name)
	}
}

// A damaged memory.json is renamed aside (memory.json.bad-TIMESTAMP) with
// its content, not overwritten by the next save.
func TestCorruptMemoryPutAside(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, memoryFile), []byte("{not json"), 0o644))
	d, _ := startInData(t, dir)
	require.Eventually(t, func() bool {
		return strings.Contains(strings.Join(d.Log().Lines(), "\n"), "kept as "+filepath.Join(dir, memoryFile+".bad-"))
	}, 5*time.Second, 10*time.Millisecond, "no log line naming where the damaged file went")
	require.NoError(t, d.Post(firmware.NumberDialed{Number: "sip:nobody@127.0.0.1:9"})) // a save
	require.Eventually(t, func() bool {
		_, err := os.Stat(filepath.Join(dir, memoryFile))
		return err == nil
	}, 5*time.Second, 10*time.Millisecond, "no new memory.json")
	aside, _ := filepath.Glob(filepath.Join(dir, memoryFile+".bad-*"))
	require.Len(t, aside, 1)
	b, err := os.ReadFile(aside[0])
	require.NoError(t, err)
	assert.Equal(t, "{not json", string(b))
}

// A data folder that takes no writes (here: its path runs through a
// file; read-only and full folders fail the same writes) is shown on the
// idle screen and in /api/state, not only in the log, so a DND change
// that will be lost at the next restart is not lost in silence; once
// writing works again, the warning goes.
func TestUnwritableDataFolderShown(t *testing.T) {
	base := t.TempDir()
	blocker := filepath.Join(base, "data")
	require.NoError(t, os.WriteFile(blocker, []byte("not a folder"), 0o644))
	d, _ := startInData(t, filepath.Join(blocker, "phone"))

	require.NoError(t, d.Post(firmware.KeyPressed{Key: keypad.DND}))
	v := waitView(t, d, "DND on and the folder failing", func(v firmware.View) bool { return v.DND && v.DataError != "" })
	assert.Contains(t, display.ScreenLines(v), "Data folder: cannot write")
	assert.Contains(t, webui.StateOf(v).DataError, "not a directory")
	log := strings.Join(d.Log().Lines(), "\n")
	assert.Contains(t, log, "data folder:")
	assert.Equal(t, 1, strings.Count(log, "will not survive a restart"), "said once:\n%s", log)

	// the folder comes back: the next write clears the warning
	require.NoError(t, os.Remove(blocker))
	require.NoError(t, d.Post(firmware.KeyPressed{Key: keypad.DND}))
	v = waitView(t, d, "the warning gone", func(v firmware.View) bool { return !v.DND && v.DataError == "" })
	assert.NotContains(t, display.ScreenLines(v), "Data folder: cannot write")
	assert.Contains(t, strings.Join(d.Log().Lines(), "\n"), "data folder: writing again")
}

// putAside ends when the folder cannot be looked at (a path part is a
// file): it hung in a loop on any Lstat error but "not exist".
func TestPutAsideUnderAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	done := make(chan string, 1)
	go func() { done <- putAside(filepath.Join(file, "settings.cfg")) }()
	select {
	case msg := <-done:
		require.Contains(t, msg, "could not be put aside")
	case <-time.After(5 * time.Second):
		t.Fatal("putAside does not return")
	}
}
