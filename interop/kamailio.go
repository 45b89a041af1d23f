package interop

import (
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net"
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
	Addr string // HOST:Port (127.0.0.1 unless KamailioPlace says), UDP and TCP
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
	return StartKamailioAt(t, KamailioPlace{}, users, opts...)
}

// KamailioPlace puts kamailio somewhere else than this process's
// 127.0.0.1 — inside a network namespace, say (netns_linux.go). The zero
// value is StartKamailioUsers's.
type KamailioPlace struct {
	Host   string   // listen address (kamailio.cfg's LISTEN_IP); "": 127.0.0.1
	Prefix []string // command kamailio runs under, e.g. nsenter -t PID -n --
	// Wait waits until kamailio answers at addr; nil: WaitSIP from this
	// process, which cannot reach an address of another namespace.
	Wait func(addr string) error
}

// StartKamailioAt starts kamailio as StartKamailioUsers does, placed as p
// says.
func StartKamailioAt(t testing.TB, p KamailioPlace, users []string, opts ...string) *Kamailio {
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
	host := p.Host
	if host == "" {
		host = "127.0.0.1"
	}
	// FreePort looks on this process's 127.0.0.1; in a namespace of its own
	// the port is free all the more.
	port := FreePort(t)
	k := &Kamailio{Port: port, Addr: net.JoinHostPort(host, strconv.Itoa(port))}
	args := []string{"-f", PeerFile(t, "kamailio/kamailio.cfg"),
		"-DD", "-E",
		"-Y", dir, "-P", filepath.Join(dir, "kamailio.pid"), "-w", dir,
		"-A", "SIP_PORT=" + strconv.Itoa(port),
		"-A", fmt.Sprintf("DBURL=%q", "text://"+db),
	}
	if p.Host != "" {
		args = append(args, "-A", "LISTEN_IP="+p.Host)
	}
	args = append(args, opts...)
	if len(p.Prefix) > 0 {
		args = append(append(p.Prefix[1:len(p.Prefix):len(p.Prefix)], bin), args...)
		bin = p.Prefix[0]
	}
	k.Proc = Start(t, "kamailio", dir, bin, args...)
	if p.Wait == nil {
		WaitSIP(t, k.Addr, 15*time.Second)
	} else if err := p.Wait(k.Addr); err != nil {
		t.Fatalf("kamailio at %s: %v\n%s", k.Addr, err, tail(k.Log(), 20))
	}
	return k
}
