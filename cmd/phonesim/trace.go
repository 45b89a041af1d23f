package main

import (
	"errors"
	"fmt"
	"os"

	"phonesim/firmware"
	"phonesim/phonelog"
	"phonesim/trace"
)

// openTrace opens the --sip-trace and --pcap files (created or
// truncated, readable by the user only: SIP carries digest answers and
// phone numbers) and makes the phone's recorder. done stops the
// recorder and closes the files; call it once the phone has stopped.
func openTrace(o *options, log *phonelog.Log) (rec *trace.Recorder, done func(), err error) {
	var files []*os.File
	done = func() {
		if rec != nil {
			rec.Close()
		}
		for _, f := range files {
			if err := f.Close(); err != nil {
				log.Add(firmware.Warning, "trace: "+err.Error())
			}
		}
	}
	open := func(flag, path string) (*os.File, error) {
		if path == "" {
			return nil, nil
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", flag, err)
		}
		files = append(files, f)
		return f, nil
	}
	opt := trace.Options{Logf: func(format string, args ...any) { log.Add(firmware.Warning, fmt.Sprintf(format, args...)) }}
	text, err1 := open("sip-trace", o.sipTrace)
	pcap, err2 := open("pcap", o.pcap)
	if err := errors.Join(err1, err2); err != nil {
		done()
		return nil, nil, err
	}
	if text != nil {
		opt.Text = text
	}
	if pcap != nil {
		opt.Pcap = pcap
	}
	rec, err = trace.NewRecorder(opt)
	if err != nil {
		done()
		return nil, nil, fmt.Errorf("--pcap: %w", err)
	}
	return rec, done, nil
}
