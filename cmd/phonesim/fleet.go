package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"phonesim/fleet"
	"phonesim/provisioning"
)

// fleetCommand is "phonesim fleet" (docs/fleet.md): many phones in one
// process, or "phonesim fleet report FILES…".
func fleetCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "report" {
		return fleetReport(args[1:], stdout, stderr)
	}
	cfg, closeFn, err := parseFleetFlags(args, stderr)
	if err != nil {
		return err
	}
	defer closeFn()
	if cfg.HTTP != "" && cfg.HTTP != "off" {
		cfg.Ready = func(addr string) { fmt.Fprintf(stderr, "fleet web interface on http://%s/\n", addr) }
	}
	return fleet.Run(ctx, *cfg)
}

func usageErr(stderr io.Writer, format string, a ...any) error {
	fmt.Fprintf(stderr, "phonesim fleet: "+format+"\nRun 'phonesim fleet --help' for the flags.\n", a...)
	return errUsage
}

// parseFleetFlags reads the fleet's flags; the func it returns closes the
// results file.
func parseFleetFlags(args []string, stderr io.Writer) (*fleet.Config, func(), error) {
	fs := pflag.NewFlagSet("phonesim fleet", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.IntP("phones", "n", 10, "how many phones (`N`, the whole fleet across shards)")
	firstUser := fs.Int("first-user", 1000, "user_name1 of phone 0 (`NUM`); phone i gets NUM+i")
	firstMAC := fs.String("first-mac", "000413000000", "`MAC` of phone 0; phone i gets MAC+i")
	configs := fs.StringArrayP("config", "c", nil, "setting `FILE` for every phone; {user} and {mac} in a value are the phone's own")
	sets := fs.StringArrayP("set", "s", nil, "one setting `NAME=VALUE` for every phone; {user} and {mac} are replaced")
	ramp := fs.Float64("ramp", 50, "phones started (and registering) per second (`R`; 0: all at once)")
	scenario := fs.String("scenario", "", "scenario `FILE` (docs/fleet.md); none: the phones idle")
	duration := fs.Duration("duration", 0, "stop after `D` (default: until interrupted)")
	results := fs.String("results", "", "write a JSON line per call and a summary per second to `FILE`")
	shard := fs.String("shard", "0/1", "run shard `I/N` (users and MACs partitioned)")
	sip := fs.String("sip", "127.0.0.1:0", "the phones' one shared SIP port (`ADDR`; port 0: a free one)")
	http := fs.String("http", "off", "web interface `ADDR` listing the phones (/api/state); \"off\" disables")
	quiet := fs.Bool("quiet", false, "no progress line on stderr")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to `FILE` (go tool pprof)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: phonesim fleet [flags]\n       phonesim fleet report FILES… [--plot FILE.svg] [--csv FILE]\n\nMany phones in one process (docs/fleet.md). Flags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil, nil, err
		}
		return nil, nil, usageErr(stderr, "%v", err)
	}
	if fs.NArg() > 0 {
		return nil, nil, usageErr(stderr, "unexpected argument %q", fs.Arg(0))
	}
	if *n < 1 {
		return nil, nil, usageErr(stderr, "-n %d: at least 1", *n)
	}
	si, sn, err := parseShard(*shard)
	if err != nil {
		return nil, nil, usageErr(stderr, "--shard %q: %v", *shard, err)
	}
	if _, err := fleet.ParseMAC(*firstMAC); err != nil {
		return nil, nil, usageErr(stderr, "--first-mac: %v", err)
	}
	if _, _, err := net.SplitHostPort(*sip); err != nil {
		return nil, nil, usageErr(stderr, "--sip %q: want HOST:PORT", *sip)
	}
	cfg := &fleet.Config{N: *n, FirstUser: *firstUser, FirstMAC: *firstMAC, Shard: si, Shards: sn,
		Ramp: *ramp, Duration: *duration, HTTP: *http, SIP: *sip}
	for _, a := range *sets {
		e, err := provisioning.ParseAssignment(a)
		if err != nil {
			return nil, nil, fmt.Errorf("--set: %w", err)
		}
		if e.Name == "user_host1" && e.Value != "" {
			cfg.Registrar = true
		}
		cfg.Settings = append(cfg.Settings, e)
	}
	for _, path := range *configs {
		f, err := readConfig(path)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range f.Entries {
			if e.Name == "user_host1" && e.Value != "" {
				cfg.Registrar = true
			}
		}
		cfg.Files = append(cfg.Files, f)
	}
	if *scenario != "" {
		fh, err := os.Open(*scenario)
		if err != nil {
			return nil, nil, fmt.Errorf("--scenario: %w", err)
		}
		sc, err := fleet.ParseScenario(fh, *scenario)
		fh.Close()
		if err != nil {
			return nil, nil, err
		}
		cfg.Scenario = sc
	}
	if !*quiet {
		cfg.Progress = stderr
	}
	closeFn := func() {}
	if *results != "" {
		fh, err := os.Create(*results)
		if err != nil {
			return nil, nil, fmt.Errorf("--results: %w", err)
		}
		cfg.Results = fh
		closeFn = func() { fh.Close() }
	}
	if *cpuProfile != "" {
		fh, err := os.Create(*cpuProfile)
		if err == nil {
			if err = pprof.StartCPUProfile(fh); err != nil {
				fh.Close()
			}
		}
		if err != nil {
			closeFn()
			return nil, nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		closeResults := closeFn
		closeFn = func() {
			pprof.StopCPUProfile()
			fh.Close()
			closeResults()
		}
	}
	return cfg, closeFn, nil
}

// parseShard reads "I/N".
func parseShard(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, errors.New("want I/N with 0 <= I < N")
	}
	return i, n, nil
}

// fleetReport merges result files into one table, and writes the plot
// and the CSV when asked.
func fleetReport(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("phonesim fleet report", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	plot := fs.String("plot", "", "write an SVG plot to `FILE` (calls per second, failures, setup time)")
	csvOut := fs.String("csv", "", "write the calls as CSV to `FILE`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usageErr(stderr, "%v", err)
	}
	if fs.NArg() == 0 {
		return usageErr(stderr, "report: name the results files")
	}
	r, err := fleet.ReadFiles(fs.Args())
	if err != nil {
		return err
	}
	if err := fleet.WriteTable(stdout, r.Table()); err != nil {
		return err
	}
	write := func(path string, f func(io.Writer) error) error {
		fh, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := f(fh); err != nil {
			fh.Close()
			return err
		}
		return fh.Close()
	}
	if *plot != "" {
		if err := write(*plot, func(w io.Writer) error { return fleet.WritePlot(w, r.Buckets()) }); err != nil {
			return fmt.Errorf("--plot: %w", err)
		}
	}
	if *csvOut != "" {
		if err := write(*csvOut, r.WriteCSV); err != nil {
			return fmt.Errorf("--csv: %w", err)
		}
	}
	return nil
}
