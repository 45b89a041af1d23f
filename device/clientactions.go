package device

import (
	"time"

	"phonesim/actionurl/dispatch"
	"phonesim/firmware"
	"phonesim/webui"
)

// runApp runs a client action's program, off the loop: it never waits
// for the program.
func (d *Device) runApp(e firmware.RunApp) {
	timeout := time.Duration(d.phone.Settings().Int("client_action_timeout", 30)) * time.Second
	d.publish(webui.Notice{Kind: "client_action", Data: map[string]any{
		"action": e.Action, "name": e.Name, "trigger": e.Trigger, "type": "app", "program": e.Argv[0], "state": "started",
	}})
	d.apps.Run(d.ctx, e, timeout)
}

// appDone publishes a program's outcome on /api/events.
func (d *Device) appDone(r dispatch.AppResult) {
	d.publish(webui.Notice{Kind: "client_action", Data: map[string]any{
		"action": r.Action, "name": r.Name, "trigger": r.Trigger, "type": "app", "program": r.Program, "state": "ended",
		"exit": r.Exit, "error": r.Err, "duration_ms": r.Duration.Milliseconds(), "output": r.Output, "output_bytes": r.Bytes,
	}})
}
