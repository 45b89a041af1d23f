package firmware

import (
	"fmt"
	"strconv"
	"strings"
)

// Scenario commands for BLF and MWI (testdata/blf*.txt, mwi*.txt):
//
//	dialog SUB STATE [URI ["DISPLAY"]] [callid=C local-tag=L remote-tag=R target=T]
//	                                     DialogStateChanged (with the ringing dialog's ids)
//	sub-failed SUB STATUS REASON...      SubscriptionFailed
//	mwi IDENTITY yes|no NEW/OLD [(UNEW/UOLD)]  MessageSummary
//	mailboxes                            the View's message summaries
var subscriptionCommands = map[string]func(r *runner, args []string) (Event, string){
	"dialog": func(_ *runner, args []string) (Event, string) {
		var pos []string
		var d DialogIDs
		for _, a := range args {
			k, v, _ := strings.Cut(a, "=")
			switch k {
			case "callid":
				d.CallID = v
			case "local-tag":
				d.LocalTag = v
			case "remote-tag":
				d.RemoteTag = v
			case "target":
				d.Target = v
			default:
				pos = append(pos, a)
			}
		}
		e := DialogStateChanged{Sub: arg(pos, 0), State: arg(pos, 1), Dialog: d}
		e.Remote = Party{URI: arg(pos, 2), Display: arg(pos, 3)}
		return e, ""
	},
	"sub-failed": func(_ *runner, args []string) (Event, string) {
		n, _ := strconv.Atoi(arg(args, 1))
		reason := ""
		if len(args) > 2 {
			reason = strings.Join(args[2:], " ")
		}
		return SubscriptionFailed{Sub: arg(args, 0), Status: n, Reason: reason}, ""
	},
	"mwi": func(_ *runner, args []string) (Event, string) {
		id, _ := strconv.Atoi(arg(args, 0))
		e := MessageSummary{Identity: id, Waiting: arg(args, 1) == "yes"}
		fmt.Sscanf(arg(args, 2), "%d/%d", &e.New, &e.Old)
		fmt.Sscanf(arg(args, 3), "(%d/%d)", &e.UrgentNew, &e.UrgentOld)
		return e, ""
	},
	"mailboxes": func(r *runner, _ []string) (Event, string) {
		var b strings.Builder
		for _, m := range r.p.View().Mailboxes {
			fmt.Fprintf(&b, "mailbox %d waiting=%v new=%d old=%d urgent=%d/%d\n", m.Identity, m.Waiting, m.New, m.Old, m.UrgentNew, m.UrgentOld)
		}
		return nil, b.String()
	},
}

func arg(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}

func formatSubscriptionEffect(e Effect) (string, bool) {
	switch e := e.(type) {
	case Subscribe:
		return fmt.Sprintf("subscribe %s identity %d event %s accept %s target %s", e.ID, e.Identity, e.Event, e.Accept, e.Target), true
	case Unsubscribe:
		return fmt.Sprintf("unsubscribe %s", e.ID), true
	}
	return "", false
}
