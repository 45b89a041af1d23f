package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	xterm "golang.org/x/term"

	"phonesim/hw/board"
	"phonesim/hw/evdev"
	"phonesim/hwtest"
	"phonesim/keypad"
)

// errHardware makes `phonesim hwtest` exit 1: a part that is there failed.
var errHardware = fmt.Errorf("hardware self-test failed: %w", errFindings)

// hwtestStdin is where a person's answers come from (a test replaces it).
var hwtestStdin io.Reader = os.Stdin

// hwtestCommand is the hardware self-test: the hwtest suites on the
// board's display, keys, LEDs and audio. Absent parts are reported apart
// and are no failure; exit 0 only when every present part passes.
func hwtestCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		bo           board.Options
		auto         bool
		jsonOut      bool
		wait         time.Duration
		keyList      string
		parts        string
		makeStandIns bool
	)
	fs := pflag.NewFlagSet("phonesim hwtest", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.BoolVar(&auto, "auto", false, "scripted checks only: ask nobody (the default when stdin is not a terminal)")
	fs.BoolVar(&jsonOut, "json", false, "write the report as JSON on stdout, for a factory script")
	bo.AddFlags(fs, "generic")
	fs.DurationVar(&wait, "wait", 15*time.Second, "how long to wait for each key a person is asked to press")
	fs.StringVar(&keyList, "keys", "", "the keys a person is asked to press, `K1;K2;...` (default: 0-9 * # ENTER CANCEL)")
	fs.StringVar(&parts, "only", "", "check only these `PARTS` (display,keys,leds,audio)")
	fs.BoolVar(&makeStandIns, "make-standins", false, "first create stand-in devices in --root (fb0, event0 with a recorded key session, leds/), as CI does for the qemu board")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: phonesim hwtest [--auto] [--json] [--board NAME] [device flags]\n\n"+
			"Checks the board's display, keys, LEDs and audio; parts that are not fitted\n"+
			"are reported absent, which is no failure. Exit status 0 when every part that is\n"+
			"there passes, 1 when one fails, 2 for a usage error. See docs/boards.md. Flags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		fmt.Fprintf(stderr, "phonesim hwtest: %v\nRun 'phonesim hwtest --help' for the flags.\n", err)
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "phonesim hwtest: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	usage := func(format string, a ...any) error {
		fmt.Fprintf(stderr, "phonesim hwtest: "+format+"\n", a...)
		return errUsage
	}
	opt := hwtest.Options{}
	opt.Keypad.Wait = wait
	if keyList != "" {
		keys, err := keypad.ParseList(keyList)
		if err != nil {
			return usage("--keys: %v", err)
		}
		opt.Keypad.Keys = keys
	}
	if parts != "" {
		for _, p := range strings.Split(parts, ",") {
			p = strings.TrimSpace(p)
			switch p {
			case "display", "keys", "leds", "audio":
				opt.Parts = append(opt.Parts, p)
			default:
				return usage("--only: no part %q (display, keys, leds, audio)", p)
			}
		}
	}
	if makeStandIns {
		root := bo.Root
		if root == "" {
			root = os.Getenv(board.RootEnv)
		}
		if root == "" {
			return usage("--make-standins needs --root DIR")
		}
		if err := board.MakeStandIns(root, evdev.WordSize); err != nil {
			return fmt.Errorf("hwtest: %w", err)
		}
	}
	profile, err := bo.Profile()
	if err != nil {
		return usage("%v", err)
	}
	b, err := board.Open(profile)
	if err != nil {
		return usage("%v", err)
	}
	defer b.Close()

	var person hwtest.Person
	if !auto {
		if f, ok := hwtestStdin.(*os.File); ok && !xterm.IsTerminal(int(f.Fd())) {
			fmt.Fprintln(stderr, "phonesim hwtest: stdin is not a terminal: scripted checks only (--auto)")
		} else {
			person = &console{in: bufio.NewReader(hwtestStdin), out: stderr}
		}
	}
	done := make(chan *hwtest.Report, 1)
	go func() { done <- hwtest.Run(b, person, opt) }()
	var r *hwtest.Report
	select {
	case r = <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if jsonOut {
		err = r.WriteJSON(stdout)
	} else {
		err = r.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	if !r.OK {
		return errHardware
	}
	return nil
}

// console is the person at the handset: questions on stderr, answers
// (y/n) from stdin.
type console struct {
	in  *bufio.Reader
	out io.Writer
}

func (c *console) Tell(msg string) { fmt.Fprintln(c.out, "»", msg) }

func (c *console) Ask(q string) (bool, error) {
	for {
		fmt.Fprintf(c.out, "? %s [y/n] ", q)
		line, err := c.in.ReadString('\n')
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "y", "yes", "j", "ja":
			return true, nil
		case "n", "no", "nein":
			return false, nil
		}
		if err != nil {
			fmt.Fprintln(c.out)
			return false, err
		}
	}
}
