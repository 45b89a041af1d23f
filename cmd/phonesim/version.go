package main

import (
	"runtime/debug"
	"strings"
)

// buildVersion is the version --version prints: the one stamped with
// -ldflags "-X main.version=..." when there is one, else what the Go
// toolchain recorded in the binary (the module version it derives from
// the VCS, or the commit and whether the tree was modified), and the
// platform it was built for, so a board's binary always says what it is.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	return versionOf(version, bi)
}

func versionOf(stamped string, bi *debug.BuildInfo) string {
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	v := stamped
	if v == "" || v == "dev" {
		switch mv := bi.Main.Version; {
		case mv != "" && mv != "(devel)":
			v = mv
		case settings["vcs.revision"] != "":
			rev := settings["vcs.revision"]
			v = "dev-" + rev[:min(12, len(rev))]
			if settings["vcs.modified"] == "true" {
				v += "+dirty"
			}
			if t := settings["vcs.time"]; t != "" {
				v += " " + t
			}
		default:
			v = "dev"
		}
	}
	platform := settings["GOOS"] + "/" + settings["GOARCH"]
	if arm := settings["GOARM"]; arm != "" && settings["GOARCH"] == "arm" {
		platform += "v" + strings.TrimSuffix(arm, ",softfloat")
	}
	extra := []string{}
	if platform != "/" {
		extra = append(extra, platform)
	}
	if bi.GoVersion != "" {
		extra = append(extra, bi.GoVersion)
	}
	if len(extra) > 0 {
		v += " (" + strings.Join(extra, ", ") + ")"
	}
	return v
}
