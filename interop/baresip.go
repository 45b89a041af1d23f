package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Baresip is a running baresip softphone (peers/baresip) with one local
// account that auto-answers and does not register: sip:baresip@127.0.0.1:Port.
type Baresip struct {
	*Proc
	Port     int
	CtrlPort int    // ctrl_tcp: netstring JSON commands and events
	URI      string // sip:baresip@127.0.0.1:Port
	Rec      string // folder where each call's audio is written as WAV
}

// StartBaresip starts baresip on free ports of 127.0.0.1 and waits until it
// is ready and its SIP port answers.
func StartBaresip(t testing.TB) *Baresip {
	t.Helper()
	return startBaresip(t, nil, "")
}

// StartBaresipRegistered starts baresip like StartBaresip with a second
// account, sip:USER@127.0.0.1, registered at k with the password "USER-pw"
// (a subscriber of peers/kamailio/dbtext), and waits for the registration.
// Calls that k routes to USER are auto-answered too.
func StartBaresipRegistered(t testing.TB, k *Kamailio, user string) *Baresip {
	t.Helper()
	return startBaresip(t, k, user)
}

func startBaresip(t testing.TB, k *Kamailio, user string) *Baresip {
	t.Helper()
	bin := Tool(t, "baresip")
	dir := peerDir(t, "baresip")
	rtp := FreePortRange(t, 20)
	b := &Baresip{Port: FreeSIPPortPair(t), CtrlPort: FreePort(t), Rec: filepath.Join(dir, "rec")}
	b.URI = fmt.Sprintf("sip:baresip@127.0.0.1:%d", b.Port)
	vars := map[string]string{
		"DIR":       dir,
		"SIP_PORT":  strconv.Itoa(b.Port),
		"CTRL_PORT": strconv.Itoa(b.CtrlPort),
		"RTP_PORTS": fmt.Sprintf("%d-%d", rtp, rtp+19),
	}
	render(t, "baresip/config.tmpl", filepath.Join(dir, "config"), vars)
	accounts := filepath.Join(dir, "accounts")
	render(t, "baresip/accounts.tmpl", accounts, vars)
	if k != nil {
		vars["USER"], vars["KAM_PORT"] = user, strconv.Itoa(k.Port)
		reg := filepath.Join(dir, "registered")
		render(t, "baresip/registered-account.tmpl", reg, vars)
		appendFile(t, accounts, reg)
	}
	for _, f := range []string{"contacts", "current_contact"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(b.Rec, 0o755); err != nil {
		t.Fatal(err)
	}
	b.Proc = Start(t, "baresip", dir, bin, "-f", dir, "-n", "127.0.0.1")
	b.WaitLog(t, "baresip is ready.", 15*time.Second)
	WaitSIP(t, fmt.Sprintf("127.0.0.1:%d", b.Port), 10*time.Second)
	if k != nil {
		b.WaitLog(t, user+"@127.0.0.1: {0/UDP/v4} 200 OK", 10*time.Second)
	}
	return b
}

// appendFile appends the content of src to dst.
func appendFile(t testing.TB, dst, src string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(dst, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}
