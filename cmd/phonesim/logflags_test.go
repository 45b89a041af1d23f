package main

import (
	"io"
	"strings"
	"testing"

	"phonesim/firmware"
	"phonesim/phonelog"
)

func TestLogFlags(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		level  firmware.Level
		format phonelog.Format
	}{
		{nil, firmware.Info, phonelog.Digits},
		{[]string{"--log-level", "debug", "--log-format", "words"}, firmware.Debug, phonelog.Words},
		{[]string{"--log-level", "4", "--log-format", "digits"}, firmware.Warning, phonelog.Digits},
		{[]string{"--log-level", "9"}, firmware.Debug, phonelog.Digits},
	} {
		o, err := parseFlags(tc.args, io.Discard)
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if o.level != tc.level || o.format != tc.format {
			t.Errorf("%v: level %v format %v, want %v %v", tc.args, o.level, o.format, tc.level, tc.format)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--log-format", "numbers"}, `--log-format "numbers": want digits or words`},
		{[]string{"--log-level", "loud"}, `--log-level "loud": want debug, info, notice, warning, error or a digit 0-9`},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}
