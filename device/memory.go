package device

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"phonesim/firmware"
)

// memoryFile is where a phone keeps its Memory in its data folder.
const memoryFile = "memory.json"

// maxMemoryFile caps what is read back: call lists are capped at 100
// entries each, so a larger file is not ours.
const maxMemoryFile = 1 << 20

// loadMemory reads the phone's Memory from dir. A missing file is a first
// start (ok false, no error); a damaged one is an error, and the phone
// starts without it rather than not at all.
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
		return m, false, fmt.Errorf("%s: larger than %d bytes", path, maxMemoryFile)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, false, fmt.Errorf("%s: %w", path, err)
	}
	return m, true, nil
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

// cleanTemps removes temp files a killed writer left behind.
func cleanTemps(dir string) {
	for _, name := range []string{memoryFile, userFile} {
		leftovers, _ := filepath.Glob(filepath.Join(dir, name+".tmp-*"))
		for _, f := range leftovers {
			_ = os.Remove(f)
		}
	}
}
