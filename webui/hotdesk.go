package webui

import (
	"errors"
	"net/url"
	"strconv"

	"phonesim/firmware"
)

// hotdeskCommand reads hot-desking from a /command.htm query:
//
//	/command.htm?logon=USER&pass=PASS[&host=HOST][&identity=N]
//	/command.htm?logoff=N            (logoff=all or logoff=0: every hot-desk identity)
//
// ok is false when the query asks for neither.
func hotdeskCommand(raw string) (ev firmware.Event, ok bool, err error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, false, nil // left to parseCommand, which says what is wrong
	}
	if q.Has("logon") {
		n := 0
		if v := q.Get("identity"); v != "" {
			if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 12 {
				return nil, true, errors.New("webui: identity= must be 1-12")
			}
		}
		if q.Get("logon") == "" {
			return nil, true, errors.New("webui: logon= is empty")
		}
		return firmware.LogOnRequested{Identity: n, User: q.Get("logon"), Password: q.Get("pass"), Host: q.Get("host")}, true, nil
	}
	if q.Has("logoff") {
		v := q.Get("logoff")
		if v == "" || v == "all" {
			return firmware.LogOffRequested{}, true, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 12 {
			return nil, true, errors.New("webui: logoff= must be all or 0-12")
		}
		return firmware.LogOffRequested{Identity: n}, true, nil
	}
	return nil, false, nil
}
