package device

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"phonesim/firmware"
)

// memoryFile is where a phone keeps its Memory in its data folder.
const memoryFile = "memory.json"

// maxMemoryFile caps what is read back: call lists are capped at 100
// entries each, so a larger file is not ours.
const maxMemoryFile = 1 << 20

// loadMemory reads the phone's Memory from dir. A missing file is a first
// start (ok false, no error); a damaged one is an error, and the phone
// starts without it rather than not at all. A damaged file is renamed
// aside (memory.json.bad-TIMESTAMP), not overwritten by the next save:
// what it held may still be read by a person.
func loadMemory(dir string) (firmware.Memory, bool, error) {
	var m firmware.Memory
	path := filepath.Join(dir, memoryFile)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return m, false, nil
	case err != nil:
		return m, false, err
	case len(data) > maxMemoryFile:
		return m, false, fmt.Errorf("%s: larger than %d bytes%s", path, maxMemoryFile, putAside(path))
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, false, fmt.Errorf("%s: %w%s", path, err, putAside(path))
	}
	return m, true, nil
}

// putAside renames a damaged file to path.bad-TIMESTAMP (with a counter
// when that exists) and says where it went, for the error message.
func putAside(path string) string {
	aside := path + ".bad-" + time.Now().Format("20060102-150405")
	// a name that is taken gets a counter; any error but "exists" (the
	// folder is gone, a path part is a file) ends the search: the rename
	// below then says what is wrong
	for i := 2; i <= 100; i++ {
		if _, err := os.Lstat(aside); err != nil {
			break
		}
		aside = path + ".bad-" + time.Now().Format("20060102-150405") + "-" + strconv.Itoa(i)
	}
	if err := os.Rename(path, aside); err != nil {
		return " (and it could not be put aside: " + err.Error() + ")"
	}
	return "; kept as " + aside
}

// saveMemory writes m to dir atomically: a crash leaves the old file or
// the new one, never half of one.
func saveMemory(dir string, m firmware.Memory) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(dir, memoryFile, append(data, '\n'))
}

// writeAtomic replaces dir/name with data so that a crash at any moment
// (kill -9, power loss) leaves the old file or the new one, never half of
// one: a temp file in the same folder, fsync, rename, fsync the folder.
func writeAtomic(dir, name string, data []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, name+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync() // the rename itself survives a power loss
		f.Close()
	}
	return nil
}

// cleanTemps removes temp files a killed writer left behind: NAME.tmp-N,
// and NAME.N as earlier versions named them. Files put aside
// (NAME.bad-...) stay.
func cleanTemps(dir string) {
	for _, name := range []string{memoryFile, userFile} {
		leftovers, _ := filepath.Glob(filepath.Join(dir, name+".*"))
		for _, f := range leftovers {
			suffix := strings.TrimPrefix(filepath.Base(f), name+".")
			if rest, ok := strings.CutPrefix(suffix, "tmp-"); ok {
				suffix = rest
			}
			if suffix != "" && strings.Trim(suffix, "0123456789") == "" {
				_ = os.Remove(f)
			}
		}
	}
}

// dataState is the data folder as the writer knows it.
type dataState struct {
	failing bool  // the last write failed
	probe   error // what prepareData found, told when the writer starts
}

// prepareData readies the data folder at start: the temp files a killed
// writer left go, and a write is tried, so a folder that takes none
// (read-only, full) shows before the user's first change is lost.
func prepareData(dir string) error {
	cleanTemps(dir)
	return probeData(dir)
}

// probeData checks that dir takes a write (it exists or can be made, is
// not read-only, not full): a temp file written, synced and removed.
func probeData(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, memoryFile+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write([]byte("{}\n")); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// reportData tells the phone's loop when writing to the data folder
// starts or stops failing (firmware.DataFolderFailed, DataFolderRecovered):
// the display and /api/state show a folder that loses the user's changes.
// Only the writer calls it; once the loop stopped nothing is told.
func (d *Device) reportData(err error, stopped <-chan struct{}) {
	if err == nil && !d.dataState.failing {
		return
	}
	d.dataState.failing = err != nil
	var ev firmware.Event = firmware.DataFolderRecovered{}
	if err != nil {
		ev = firmware.DataFolderFailed{Reason: err.Error()}
	}
	select {
	case d.events <- ev:
	case <-stopped:
	}
}
