package sipua

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
)

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

var digestParam = regexp.MustCompile(`(\w+)="?([^",]*)"?`)

// checkDigest verifies an Authorization value (RFC 2617 without qop).
func checkDigest(t *testing.T, h sip.Header, method, user, pass string) {
	t.Helper()
	if h == nil {
		t.Fatal("no credentials")
	}
	p := map[string]string{}
	for _, m := range digestParam.FindAllStringSubmatch(strings.TrimPrefix(h.Value(), "Digest "), -1) {
		p[m[1]] = m[2]
	}
	ha1 := md5hex(user + ":" + p["realm"] + ":" + pass)
	ha2 := md5hex(method + ":" + p["uri"])
	if p["username"] != user || p["response"] != md5hex(ha1+":"+p["nonce"]+":"+ha2) {
		t.Fatalf("bad digest for %s/%s: %s", user, pass, h.Value())
	}
}

const challenge401 = `WWW-Authenticate: Digest realm="test", nonce="n0nce", algorithm=MD5`

func TestRegisterDigest(t *testing.T) {
	a := startPhone(t, "A", MediaTone)
	r := newRaw(t)
	a.ua.Register(Account{Identity: 1, User: "100", Host: fmt.Sprintf("127.0.0.1:%d", r.port), Password: "100-pw", Expires: time.Minute})

	reg := r.request(sip.REGISTER)
	if ct := reg.Contact(); ct == nil || ct.Address.Port != a.port || ct.Address.User != "100" {
		t.Fatalf("Contact = %v", ct)
	}
	if r.peer.Port != a.port {
		t.Fatalf("REGISTER left from port %d, not %d", r.peer.Port, a.port)
	}
	r.send(response(reg, 401, "Unauthorized", "reg1", []string{challenge401}, ""))
	reg = r.request(sip.REGISTER)
	checkDigest(t, reg.GetHeader("Authorization"), "REGISTER", "100", "100-pw")
	r.send(response(reg, 200, "OK", "reg1", []string{fmt.Sprintf("Contact: <sip:100@127.0.0.1:%d>;expires=30", a.port)}, ""))
	if got := expectOnly[firmware.Registered](a); got.Identity != 1 {
		t.Fatalf("Registered = %+v", got)
	}

	// Unregistering removes the binding: Expires 0.
	a.ua.Unregister(1)
	reg = r.request(sip.REGISTER)
	if h := reg.GetHeader("Expires"); h == nil || h.Value() != "0" {
		t.Fatalf("Expires = %v", h)
	}
	r.send(response(reg, 200, "OK", "reg1", nil, ""))
	assertQuiet(t, a)
}

// A registrar that refuses the password is not asked again and again:
// one answer to the challenge, then RegistrationFailed and a long pause.
func TestRegisterWrongPasswordDoesNotLoop(t *testing.T) {
	a := startPhone(t, "A", MediaTone)
	r := newRaw(t)
	a.ua.Register(Account{Identity: 2, User: "100", Host: fmt.Sprintf("127.0.0.1:%d", r.port), Password: "wrong"})
	for range 2 {
		reg := r.request(sip.REGISTER)
		r.send(response(reg, 401, "Unauthorized", "reg1", []string{challenge401}, ""))
	}
	if got := expectOnly[firmware.RegistrationFailed](a); got != (firmware.RegistrationFailed{Identity: 2, Status: 401, Reason: "Unauthorized"}) {
		t.Fatalf("RegistrationFailed = %+v", got)
	}
	r.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 4096)
	if n, _, err := r.conn.ReadFromUDP(buf); err == nil {
		t.Fatalf("asked again at once:\n%s", buf[:n])
	}
}

// A 407 to our INVITE is answered once with the identity's credentials.
func TestInviteProxyAuth(t *testing.T) {
	a := startPhone(t, "A", MediaTone)
	r := newRaw(t)
	a.ua.Register(Account{Identity: 1, User: "100", AuthUser: "auth100", Password: "pw"}) // credentials only
	a.ua.Do(firmware.Dial{Call: "c1", Target: fmt.Sprintf("sip:uas@127.0.0.1:%d", r.port), Identity: 1})
	expectOnly[firmware.CallSent](a)
	inv := r.request(sip.INVITE)
	r.send(response(inv, 407, "Proxy Authentication Required", "p1",
		[]string{`Proxy-Authenticate: Digest realm="test", nonce="n0nce"`}, ""))
	r.request(sip.ACK)
	inv2 := r.request(sip.INVITE)
	checkDigest(t, inv2.GetHeader("Proxy-Authorization"), "INVITE", "auth100", "pw")
	if inv2.CSeq().SeqNo != inv.CSeq().SeqNo+1 || inv2.CallID().Value() != inv.CallID().Value() {
		t.Fatalf("retry %s / %s", inv2.CSeq().Value(), inv2.CallID().Value())
	}
	contact := fmt.Sprintf("Contact: <sip:uas@127.0.0.1:%d>", r.port)
	r.send(response(inv2, 200, "OK", "uas1", []string{contact}, sdpAnswer))
	expectOnly[firmware.CallAnswered](a)
	if ack := r.request(sip.ACK); ack.CSeq().SeqNo != inv2.CSeq().SeqNo {
		t.Fatalf("ACK CSeq %s", ack.CSeq().Value())
	}
	a.ua.Do(firmware.Hangup{Call: "c1"})
	bye := r.request(sip.BYE)
	if bye.CSeq().SeqNo <= inv2.CSeq().SeqNo {
		t.Fatalf("BYE CSeq %s after INVITE %s", bye.CSeq().Value(), inv2.CSeq().Value())
	}
	r.send(response(bye, 200, "OK", "", nil, ""))
}

// Without credentials a challenge is a failure.
func TestInviteChallengeWithoutCredentials(t *testing.T) {
	a := startPhone(t, "A", MediaTone)
	r := newRaw(t)
	a.ua.Do(firmware.Dial{Call: "c1", Target: fmt.Sprintf("sip:uas@127.0.0.1:%d", r.port), Identity: 3})
	expectOnly[firmware.CallSent](a)
	inv := r.request(sip.INVITE)
	r.send(response(inv, 401, "Unauthorized", "p1", []string{challenge401}, ""))
	if got := expectOnly[firmware.CallFailed](a); got.Status != 401 {
		t.Fatalf("CallFailed = %+v", got)
	}
}
