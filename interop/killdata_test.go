//go:build interop

package interop

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"phonesim/provisioning"
)

// kill -9 at any moment of a web-form change leaves the data folder whole:
// settings.cfg parses and holds the value acknowledged last or the one in
// flight, never half of one; the phone starts again from it. 200 changes,
// the process killed in the middle of every tenth.
func TestKillDuringSettingChanges(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	client := &http.Client{Timeout: 2 * time.Second}
	acked := "" // the value the phone answered 200 for last

	const lives, changes = 20, 10
	for life := 0; life < lives; life++ {
		p := StartPhone(t, "--data", data, "--no-echo", "-s", "user_name1=100")
		if got := p.State().Raw["identities"].([]any)[0].(map[string]any)["display"]; acked != "" && got != acked {
			t.Fatalf("life %d: the phone came back with user_realname1 %q, want %q", life, got, acked)
		}
		for i := 0; i < changes; i++ {
			value := fmt.Sprintf("round-%d-%d-%s", life, i, strings.Repeat("x", rng.IntN(200)))
			url := p.URL + "/dummy.htm?settings=save&user_realname1=" + value
			last := i == changes-1
			if last {
				// kill -9 while this change is in flight
				go func(delay time.Duration) {
					time.Sleep(delay)
					_ = syscall.Kill(p.Pid(), syscall.SIGKILL)
				}(time.Duration(rng.IntN(3000)) * time.Microsecond)
			}
			resp, err := client.Get(url)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					acked = value
				}
			} else if !last {
				t.Fatalf("change %d/%d: %v", life, i, err)
			}
			if last {
				p.Stop()
				kept := readKept(t, data)
				if kept != acked && kept != value {
					t.Fatalf("life %d: settings.cfg holds %q; want the acknowledged %q or the in-flight %q", life, kept, acked, value)
				}
				acked = kept // what the next life must show
			}
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(data, "*.tmp-*"))
	if len(leftovers) > 1 {
		t.Errorf("temp files pile up across kills: %v", leftovers)
	}
}

// readKept parses settings.cfg as the phone does and returns
// user_realname1.
func readKept(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "settings.cfg"))
	if os.IsNotExist(err) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	f, err := provisioning.Parse(data, "settings.cfg")
	if err != nil {
		t.Fatalf("settings.cfg is damaged after kill -9: %v\n%s", err, data)
	}
	value := ""
	for _, e := range f.Entries {
		if e.Name == "user_realname1" {
			value = e.Value
		}
	}
	return value
}
