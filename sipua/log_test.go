package sipua

import (
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"

	"phonesim/firmware"
)

// costly counts how often a log attribute is formatted.
type costly struct{ n *atomic.Int32 }

func (c costly) LogValue() slog.Value {
	c.n.Add(1)
	return slog.StringValue("formatted")
}

// TestSipgoRecordsOnlyAtDebug: sipgo's debug, info and warning records
// are firmware.Debug lines, made only when the log is at debug; above it
// nothing of them is formatted. Its errors are warnings either way.
func TestSipgoRecordsOnlyAtDebug(t *testing.T) {
	for _, tc := range []struct {
		min       firmware.Level
		want      []string
		formatted int32
	}{
		{firmware.Debug, []string{"DEBUG sipgo: d k=formatted", "DEBUG sipgo: i k=formatted", "DEBUG sipgo: w k=formatted", "WARNING sipgo: e k=formatted"}, 4},
		{firmware.Info, []string{"WARNING sipgo: e k=formatted"}, 1},
	} {
		t.Run(tc.min.String(), func(t *testing.T) {
			var lines []string
			var formatted atomic.Int32
			u, err := New(Config{
				Logf: func(l firmware.Level, f string, a ...any) {
					lines = append(lines, l.String()+" "+fmt.Sprintf(f, a...))
				},
				LogEnabled: func(l firmware.Level) bool { return l >= tc.min },
			}, make(chan firmware.Event, 1))
			if err != nil {
				t.Fatal(err)
			}
			logger := slog.New(logHandler{u: u})
			logger.Debug("d", "k", costly{&formatted})
			logger.Info("i", "k", costly{&formatted})
			logger.Warn("w", "k", costly{&formatted})
			logger.Error("e", "k", costly{&formatted})
			if !slices.Equal(lines, tc.want) {
				t.Errorf("lines %q, want %q", lines, tc.want)
			}
			if n := formatted.Load(); n != tc.formatted {
				t.Errorf("attributes formatted %d times, want %d", n, tc.formatted)
			}
		})
	}
}
