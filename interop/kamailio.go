package interop

import (
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
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

// StartKamailioUsers starts kamailio as StartKamailio does, with users
// added to its db_text subscribers (password "<user>-pw") and further
// kamailio options (such as "--debug=1", which keeps the per-message
// xlog lines of kamailio.cfg out of the log under load).
func StartKamailioUsers(t testing.TB, users []string, opts ...string) *Kamailio {
	t.Helper()
	bin := Tool(t, "kamailio")
	dir := peerDir(t, "kamailio")
	db := filepath.Join(dir, "dbtext")
	copyDir(t, "kamailio/dbtext", db)
	f, err := os.OpenFile(filepath.Join(db, "subscriber"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	h := func(s string) string { b := md5.Sum([]byte(s)); return hex.EncodeToString(b[:]) }
	for i, u := range users {
		fmt.Fprintf(w, "%d:%s:127.0.0.1:%s-pw:%s:%s\n", 100+i, u, u,
			h(u+":127.0.0.1:"+u+"-pw"), h(u+"@127.0.0.1:127.0.0.1:"+u+"-pw"))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	k := &Kamailio{Port: port, Addr: fmt.Sprintf("127.0.0.1:%d", port)}
	args := []string{"-f", PeerFile(t, "kamailio/kamailio.cfg"),
		"-DD", "-E",
		"-Y", dir, "-P", filepath.Join(dir, "kamailio.pid"), "-w", dir,
		"-A", "SIP_PORT=" + strconv.Itoa(port),
		"-A", fmt.Sprintf("DBURL=%q", "text://"+db),
	}
	k.Proc = Start(t, "kamailio", dir, bin, append(args, opts...)...)
	WaitSIP(t, k.Addr, 15*time.Second)
	return k
}
