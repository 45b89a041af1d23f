package firmware

import (
	"strconv"
	"strings"
)

// Scenario commands of multicast paging and of the attended transfer's
// wait (testdata/multicast.txt, attended_transfer.txt):
//
//	mcast-start GROUP SOURCE [CODEC]   a stream started (codec PCMU unless given)
//	mcast-stop GROUP                   it stopped
//	page                               the display's page line
//	attended-accepted HELD CONSULT     the transferee accepted our REFER (202)
func init() {
	subscriptionCommands["mcast-start"] = func(_ *runner, args []string) (Event, string) {
		codec := arg(args, 2)
		if len(args) < 3 {
			codec = "PCMU"
		}
		src := arg(args, 1)
		if u, err := strconv.Unquote(`"` + src + `"`); err == nil {
			src = u // lets a scenario write \x1b
		}
		return MulticastStarted{Group: arg(args, 0), Source: src, Codec: codec}, ""
	}
	subscriptionCommands["mcast-stop"] = func(_ *runner, args []string) (Event, string) {
		return MulticastStopped{Group: arg(args, 0)}, ""
	}
	subscriptionCommands["page"] = func(r *runner, _ []string) (Event, string) {
		v := r.p.View()
		return nil, "page=" + strings.TrimSpace(v.Page) + "\n"
	}
	subscriptionCommands["attended-accepted"] = func(_ *runner, args []string) (Event, string) {
		return AttendedTransferAccepted{Call: CallID(arg(args, 0)), Consult: CallID(arg(args, 1))}, ""
	}
}
