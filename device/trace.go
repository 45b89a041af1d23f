package device

import (
	"phonesim/trace"
	"phonesim/webui"
)

// SIPCalls is the last calls' SIP messages, for /ladder.htm (webui.Ladder).
func (d *Device) SIPCalls() []trace.Call { return d.ua.Recorder().Calls() }

var _ webui.Ladder = (*Device)(nil)
