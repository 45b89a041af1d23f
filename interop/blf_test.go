//go:build interop

package interop

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BLF against kamailio's presence server (peers/kamailio/presence.cfg:
// presence, presence_dialoginfo, dialog, pua_dialoginfo from the Debian
// package kamailio-presence-modules), MWI from a sipp notifier.

// StartPresenceKamailio starts kamailio with peers/kamailio/presence.cfg:
// the registrar of StartKamailio plus a presence server for Event: dialog.
func StartPresenceKamailio(t testing.TB) *Kamailio {
	t.Helper()
	bin := Tool(t, "kamailio")
	dir := peerDir(t, "kamailio-presence")
	db := filepath.Join(dir, "dbtext")
	copyDir(t, "kamailio/dbtext", db)
	copyDir(t, "kamailio/presence-dbtext", db) // presence tables, and a version file naming them
	port := FreePort(t)
	k := &Kamailio{Port: port, Addr: fmt.Sprintf("127.0.0.1:%d", port)}
	k.Proc = Start(t, "kamailio-presence", dir, bin,
		"-f", PeerFile(t, "kamailio/presence.cfg"),
		"-DD", "-E",
		"-Y", dir, "-P", filepath.Join(dir, "kamailio.pid"), "-w", dir,
		"-A", "SIP_PORT="+strconv.Itoa(port),
		"-A", fmt.Sprintf("DBURL=%q", "text://"+db),
		"-A", fmt.Sprintf("SERVER_ADDR=%q", "sip:"+k.Addr),
	)
	WaitSIP(t, k.Addr, 15*time.Second)
	return k
}

// led is a function key's LED state in /api/state ("off" when absent).
func led(p *Phone, key string) string {
	leds, _ := p.State().Raw["leds"].([]any)
	for _, l := range leds {
		if m, ok := l.(map[string]any); ok && m["key"] == key {
			if s, ok := m["state"].(string); ok {
				return s
			}
		}
	}
	return "off"
}

func waitLED(t *testing.T, p *Phone, key, state string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if led(p, key) == state {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("LED %s is %s, want %s; state: %v", key, led(p, key), state, p.State().Raw["leds"])
}

// Phone A watches extension 200 (phone B) on P1: the LED blinks while a
// real call to B rings (the caller named on A's display), is on while B
// talks, and goes off when the call ends.
func TestBLFFollowsACallThroughKamailio(t *testing.T) {
	t.Parallel()
	k := StartPresenceKamailio(t)
	b := StartPhone(t, "-s", "user_name1=200", "-s", "user_host1="+k.Addr, "-s", "user_pass1=200-pw")
	a := StartPhone(t, "-s", "user_name1=100", "-s", "user_host1="+k.Addr, "-s", "user_pass1=100-pw",
		"-s", "fkey0=blf <sip:200@"+k.Addr+">|*8")
	waitRegistered(t, b, func(ok bool, _ string) bool { return ok }, "200 registered")
	waitRegistered(t, a, func(ok bool, _ string) bool { return ok }, "100 registered")
	k.WaitLog(t, "PRESENCE SUBSCRIBE", 10*time.Second)
	time.Sleep(500 * time.Millisecond) // the first NOTIFY: idle
	if got := led(a, "P1"); got != "off" {
		t.Fatalf("idle extension: LED %s, want off", got)
	}

	caller := StartSipp(t, "uac.xml", k.Addr, "-s", "200", "-key", "caller", "carol", "-key", "display", "Carol", "-d", "1500")
	b.WaitCall("ringing", 10*time.Second)
	waitLED(t, a, "P1", "fast", 10*time.Second)
	if msg, _ := a.State().Raw["message"].(string); !strings.Contains(msg, "ringing") {
		t.Errorf("A's display while 200 rings: %q, want the ringing caller", msg)
	} else {
		t.Logf("A shows %q", msg)
	}
	b.Command("key=ENTER")
	b.WaitCall("connected", 5*time.Second)
	waitLED(t, a, "P1", "on", 10*time.Second)
	caller.Done(t)
	b.WaitNoCalls(5 * time.Second)
	waitLED(t, a, "P1", "off", 10*time.Second)
}

// A voicemail server's unsolicited NOTIFY lights the message LED and puts
// the count on the idle screen.
func TestMWIFromSippNotify(t *testing.T) {
	t.Parallel()
	p := StartPhone(t, "-s", "user_name1=100", "-s", "user_mailbox1=*97", "-s", "fkey0=keyevent F_VOICEMAIL")
	s := StartSipp(t, "mwi-notify.xml", p.SIPAddr, "-s", "100")
	s.Done(t)
	waitLED(t, p, "P1", "on", 5*time.Second)
	display := fmt.Sprint(p.State().Raw["display"])
	if !strings.Contains(display, "2 new msgs") {
		t.Errorf("idle display %s: want 2 new msgs", display)
	}
}
