package firmware

import (
	"fmt"
	"testing"

	"phonesim/provisioning"
)

// runs steps a phone through one call and returns the client actions
// that ran, by trigger.
func actionRuns(t *testing.T, settings map[string]string, dir Direction) []string {
	t.Helper()
	s := provisioning.New()
	for k, v := range settings {
		if err := s.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	p := New(s)
	var runs []string
	step := func(ev Event) {
		for _, e := range p.Step(ev) {
			switch e := e.(type) {
			case RunApp:
				runs = append(runs, e.Trigger)
			case FetchURL:
				if e.Event == "client_action_1" {
					runs = append(runs, "url")
				}
			}
		}
	}
	step(NetworkUp{IP: "192.0.2.10", Port: 5060})
	step(PoweredOn{})
	if dir == Incoming {
		step(CallOffered{Call: "c1", From: Party{URI: "sip:201@pbx"}})
		step(KeyPressed{Key: "ENTER"})
		step(CallEnded{Call: "c1"})
	} else {
		step(NumberDialed{Number: "201"})
		step(CallProgressed{Call: "out-1", Status: 180})
		step(CallAnswered{Call: "out-1"})
		step(CallEnded{Call: "out-1"})
	}
	return runs
}

// Every trigger with every direction, on an incoming and an outgoing call.
func TestClientActionTriggers(t *testing.T) {
	for _, trigger := range []string{TriggerRinging, TriggerAccepted, TriggerHangup, TriggerManual} {
		for _, direction := range []string{"incoming", "outgoing", "both"} {
			for _, dir := range []Direction{Incoming, Outgoing} {
				name := fmt.Sprintf("%s/%s/%s-call", trigger, direction, dir)
				t.Run(name, func(t *testing.T) {
					runs := actionRuns(t, map[string]string{
						"client_action_name1": "A", "client_action_type1": "app", "client_action_target1": "/bin/true ${number}",
						"client_action_trigger1": trigger, "client_action_direction1": direction,
					}, dir)
					want := 0
					if trigger != TriggerManual && (direction == "both" || direction == dir.String()) {
						want = 1
					}
					if len(runs) != want || want == 1 && runs[0] != trigger {
						t.Errorf("ran %v, want %d run(s) on %s", runs, want, trigger)
					}
				})
			}
		}
	}
}

// How calls are classified for client_action_calltype.
func TestCallType(t *testing.T) {
	for _, tc := range []struct {
		uri     string
		headers map[string]string
		length  string
		want    string
	}{
		{"sip:201@pbx", nil, "", "internal"},
		{"sip:2011@pbx", nil, "", "internal"},
		{"sip:20111@pbx", nil, "", "external"},
		{"sip:20111@pbx", nil, "5", "internal"},
		{"sip:+4930123456@pbx", nil, "", "external"},
		{"sip:0301234567@pbx;user=phone", nil, "", "external"},
		{"sip:alice@pbx", nil, "", "internal"},
		{"sip:201@pbx", map[string]string{"X-Queue": "support"}, "", "queue"},
		{"sip:+4930123456@pbx", map[string]string{"x-queue": "sales"}, "", "queue"},
		{"sip:201@pbx", map[string]string{"X-Queue": ""}, "", "internal"},
	} {
		s := provisioning.New()
		if tc.length != "" {
			_ = s.Set("client_action_internal_length", tc.length)
		}
		p := New(s)
		got := p.callType(&call{remote: Party{URI: tc.uri}, headers: tc.headers})
		if got != tc.want {
			t.Errorf("%s %v (length %q): %s, want %s", tc.uri, tc.headers, tc.length, got, tc.want)
		}
	}
}
