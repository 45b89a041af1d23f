package device

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"phonesim/firmware"
	"phonesim/provisioning"
	"phonesim/provisioning/server"
)

// userFile is where a phone keeps the user's setting changes, in the flat
// form, so a person can read it.
const userFile = "settings.cfg"

// ChangeSettings applies the user's changes (the web form, /dummy.htm),
// checked against the schema and each setting's perm, all or nothing. It
// returns the findings; with an error among them nothing changed.
func (d *Device) ChangeSettings(changes []provisioning.UserChange, source string) ([]provisioning.Finding, error) {
	type result struct {
		fs  []provisioning.Finding
		gen int64
	}
	reply := make(chan result, 1)
	err := d.do(func() {
		fs := d.store.Change(changes, source)
		var gen int64
		if !provisioning.HasError(fs) {
			for _, c := range changes {
				d.log.Add(firmware.Info, "setting "+c.Name+" changed by the user ("+source+")")
			}
			d.apply(true)
			gen = d.keepUser()
		}
		reply <- result{fs, gen}
	})
	if err != nil {
		return nil, err
	}
	var r result
	select {
	case r = <-reply:
	case <-d.done:
		return nil, ErrStopped
	}
	if r.gen > 0 {
		// answer once the change is on disk: an acknowledged change
		// survives a kill -9 that comes right after the answer
		if err := d.kept.wait(r.gen, d.done, 10*time.Second); err != nil {
			r.fs = append(r.fs, provisioning.Finding{Severity: provisioning.Warning, Source: source,
				Message: "applied, but not kept in the data folder: " + err.Error()})
		}
	}
	return r.fs, nil
}

// userSave is one version of the user's changes for the writer.
type userSave struct {
	gen    int64
	values map[string]string
}

// keptState tells waiters how far the writer of the user's changes got.
type keptState struct {
	mu      sync.Mutex
	gen     int64 // the last version handed to the writer (the loop's)
	written int64 // the last version written (or failed)
	err     error
	changed chan struct{} // closed and replaced on each write
}

func (k *keptState) done(gen int64, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.written, k.err = gen, err
	if k.changed != nil {
		close(k.changed)
		k.changed = nil
	}
}

func (k *keptState) wait(gen int64, stop <-chan struct{}, limit time.Duration) error {
	timeout := time.After(limit)
	for {
		k.mu.Lock()
		if k.written >= gen {
			err := k.err
			k.mu.Unlock()
			return err
		}
		if k.changed == nil {
			k.changed = make(chan struct{})
		}
		ch := k.changed
		k.mu.Unlock()
		select {
		case <-ch:
		case <-stop:
			return ErrStopped
		case <-timeout:
			return errors.New("the data folder is not answering")
		}
	}
}

// Refuses says why the user may not change name ("" when they may). It
// reads the settings snapshot, not the loop: the settings page asks for
// every row.
func (d *Device) Refuses(name string) string {
	m := d.settings.Load().Meta(name)
	if m.Perm != provisioning.PermReadOnly {
		return ""
	}
	origin := m.Origin
	if origin == "" {
		origin = "provisioning"
	}
	return "read-only (perm \"&\" from " + origin + ")"
}

// Reprovision fetches the setting server now, as the REPROVISION key
// does. It returns at once; the outcome is on the phone log.
func (d *Device) Reprovision() error { return d.do(d.reprovision) }

// do runs f on the phone's loop.
func (d *Device) do(f func()) error {
	select {
	case <-d.done:
		return ErrStopped
	default:
	}
	select {
	case d.ops <- f:
		return nil
	case <-d.done:
		return ErrStopped
	}
}

// apply puts the store's settings in force.
func (d *Device) apply(byUser bool) {
	d.step(firmware.SettingsChanged{Settings: d.store.Resolve(), ByUser: byUser})
}

// userChanged records a change the user made on the handset.
func (d *Device) userChanged(name, value string) {
	if fs := d.store.Change([]provisioning.UserChange{{Name: name, Value: value}}, "handset"); provisioning.HasError(fs) {
		d.log.Add(firmware.Warning, "handset change not kept: "+strings.TrimSpace(provisioning.FormatFindings(fs)))
		return
	}
	d.keepUser()
}

// keepUser hands the user's changes to the writer (newest wins) and
// returns their version (0 when nothing is kept).
func (d *Device) keepUser() int64 {
	if d.data == "" {
		return 0
	}
	d.kept.mu.Lock()
	d.kept.gen++
	gen := d.kept.gen
	d.kept.mu.Unlock()
	select {
	case <-d.userSaves:
	default:
	}
	d.userSaves <- userSave{gen: gen, values: d.store.User()}
	return gen
}

