package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"phonesim/provisioning"
)

// errFindings makes `phonesim check` exit 1 after printing its findings.
var errFindings = errors.New("settings have errors")

// checkCommand validates setting files and --set values the way the phone
// reads them and prints every finding, so a file can be checked before it
// is deployed. It reads nothing from the network: the files a file
// includes (<setting-files>) are listed, not fetched.
func checkCommand(args []string, stdout, stderr io.Writer) error {
	var configs, sets []string
	var expansion int
	fs := pflag.NewFlagSet("phonesim check", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringArrayVarP(&configs, "config", "c", nil, "setting `FILE` to check (snom XML or flat); repeatable")
	fs.StringArrayVarP(&sets, "set", "s", nil, "one setting `NAME=VALUE` to check; repeatable")
	fs.IntVar(&expansion, "expansion", -1, "expansion modules the phone will have (`N`; default: as the settings say)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: phonesim check [-c FILE ...] [-s NAME=VALUE ...]\n\n"+
			"Checks settings as the phone reads them and prints every finding;\n"+
			"exit status 1 when any is an error, 0 otherwise. Flags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		fmt.Fprintf(stderr, "phonesim check: %v\n", err)
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "phonesim check: unexpected argument %q (files go after -c)\n", fs.Arg(0))
		return errUsage
	}
	if len(configs) == 0 && len(sets) == 0 {
		fmt.Fprintln(stderr, "phonesim check: nothing to check: give -c FILE or -s NAME=VALUE")
		return errUsage
	}

	var findings []provisioning.Finding
	st := provisioning.NewStore()
	var parsed []*provisioning.File
	settings, files := 0, 0
	for _, path := range configs {
		f, err := readConfig(path)
		if err != nil {
			findings = append(findings, provisioning.Finding{Severity: provisioning.Error, Source: path, Line: lineOf(err), Message: messageOf(err)})
			continue
		}
		files++
		parsed = append(parsed, f)
		settings += len(f.Entries)
		findings = append(findings, st.AddFile(f)...)
		for _, inc := range f.Includes {
			findings = append(findings, provisioning.Finding{Severity: provisioning.Warning, Source: path, Line: inc.Line,
				Message: "includes " + inc.URL + " (not fetched by check: check that file too)"})
		}
	}
	var good []provisioning.Entry // each --set checked on its own, so one bad value hides no other
	for _, a := range sets {
		e, err := provisioning.ParseAssignment(a)
		if err != nil {
			findings = append(findings, provisioning.Finding{Severity: provisioning.Error, Source: "--set", Message: err.Error()})
			continue
		}
		settings++
		fd, bad := provisioning.CheckValue(e.Name, e.Value)
		if bad {
			fd.Source = "--set"
			findings = append(findings, fd)
		}
		if !bad || fd.Severity != provisioning.Error {
			good = append(good, e)
		}
	}
	st.SetCommandLine(good)
	if expansion < 0 {
		expansion = st.Resolve().Int("expansion_modules", 0)
	}
	for _, f := range parsed {
		findings = append(findings, provisioning.CheckKeys(f, expansion)...)
	}

	errs, warns := 0, 0
	for _, f := range findings {
		fmt.Fprintln(stdout, f.String())
		if f.Severity == provisioning.Error {
			errs++
		} else {
			warns++
		}
	}
	fmt.Fprintf(stdout, "%s: %d settings in %d files and %d --set: %d errors, %d warnings\n",
		verdict(errs), settings, files, len(sets), errs, warns)
	if errs > 0 {
		return errFindings
	}
	return nil
}

func verdict(errs int) string {
	if errs > 0 {
		return "FAIL"
	}
	return "ok"
}

func lineOf(err error) int {
	var se *provisioning.SettingError
	if errors.As(err, &se) {
		return se.Line
	}
	return 0
}

// messageOf is a parse error without the file and line the finding
// prints itself.
func messageOf(err error) string {
	var se *provisioning.SettingError
	if errors.As(err, &se) {
		if se.Name != "" {
			return se.Name + ": " + se.Err.Error()
		}
		return se.Err.Error()
	}
	return err.Error()
}
