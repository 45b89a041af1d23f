package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"phonesim/firmware"
	"phonesim/hw/board"
	"phonesim/phonelog"
	"phonesim/provisioning"
)

type options struct {
	configs   []string
	sets      []string
	headless  bool
	sip       string
	http      string
	mac       string
	model     string
	expansion int
	data      string
	echo      bool
	noEcho    bool
	version   bool
	logLevel  string
	logFormat string
	sipTrace  string        // --sip-trace FILE (trace.go)
	pcap      string        // --pcap FILE (trace.go)
	audioIn   string        // --audio-in FILE.wav: the microphone (sets audio_in_file; checked in phone.go)
	board     board.Options // --board and the board's devices (hw/board)
	// level and format are --log-level and --log-format, parsed
	level  firmware.Level
	format phonelog.Format
	// sipDefault and httpDefault: the address was not given, so a busy
	// default port falls back to a free one instead of failing
	sipDefault, httpDefault bool
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := pflag.NewFlagSet("phonesim", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringArrayVarP(&o.configs, "config", "c", nil, "setting `FILE` (snom XML or flat \"name: value\" form); repeatable, later ones win")
	fs.StringArrayVarP(&o.sets, "set", "s", nil, "one setting, `NAME=VALUE` (user_name1, fkey3, action_incoming_url ...); repeatable; wins over files")
	fs.BoolVar(&o.headless, "headless", false, "no terminal UI; log lines on stderr")
	fs.StringVar(&o.sip, "sip", "127.0.0.1:5060", "SIP listen `ADDR`, UDP and TCP (\":0\" or \"127.0.0.1:0\" = any free port; the chosen one is logged)")
	fs.StringVar(&o.http, "http", "127.0.0.1:8080", "web interface `ADDR` (\"off\" disables)")
	fs.StringVar(&o.mac, "mac", "", "the phone's `MAC` (12 hex digits)")
	fs.StringVar(&o.model, "model", "", "the phone model (`NAME`, sets phone_type; default snomD785)")
	fs.IntVar(&o.expansion, "expansion", 0, "expansion modules attached (`N`, 0-3, 18 keys each)")
	fs.StringVar(&o.data, "data", "", "`DIR` where the user's setting changes and the call lists are kept across restarts (default: nothing is kept)")
	fs.BoolVar(&o.echo, "echo", false, "start the built-in echo phone and put it on a function key (default when no setting is given)")
	fs.BoolVar(&o.noEcho, "no-echo", false, "do not start the built-in echo phone")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.StringVar(&o.logLevel, "log-level", "info", "lowest `LEVEL` written to stderr in headless mode and shown on /log.htm and /log.txt: debug, info, notice, warning, error, or a snom digit 0-9")
	fs.StringVar(&o.logFormat, "log-format", "digits", "how log lines write their level (`FORM`): digits, as snom does (\"[6] ...\"), or words (\"[INFO] ...\")")
	fs.StringVar(&o.sipTrace, "sip-trace", "", "write every SIP message sent and received to `FILE`, as ngrep -qt -W byline prints them (see docs/diagnostics.md)")
	fs.StringVar(&o.pcap, "pcap", "", "write the phone's SIP and RTP to `FILE` as a pcap capture (Wireshark, tshark, sngrep -I)")
	fs.StringVar(&o.audioIn, "audio-in", "", "the microphone: a WAV `FILE` (16-bit PCM, mono, 8 or 16 kHz) sent in a loop in every call (sets audio_in_file; docs/media.md)")
	o.board.AddFlags(fs, "")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: phonesim [flags]\n       phonesim check [-c FILE ...] [-s NAME=VALUE ...]\n       phonesim hwtest [flags]\n       phonesim hooks [--listen ADDR] [--json]\n\nA virtual IP desk phone. Flags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil, err
		}
		fmt.Fprintf(stderr, "phonesim: %v\nRun 'phonesim --help' for the flags.\n", err)
		return nil, errUsage // exit status 2, as for any usage error
	}
	o.sipDefault, o.httpDefault = !fs.Changed("sip"), !fs.Changed("http")
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "phonesim: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return nil, errUsage
	}
	if o.expansion < 0 || o.expansion > 3 {
		return nil, fmt.Errorf("--expansion %d: must be 0 to 3", o.expansion)
	}
	level, err := phonelog.ParseLevel(o.logLevel)
	if err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, notice, warning, error or a digit 0-9", o.logLevel)
	}
	format, err := phonelog.ParseFormat(o.logFormat)
	if err != nil {
		return nil, fmt.Errorf("--log-format %q: want digits or words", o.logFormat)
	}
	o.level, o.format = level, format
	if o.mac != "" && !isMAC(o.mac) {
		return nil, fmt.Errorf("--mac %q: need 12 hex digits", o.mac)
	}
	return o, nil
}

// isMAC reports whether s is 12 hex digits (a loop, not a regexp: a
// compiled pattern would be built at start-up by every phone).
func isMAC(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// store builds the settings' sources: base (the echo phone's key, may be
// nil) under the --config files in order, under --set and the flags
// that name settings. Warnings are returned; an error in any source is
// an error that lists every finding, and the phone does not start.
func (o *options) store(base *provisioning.File) (*provisioning.Store, []provisioning.Finding, error) {
	st := provisioning.NewStore()
	var all []provisioning.Finding
	if base != nil {
		all = append(all, st.AddFile(base)...)
	}
	for _, path := range o.configs {
		f, err := readConfig(path)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, st.AddFile(f)...)
	}
	entries, err := o.commandLine()
	if err != nil {
		return nil, nil, err
	}
	all = append(all, st.SetCommandLine(entries)...)
	if provisioning.HasError(all) {
		return nil, all, fmt.Errorf("settings refused:\n%s", strings.TrimRight(provisioning.FormatFindings(all), "\n"))
	}
	return st, all, nil
}

// readConfig reads and parses one --config file (snom XML or flat).
func readConfig(path string) (*provisioning.File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	defer fh.Close()
	data, err := provisioning.ReadFile(fh, path)
	if err != nil {
		return nil, err
	}
	return provisioning.Parse(data, path)
}

// commandLine is the --set layer: each -s, then --mac, --model and
// --expansion.
func (o *options) commandLine() ([]provisioning.Entry, error) {
	var entries []provisioning.Entry
	for _, a := range o.sets {
		e, err := provisioning.ParseAssignment(a)
		if err != nil {
			return nil, fmt.Errorf("--set: %w", err)
		}
		entries = append(entries, e)
	}
	if o.mac != "" {
		entries = append(entries, provisioning.Entry{Name: "mac", Value: strings.ToUpper(o.mac)})
	}
	if o.model != "" {
		entries = append(entries, provisioning.Entry{Name: "phone_type", Value: o.model})
	}
	if o.expansion > 0 {
		entries = append(entries, provisioning.Entry{Name: "expansion_modules", Value: strconv.Itoa(o.expansion)})
	}
	if o.audioIn != "" {
		entries = append(entries, provisioning.Entry{Name: "audio_in_file", Value: o.audioIn})
	}
	return entries, nil
}

// firstRun reports whether the user gave no settings at all: then the
// phone comes with the echo phone on a key.
func (o *options) firstRun() bool { return len(o.configs) == 0 && len(o.sets) == 0 }
