//go:build interop

package interop

import (
	"strings"
	"testing"
	"time"
)

// The peers against each other, without the phone: when these fail, the
// harness or the machine is broken, not phonesim.

func TestSippScenariosCallEachOther(t *testing.T) {
	t.Parallel()
	uas := StartSipp(t, "uas.xml", "")
	uac := StartSipp(t, "uac.xml", uas.Addr, "-s", "uas", "-key", "caller", "alice", "-key", "display", "Alice", "-d", "200")
	uac.Done(t)
	uas.Done(t)
}

func TestKamailioRegisterDigest(t *testing.T) {
	t.Parallel()
	k := StartKamailio(t)
	for _, tc := range []struct {
		name, user, pass string
		ok               bool
	}{
		{"right password", "100", "100-pw", true},
		{"other user", "alice", "alice-pw", true},
		{"wrong password", "100", "200-pw", false},
		{"unknown user", "mallory", "mallory-pw", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := StartSipp(t, "register-auth.xml", k.Addr, "-s", tc.user, "-au", tc.user, "-ap", tc.pass, "-timeout", "5s")
			rc := s.Wait(t, 20*time.Second)
			if tc.ok && rc != 0 {
				t.Errorf("REGISTER %s/%s: sipp exited %d, want 0 (200 after the challenge)", tc.user, tc.pass, rc)
			}
			if !tc.ok && rc == 0 {
				t.Errorf("REGISTER %s/%s: sipp exited 0, want the credentials refused", tc.user, tc.pass)
			}
		})
	}
	if !strings.Contains(k.Log(), "REQ REGISTER") {
		t.Errorf("kamailio logged no REGISTER")
	}
}

func TestKamailioAnswersOptions(t *testing.T) {
	t.Parallel()
	k := StartKamailio(t)
	StartSipp(t, "options.xml", k.Addr, "-s", "100", "-timeout", "5s").Done(t)
}

func TestBaresipAnswersSipp(t *testing.T) {
	t.Parallel()
	b := StartBaresip(t)
	addr := strings.TrimPrefix(b.URI, "sip:baresip@")
	StartSipp(t, "uac.xml", addr, "-s", "baresip", "-key", "caller", "alice", "-key", "display", "Alice", "-d", "500").Done(t)
	b.WaitLog(t, "Call established", 5*time.Second)
}

func TestSippCallsBaresipThroughKamailio(t *testing.T) {
	t.Parallel()
	k := StartKamailio(t)
	b := StartBaresipRegistered(t, k, "1002")
	StartSipp(t, "uac.xml", k.Addr, "-s", "1002", "-key", "caller", "carol", "-key", "display", "Carol", "-d", "500").Done(t)
	b.WaitLog(t, "Call established", 5*time.Second)
	if !strings.Contains(k.Log(), "REQ INVITE sip:1002@") {
		t.Errorf("the INVITE did not go through kamailio")
	}
}
