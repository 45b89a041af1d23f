// Command phonesim is a virtual IP desk phone: a snom-like handset in the
// terminal, or headless and driven over HTTP.
//
//	phonesim [flags]          one phone; the handset when stdout is a terminal, else headless
//	phonesim check [flags]    validate setting files and values, print every finding
//	phonesim hwtest [flags]   hardware self-test
//	phonesim hooks [flags]    receive Action URLs and client actions, print each one decoded
//
// See README.md and docs/ for the flags, the web interface and the settings.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, pflag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	case errors.Is(err, errFindings):
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "phonesim:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "hwtest" {
		return hwtestCommand(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "check" {
		return checkCommand(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "fleet" {
		return fleetCommand(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "hooks" {
		return hooksCommand(ctx, args[1:], stdout, stderr)
	}
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if opts.version {
		fmt.Fprintln(stdout, "phonesim", buildVersion())
		return nil
	}
	return runPhone(ctx, opts, stdout, stderr)
}
