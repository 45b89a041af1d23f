package provisioning

import (
	"fmt"
	"strings"
)

// Store holds the settings of every source, each apart, and resolves
// them in order: built-in defaults < --config files in order < setting
// server < --set < user changes the perm allows. --set is the last
// provisioning source: it wins over files and server, and like them it
// overwrites a user change when it gives the setting (at boot), unless
// the perm is "!"; the user may change its values at run time unless it
// gives them read-only (-s 'name&=value'). A source is applied whole or
// not at all: one bad value refuses it, and the settings in force stay
// as they were.
//
// Store does no I/O and is not safe for concurrent use: the phone's loop
// owns it.
type Store struct {
	files  []*File
	server []*File
	user   map[string]string
	cmd    []Entry
}

// NewStore returns a store that holds only defaults.
func NewStore() *Store { return &Store{user: map[string]string{}} }

// AddFile adds a --config file above the files added before it. Its
// findings are returned; with an error among them the file is not added.
// Like any provisioning, it overwrites the user's changes of the settings
// it gives, unless their perm is "!".
func (st *Store) AddFile(f *File) []Finding {
	fs := Check(f)
	if HasError(fs) {
		return fs
	}
	st.files = append(st.files, f)
	st.reconcile([]*File{f})
	return fs
}

// SetServer replaces what the setting server gave with files (one
// fetch: the first file and the files it chains, in order). With an
// error in any of them nothing changes.
func (st *Store) SetServer(files []*File) []Finding {
	var fs []Finding
	for _, f := range files {
		fs = append(fs, Check(f)...)
	}
	if HasError(fs) {
		return fs
	}
	st.server = files
	st.reconcile(files)
	return fs
}

// SetCommandLine sets the --set layer. With an error nothing changes.
func (st *Store) SetCommandLine(entries []Entry) []Finding {
	var fs []Finding
	for _, e := range entries {
		if fd, bad := CheckValue(e.Name, e.Value); bad {
			fd.Source = "--set"
			fs = append(fs, fd)
		}
	}
	if HasError(fs) {
		return fs
	}
	st.cmd = append([]Entry(nil), entries...)
	st.reconcile([]*File{{Entries: st.cmd}})
	return fs
}

// reconcile drops the user's changes that a provisioning of files
// overwrites: every setting they give whose perm is not "!".
func (st *Store) reconcile(files []*File) {
	for _, f := range files {
		for _, e := range f.Entries {
			if _, ok := st.user[e.Name]; ok && st.provisionedPerm(e.Name) != PermKeep {
				delete(st.user, e.Name)
			}
		}
	}
}

// provisionedPerm is the perm the highest provisioning source gives
// name (PermOverwrite when none gives it).
func (st *Store) provisionedPerm(name string) Perm {
	perm := PermOverwrite
	for _, layer := range [][]*File{st.files, st.server, {{Entries: st.cmd}}} {
		for _, f := range layer {
			for _, e := range f.Entries {
				if e.Name == name {
					perm = e.Perm
				}
			}
		}
	}
	return perm
}

// UserChange is a change the user asks for on the phone.
type UserChange struct {
	Name, Value string
}

// Change applies the user's changes (handset, web form, command.htm,
// /dummy.htm) after checking each against the schema and its perm. With
// any error nothing is applied. source names where the changes came
// from, for the findings.
func (st *Store) Change(changes []UserChange, source string) []Finding {
	var fs []Finding
	for _, c := range changes {
		if err := CheckName(c.Name); err != nil {
			fs = append(fs, Finding{Severity: Error, Source: source, Name: quoteShort(c.Name), Message: "bad setting name"})
			continue
		}
		if fd, bad := CheckValue(c.Name, c.Value); bad {
			fd.Source = source
			fs = append(fs, fd)
			if fd.Severity == Error {
				continue
			}
		}
		if why := st.refuses(c.Name); why != "" {
			fs = append(fs, Finding{Severity: Error, Source: source, Name: c.Name, Message: why})
		}
	}
	if HasError(fs) {
		return fs
	}
	for _, c := range changes {
		st.user[c.Name] = c.Value
	}
	return fs
}

func (st *Store) refuses(name string) string {
	if st.provisionedPerm(name) == PermReadOnly {
		return "read-only (perm \"&\" from " + st.origin(name) + ")"
	}
	return ""
}

func (st *Store) origin(name string) string {
	origin := "provisioning"
	for _, layer := range [][]*File{st.files, st.server, {{Name: "--set", Entries: st.cmd}}} {
		for _, f := range layer {
			for _, e := range f.Entries {
				if e.Name == name {
					origin = f.Name
				}
			}
		}
	}
	return origin
}

// User returns the user's changes in force, to keep across restarts.
func (st *Store) User() map[string]string {
	m := make(map[string]string, len(st.user))
	for k, v := range st.user {
		m[k] = v
	}
	return m
}

// RestoreUser loads the user's changes kept from before a restart. It
// comes before the files are added, so provisioning overwrites what its
// perms say it overwrites. Values the schema refuses are dropped and
// reported.
func (st *Store) RestoreUser(m map[string]string, source string) []Finding {
	var fs []Finding
	for _, name := range sortedNames(m) {
		if fd, bad := CheckValue(name, m[name]); bad {
			fd.Source = source
			fs = append(fs, fd)
			if fd.Severity == Error {
				continue
			}
		}
		st.user[name] = m[name]
	}
	return fs
}

// Reconcile applies the perm rules of every provisioning source to the
// user's changes, as a boot does after RestoreUser.
func (st *Store) Reconcile() {
	st.reconcile(st.files)
	st.reconcile(st.server)
}

// FileOf turns settings into a file named name (a base for a store when
// a caller has only Settings).
func FileOf(name string, s *Settings) *File {
	f := &File{Name: name, Contacts: s.Contacts()}
	for _, n := range sortedNames(s.values) {
		f.Entries = append(f.Entries, Entry{Name: n, Value: s.values[n], Perm: s.meta[n].Perm})
	}
	return f
}

// Resolve returns the settings in force.
func (st *Store) Resolve() *Settings {
	s := New()
	var book []Contact
	for _, layer := range []struct {
		files  []*File
		source Source
	}{{st.files, FromFile}, {st.server, FromServer}} {
		for _, f := range layer.files {
			for _, e := range f.Entries {
				_ = s.SetFrom(e.Name, e.Value, Meta{Perm: e.Perm, Source: layer.source, Origin: f.Name})
			}
			book = mergeBook(book, f.Contacts)
		}
	}
	for _, e := range st.cmd {
		_ = s.SetFrom(e.Name, e.Value, Meta{Perm: e.Perm, Source: FromCommandLine, Origin: "--set"})
	}
	for _, name := range sortedNames(st.user) {
		if st.refuses(name) != "" {
			continue
		}
		_ = s.SetFrom(name, st.user[name], Meta{Perm: s.Perm(name), Source: FromUser, Origin: s.Meta(name).Origin})
	}
	s.book = book
	return s
}

// mergeBook adds contacts to book; a later entry for a number replaces
// an earlier one.
func mergeBook(book, add []Contact) []Contact {
	for _, c := range add {
		replaced := false
		for i := range book {
			if c.Number != "" && book[i].Number == c.Number {
				book[i], replaced = c, true
			}
		}
		if !replaced {
			book = append(book, c)
		}
	}
	return book
}

// FormatFindings writes findings one per line.
func FormatFindings(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintln(&b, f.String())
	}
	return b.String()
}
