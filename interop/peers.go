package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// PeerFile returns the path of a file in the project's peers/ folder
// (kamailio, baresip and sipp configs).
func PeerFile(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(ModuleRoot(t), "peers", filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// render copies the peers/ template src to dst, replacing each @KEY@ by
// vars[KEY]. A placeholder left over fails the test.
func render(t testing.TB, src, dst string, vars map[string]string) {
	t.Helper()
	b, err := os.ReadFile(PeerFile(t, src))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for k, v := range vars {
		s = strings.ReplaceAll(s, "@"+k+"@", v)
	}
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "@"); i >= 0 && !strings.HasPrefix(strings.TrimSpace(line), "#") {
			if j := strings.Index(line[i+1:], "@"); j > 0 && isPlaceholder(line[i+1:i+1+j]) {
				t.Fatalf("%s: placeholder @%s@ not filled in", src, line[i+1:i+1+j])
			}
		}
	}
	if err := os.WriteFile(dst, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func isPlaceholder(s string) bool {
	for _, r := range s {
		if (r < 'A' || r > 'Z') && r != '_' {
			return false
		}
	}
	return s != ""
}

// copyDir copies the regular files of the peers/ folder src into dst.
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	dir := PeerFile(t, src)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// peerDir makes a fresh folder for one peer inside the test's temporary
// directory.
func peerDir(t testing.TB, name string) string {
	t.Helper()
	d, err := os.MkdirTemp(t.TempDir(), name+"-")
	if err != nil {
		t.Fatal(err)
	}
	return d
}
