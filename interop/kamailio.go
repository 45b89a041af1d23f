package interop

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Kamailio is a running registrar and record-routing proxy
// (peers/kamailio/kamailio.cfg) with digest auth over the db_text
// subscribers of peers/kamailio/dbtext: alice, bob, 1001, 1002, 100 and 200,
// each with the password "<user>-pw", realm and domain 127.0.0.1.
type Kamailio struct {
	*Proc
	Port int
	Addr string // 127.0.0.1:Port, UDP and TCP
}

// StartKamailio starts kamailio on a free port of 127.0.0.1 and waits until
// it answers an OPTIONS.
func StartKamailio(t testing.TB) *Kamailio {
	t.Helper()
	bin := Tool(t, "kamailio")
	dir := peerDir(t, "kamailio")
	db := filepath.Join(dir, "dbtext")
	copyDir(t, "kamailio/dbtext", db)
	port := FreePort(t)
	k := &Kamailio{Port: port, Addr: fmt.Sprintf("127.0.0.1:%d", port)}
	k.Proc = Start(t, "kamailio", dir, bin,
		"-f", PeerFile(t, "kamailio/kamailio.cfg"),
		"-DD", "-E", // foreground, log to stderr
		"-Y", dir, "-P", filepath.Join(dir, "kamailio.pid"), "-w", dir,
		"-A", "SIP_PORT="+strconv.Itoa(port),
		"-A", fmt.Sprintf("DBURL=%q", "text://"+db),
	)
	WaitSIP(t, k.Addr, 15*time.Second)
	return k
}