// restoreUser loads the user's changes kept in the data folder. A file
// that cannot be read is renamed aside, not overwritten, and the phone
// starts without it.
func (d *Device) restoreUser() {
	path := filepath.Join(d.data, userFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	var f *provisioning.File
	if err == nil {
		f, err = provisioning.Parse(data, path)
	}
	if err != nil {
		d.log.Add(firmware.Error, "the user's settings could not be read ("+err.Error()+")"+putAside(path)+"; starting without them")
		return
	}
	m := map[string]string{}
	for _, e := range f.Entries {
		m[e.Name] = e.Value
	}
	for _, fd := range d.store.RestoreUser(m, path) {
		d.log.Add(firmware.Warning, fd.String())
	}
	d.store.Reconcile()
}

// saveUserSettings writes the user's changes atomically: a crash (even
// kill -9) leaves the old file or the new one.
func saveUserSettings(dir string, m map[string]string) error {
	var b bytes.Buffer
	b.WriteString("# The user's setting changes, kept by phonesim. Written whole on each change.\n")
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(&b, "%s: %s\n", name, m[name])
	}
	return writeAtomic(dir, userFile, b.Bytes())
}

// bootFetch fetches the setting server before the phone boots, so it
// boots with what the server gives (registers with it, fires its
// action_setup_url). A server that fails leaves the settings the phone
// has; the phone boots anyway.
func (d *Device) bootFetch(ctx context.Context) {
	s := d.store.Resolve()
	if strings.TrimSpace(s.Get("setting_server")) == "" {
		return
	}
	files, err := server.Fetch(ctx, fetchConfig(s))
	if d.provisioned(files, err) {
		d.phone = firmware.New(d.store.Resolve())
		v := d.phone.View()
		d.view.Store(&v)
		d.settings.Store(d.phone.Settings())
		d.applyMedia()
	}
	d.lastFetch = d.clock()
}

// reprovision starts a fetch of the setting server, unless one is
// under way; the result is applied on the loop.
func (d *Device) reprovision() {
	s := d.store.Resolve()
	if strings.TrimSpace(s.Get("setting_server")) == "" {
		d.log.Add(firmware.Warning, "provisioning: no setting_server is set")
		return
	}
	d.lastFetch = d.clock()
	if !d.provisioning.CompareAndSwap(false, true) {
		d.log.Add(firmware.Info, "provisioning: a fetch is already under way")
		return
	}
	cfg := fetchConfig(s)
	ctx := d.ctx
	go func() {
		defer d.provisioning.Store(false)
		files, err := server.Fetch(ctx, cfg)
		_ = d.do(func() {
			if d.provisioned(files, err) {
				d.apply(false)
				d.keepUser() // the fetch may have overwritten user changes
			}
		})
	}()
}

// provisioned applies a fetch's result to the store and logs it; it
// reports whether the settings changed.
func (d *Device) provisioned(files []*provisioning.File, err error) bool {
	if err != nil {
		d.log.Add(firmware.Error, "provisioning failed, the settings in force stay: "+err.Error())
		return false
	}
	held := 0
	for _, f := range files {
		held += len(f.Entries) + len(f.Contacts)
	}
	if held == 0 {
		// an empty answer would wipe what the server gave before
		d.log.Add(firmware.Error, "provisioning failed, the settings in force stay: the setting server's files hold no settings")
		return false
	}
	fs := d.store.SetServer(files)
	for _, f := range fs {
		level := firmware.Warning
		if f.Severity == provisioning.Error {
			level = firmware.Error
		}
		d.log.Add(level, "provisioning: "+f.String())
	}
	if provisioning.HasError(fs) {
		d.log.Add(firmware.Error, "provisioning refused: nothing of it applied, the settings in force stay")
		return false
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name
	}
	d.log.Add(firmware.Info, "provisioned from "+strings.Join(names, ", "))
	return true
}

// provisionDue fetches again when provisioning_interval minutes have
// passed since the last fetch.
func (d *Device) provisionDue(now time.Time) {
	if d.lastFetch.IsZero() {
		d.lastFetch = now
		return
	}
	s := d.settings.Load()
	minutes := s.Int("provisioning_interval", 0)
	if minutes <= 0 || strings.TrimSpace(s.Get("setting_server")) == "" ||
		now.Sub(d.lastFetch) < time.Duration(minutes)*time.Minute {
		return
	}
	d.lastFetch = now
	d.reprovision()
}

func fetchConfig(s *provisioning.Settings) server.Config {
	return server.Config{
		URL:       strings.TrimSpace(s.Get("setting_server")),
		MAC:       s.Get("mac"),
		PhoneType: s.Get("phone_type"),
		User:      s.Get("setting_server_user"),
		Pass:      s.Get("setting_server_pass"),
	}
}

// Setting returns one setting in force, without copying them all (the
// web interface reads its credentials on every request).
func (d *Device) Setting(name string) string { return d.settings.Load().Get(name) }
