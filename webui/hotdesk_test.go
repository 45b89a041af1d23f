package webui

import (
	"testing"

	"phonesim/firmware"
)

func TestHotdeskCommand(t *testing.T) {
	evs, err := parseCommand("logon=201&pass=s%26cret&host=pbx.example.com&identity=2")
	if err != nil || len(evs) != 1 {
		t.Fatalf("logon: %v %v", evs, err)
	}
	if got, want := evs[0], (firmware.LogOnRequested{Identity: 2, User: "201", Password: "s&cret", Host: "pbx.example.com"}); got != want {
		t.Fatalf("logon: got %#v want %#v", got, want)
	}
	for q, want := range map[string]firmware.Event{
		"logoff=all": firmware.LogOffRequested{},
		"logoff=3":   firmware.LogOffRequested{Identity: 3},
	} {
		evs, err := parseCommand(q)
		if err != nil || len(evs) != 1 || evs[0] != want {
			t.Errorf("%s: got %v %v", q, evs, err)
		}
	}
	for _, bad := range []string{"logon=", "logon=201&identity=13", "logoff=x", "logoff=99"} {
		if _, err := parseCommand(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	if _, err := parseCommand("key=OFFHOOK"); err != nil {
		t.Errorf("key=OFFHOOK: %v", err)
	}
}
