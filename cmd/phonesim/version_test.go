package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionOf(t *testing.T) {
	set := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, tc := range []struct {
		name    string
		stamped string
		bi      debug.BuildInfo
		want    string
	}{
		{"stamped", "v1.2.0", debug.BuildInfo{GoVersion: "go1.26.8", Settings: set("GOOS", "linux", "GOARCH", "arm", "GOARM", "7")},
			"v1.2.0 (linux/armv7, go1.26.8)"},
		{"module version from the VCS", "dev", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20251130143000-82c642a1b2c3+dirty"},
			Settings: set("GOOS", "linux", "GOARCH", "arm64")}, "v0.0.0-20251130143000-82c642a1b2c3+dirty (linux/arm64, go1.26.8)"},
		{"commit only", "dev", debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: set("vcs.revision", "82c642a1b2c3d4e5f6", "vcs.modified", "true", "vcs.time", "2025-11-30T14:30:00Z")},
			"dev-82c642a1b2c3+dirty 2025-11-30T14:30:00Z"},
		{"nothing recorded", "dev", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
	} {
		if got := versionOf(tc.stamped, &tc.bi); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	// This test binary has build info of its own: never just "dev".
	if v := buildVersion(); v == "" || v == "dev" || !strings.Contains(v, "go1") {
		t.Errorf("buildVersion() = %q", v)
	}
}
