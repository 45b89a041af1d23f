package sipua

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func offerWith(mline string, attrs ...string) []byte {
	s := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" + mline + "\r\n"
	for _, a := range attrs {
		s += a + "\r\n"
	}
	return []byte(s)
}

// RFC 3264 answers, named as the spec reads.
func TestAnswer(t *testing.T) {
	for _, tc := range []struct {
		name     string
		offer    []byte
		want     direction // our side's wish
		pt, dtmf uint8
		dir      string // direction attribute in our answer
		send     bool
		err      error
	}{
		{"PCMU+te/sendrecv->sendrecv", offerWith("m=audio 4000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000"), sendRecv, 0, 101, "a=sendrecv", true, nil},
		{"offerer's order wins: PCMA first", offerWith("m=audio 4000 RTP/AVP 8 0"), sendRecv, 8, 0, "a=sendrecv", true, nil},
		{"te at another dynamic type", offerWith("m=audio 4000 RTP/AVP 0 96", "a=rtpmap:96 telephone-event/8000"), sendRecv, 0, 96, "a=sendrecv", true, nil},
		{"sendonly->recvonly", offerWith("m=audio 4000 RTP/AVP 0", "a=sendonly"), sendRecv, 0, 0, "a=recvonly", false, nil},
		{"recvonly->sendonly", offerWith("m=audio 4000 RTP/AVP 0", "a=recvonly"), sendRecv, 0, 0, "a=sendonly", true, nil},
		{"inactive->inactive", offerWith("m=audio 4000 RTP/AVP 0", "a=inactive"), sendRecv, 0, 0, "a=inactive", false, nil},
		{"session-level sendonly->recvonly", sessionAttr("a=sendonly", "m=audio 4000 RTP/AVP 0"), sendRecv, 0, 0, "a=recvonly", false, nil},
		{"media line overrides session level", sessionAttr("a=sendonly", "m=audio 4000 RTP/AVP 0", "a=sendrecv"), sendRecv, 0, 0, "a=sendrecv", true, nil},
		{"sendrecv while we hold->sendonly", offerWith("m=audio 4000 RTP/AVP 0"), sendOnly, 0, 0, "a=sendonly", true, nil},
		{"no common codec", offerWith("m=audio 4000 RTP/AVP 18", "a=rtpmap:18 G729/8000"), sendRecv, 0, 0, "", false, errNoCodec},
		{"port 0 only", offerWith("m=audio 0 RTP/AVP 0"), sendRecv, 0, 0, "", false, errNoAudio},
		{"SRTP refused", offerWith("m=audio 4000 RTP/SAVP 0"), sendRecv, 0, 0, "", false, errNoAudio},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := localSDP{ip: "127.0.0.1", port: 5004, session: 7}
			ans, st, err := l.answer(tc.offer, tc.want)
			if err != tc.err {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if st.payloadType != tc.pt || st.dtmfType != tc.dtmf {
				t.Errorf("stream %+v", st)
			}
			if st.params().Send != tc.send {
				t.Errorf("send = %v", st.params().Send)
			}
			if st.remote == nil || st.remote.String() != "192.0.2.1:4000" {
				t.Errorf("remote %v", st.remote)
			}
			if !strings.Contains(string(ans), tc.dir+"\r\n") || !strings.Contains(string(ans), "m=audio 5004 RTP/AVP") {
				t.Errorf("answer:\n%s", ans)
			}
			// Our answer must read back as the same stream.
			back, err := parseAnswer(ans)
			if err != nil || back.payloadType != tc.pt || back.dtmfType != tc.dtmf {
				t.Errorf("answer reads back as %+v, %v", back, err)
			}
		})
	}
}

func TestAnswerRefusesOtherStreams(t *testing.T) {
	offer := []byte("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" +
		"m=video 5000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=audio 4000 RTP/AVP 0\r\n")
	l := localSDP{ip: "127.0.0.1", port: 5004}
	ans, _, err := l.answer(offer, sendRecv)
	if err != nil {
		t.Fatal(err)
	}
	s := string(ans)
	if !strings.Contains(s, "m=video 0 RTP/AVP 96") || strings.Index(s, "m=video") > strings.Index(s, "m=audio") {
		t.Fatalf("answer:\n%s", s)
	}
}

func TestOldStyleHold(t *testing.T) {
	offer := []byte("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n")
	st, err := parseAnswer(offer)
	if err != nil {
		t.Fatal(err)
	}
	if st.remote != nil || st.params().Send {
		t.Fatalf("c=0.0.0.0 must not be sent to: %+v", st)
	}
}

func TestOffer(t *testing.T) {
	l := localSDP{ip: "127.0.0.1", port: 5004, session: 9}
	o := string(l.offer(sendRecv))
	for _, want := range []string{"m=audio 5004 RTP/AVP 0 8 101\r\n", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=sendrecv", "c=IN IP4 127.0.0.1"} {
		if !strings.Contains(o, want) {
			t.Errorf("offer lacks %q:\n%s", want, o)
		}
	}
	// Each new description bumps the origin's version.
	o2 := string(l.offer(sendOnly))
	if !strings.Contains(o, "o=phonesim 9 1 ") || !strings.Contains(o2, "o=phonesim 9 2 ") || !strings.Contains(o2, "a=sendonly") {
		t.Errorf("versions:\n%s\n%s", o, o2)
	}
}

// SDP is network input: no offer may panic the answerer.
func FuzzAnswer(f *testing.F) {
	f.Add(offerWith("m=audio 4000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000"))
	f.Add(offerWith("m=audio 4000 RTP/AVP 8 0", "a=sendonly"))
	f.Add(offerWith("m=video 5000 RTP/AVP 96\r\nm=audio 4000 RTP/AVP 0"))
	f.Add([]byte("v=0\r\n"))
	f.Fuzz(func(t *testing.T, offer []byte) {
		l := localSDP{ip: "127.0.0.1", port: 5004}
		ans, st, err := l.answer(offer, sendRecv)
		if err != nil {
			return
		}
		if st.payloadType != 0 && st.payloadType != 8 {
			t.Fatalf("payload type %d", st.payloadType)
		}
		if _, err := parseAnswer(ans); err != nil {
			t.Fatalf("our answer does not parse: %v\n%s", err, ans)
		}
	})
}

// sessionAttr is an offer with attr at session level, before the m= line.
func sessionAttr(attr, mline string, attrs ...string) []byte {
	s := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" + attr + "\r\n" + mline + "\r\n"
	for _, a := range attrs {
		s += a + "\r\n"
	}
	return []byte(s)
}

// mline is the m=audio line of a description.
func mline(b []byte) string {
	for _, l := range strings.Split(string(b), "\r\n") {
		if strings.HasPrefix(l, "m=audio") {
			return l
		}
	}
	return ""
}

// Codec negotiation, named as pion/webrtc names its cases: the offer's
// codecs (in its order), ours, and what the answer carries.
func TestCodecNegotiation(t *testing.T) {
	te := "a=rtpmap:101 telephone-event/8000"
	for _, tc := range []struct {
		name   string
		offer  []byte
		ours   string // codec_priority_list; "" the default
		mline  string // our answer's m= line; "" for 488
		others int    // further codecs taken besides the one sent
	}{
		{"offer PCMA,PCMU → answer PCMA", offerWith("m=audio 4000 RTP/AVP 8 0"), "", "m=audio 5004 RTP/AVP 8", 0},
		{"offer PCMU,PCMA → answer PCMU", offerWith("m=audio 4000 RTP/AVP 0 8"), "", "m=audio 5004 RTP/AVP 0", 0},
		{"offer PCMU,PCMA, ours PCMA → answer PCMA", offerWith("m=audio 4000 RTP/AVP 0 8"), "pcma,telephone-event", "m=audio 5004 RTP/AVP 8", 0},
		{"offer PCMA,PCMU, ours PCMU,PCMA → answer PCMA (offerer's order)", offerWith("m=audio 4000 RTP/AVP 8 0"), "pcmu,pcma", "m=audio 5004 RTP/AVP 8", 0},
		{"offer G729,PCMA → answer PCMA", offerWith("m=audio 4000 RTP/AVP 18 8", "a=rtpmap:18 G729/8000"), "", "m=audio 5004 RTP/AVP 8", 0},
		{"offer G722,PCMU, ours G722,PCMU → answer PCMU (no G.722 here)", offerWith("m=audio 4000 RTP/AVP 9 0"), "g722,pcmu", "m=audio 5004 RTP/AVP 0", 0},
		{"offer PCMU,te → answer PCMU,te", offerWith("m=audio 4000 RTP/AVP 0 101", te), "", "m=audio 5004 RTP/AVP 0 101", 0},
		{"offer PCMU,te, ours PCMU without te → answer PCMU", offerWith("m=audio 4000 RTP/AVP 0 101", te), "pcmu", "m=audio 5004 RTP/AVP 0", 0},
		{"offer PCMU → 488 for ours PCMA", offerWith("m=audio 4000 RTP/AVP 0"), "pcma", "", 0},
		{"offer G729 → 488", offerWith("m=audio 4000 RTP/AVP 18", "a=rtpmap:18 G729/8000"), "", "", 0},
		{"offer te only → 488", offerWith("m=audio 4000 RTP/AVP 101", te), "", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefs, _ := parseCodecList(tc.ours)
			l := localSDP{ip: "127.0.0.1", port: 5004, prefs: prefs}
			ans, st, err := l.answer(tc.offer, sendRecv)
			if tc.mline == "" {
				if !errors.Is(err, errNotAcceptable) {
					t.Fatalf("err = %v, want one for 488", err)
				}
				if checkOffer(tc.offer, prefs) == nil {
					t.Error("checkOffer accepted what answer refused")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := mline(ans); got != tc.mline {
				t.Errorf("answer %q, want %q", got, tc.mline)
			}
			if len(st.others) != tc.others {
				t.Errorf("others %v", st.others)
			}
			if err := checkOffer(tc.offer, prefs); err != nil {
				t.Errorf("checkOffer: %v", err)
			}
		})
	}
}

func TestOfferFollowsCodecList(t *testing.T) {
	for _, tc := range []struct{ list, mline string }{
		{"", "m=audio 5004 RTP/AVP 0 8 101"},
		{"pcma,pcmu,telephone-event", "m=audio 5004 RTP/AVP 8 0 101"},
		{"g722,pcma,g729", "m=audio 5004 RTP/AVP 8"},
		{"telephone-event,pcmu", "m=audio 5004 RTP/AVP 0 101"},
		{"g729", "m=audio 5004 RTP/AVP 0 8"}, // nothing we have: the default codecs, no telephone-event
	} {
		prefs, _ := parseCodecList(tc.list)
		l := localSDP{ip: "127.0.0.1", port: 5004, prefs: prefs}
		if got := mline(l.offer(sendRecv)); got != tc.mline {
			t.Errorf("%q: offer %q, want %q", tc.list, got, tc.mline)
		}
	}
}

func TestParseCodecList(t *testing.T) {
	p, skipped := parseCodecList(" PCMA, g722 ,pcmu,pcma, aal2-g726-32")
	if fmt.Sprint(p.codecs) != "[8 0]" || !p.noDTMF || fmt.Sprint(skipped) != "[g722 aal2-g726-32]" {
		t.Fatalf("%+v %v", p, skipped)
	}
	if p, _ := parseCodecList(""); p.noDTMF || len(p.list()) != 2 {
		t.Fatalf("default %+v", p)
	}
}

// The answer to our offer: we send its first codec we know and take all
// it lists; a=rtcp names the RTCP port.
func TestParseAnswerCodecsAndRTCP(t *testing.T) {
	st, err := parseAnswer(offerWith("m=audio 4000 RTP/AVP 8 0 101", "a=rtpmap:101 telephone-event/8000", "a=rtcp:4011"))
	if err != nil {
		t.Fatal(err)
	}
	if st.payloadType != 8 || fmt.Sprint(st.others) != "[0]" || st.dtmfType != 101 {
		t.Errorf("stream %+v", st)
	}
	if st.remoteRTCP == nil || st.remoteRTCP.String() != "192.0.2.1:4011" {
		t.Errorf("RTCP %v", st.remoteRTCP)
	}
	p := st.params()
	if p.PayloadType != 8 || fmt.Sprint(p.Accept) != "[0]" || p.RemoteRTCP == nil {
		t.Errorf("params %+v", p)
	}
}

// Directions, both ways, at session and media level.
func TestDirections(t *testing.T) {
	// We answer: the offer's direction (session or media level) and our
	// wish (sendonly while we hold) give our answer's direction and what
	// we do.
	for _, tc := range []struct {
		name          string
		offer         []byte
		want          direction
		answer        string
		send, receive bool
	}{
		{"sendrecv → sendrecv", offerWith("m=audio 4000 RTP/AVP 0"), sendRecv, "sendrecv", true, true},
		{"media sendonly → recvonly", offerWith("m=audio 4000 RTP/AVP 0", "a=sendonly"), sendRecv, "recvonly", false, true},
		{"media recvonly → sendonly", offerWith("m=audio 4000 RTP/AVP 0", "a=recvonly"), sendRecv, "sendonly", true, false},
		{"media inactive → inactive", offerWith("m=audio 4000 RTP/AVP 0", "a=inactive"), sendRecv, "inactive", false, false},
		{"session sendonly → recvonly", sessionAttr("a=sendonly", "m=audio 4000 RTP/AVP 0"), sendRecv, "recvonly", false, true},
		{"session recvonly → sendonly", sessionAttr("a=recvonly", "m=audio 4000 RTP/AVP 0"), sendRecv, "sendonly", true, false},
		{"session inactive → inactive", sessionAttr("a=inactive", "m=audio 4000 RTP/AVP 0"), sendRecv, "inactive", false, false},
		{"session sendonly, media sendrecv → sendrecv", sessionAttr("a=sendonly", "m=audio 4000 RTP/AVP 0", "a=sendrecv"), sendRecv, "sendrecv", true, true},
		{"sendrecv while we hold → sendonly", offerWith("m=audio 4000 RTP/AVP 0"), sendOnly, "sendonly", true, true},
		{"sendonly while we hold → inactive", offerWith("m=audio 4000 RTP/AVP 0", "a=sendonly"), sendOnly, "inactive", false, true},
		{"recvonly while we hold → sendonly", offerWith("m=audio 4000 RTP/AVP 0", "a=recvonly"), sendOnly, "sendonly", true, false},
	} {
		t.Run("answer/"+tc.name, func(t *testing.T) {
			l := localSDP{ip: "127.0.0.1", port: 5004}
			ans, st, err := l.answer(tc.offer, tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(ans), "a="+tc.answer+"\r\n") {
				t.Errorf("answer lacks a=%s:\n%s", tc.answer, ans)
			}
			p := st.params()
			if p.Send != tc.send || p.Receive != tc.receive {
				t.Errorf("send %v receive %v", p.Send, p.Receive)
			}
		})
	}
	// We offered; the answer's direction (as the answerer wrote it) says
	// what we may do.
	for _, tc := range []struct {
		name          string
		answer        []byte
		send, receive bool
	}{
		{"answer sendrecv", offerWith("m=audio 4000 RTP/AVP 0", "a=sendrecv"), true, true},
		{"answer recvonly (our sendonly offer: hold)", offerWith("m=audio 4000 RTP/AVP 0", "a=recvonly"), true, false},
		{"answer sendonly", offerWith("m=audio 4000 RTP/AVP 0", "a=sendonly"), false, true},
		{"answer inactive", offerWith("m=audio 4000 RTP/AVP 0", "a=inactive"), false, false},
		{"answer session-level inactive", sessionAttr("a=inactive", "m=audio 4000 RTP/AVP 0"), false, false},
		{"answer session-level recvonly", sessionAttr("a=recvonly", "m=audio 4000 RTP/AVP 0"), true, false},
		{"answer c=0.0.0.0 (old hold)", []byte("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"), false, true},
	} {
		t.Run("offer/"+tc.name, func(t *testing.T) {
			st, err := parseAnswer(tc.answer)
			if err != nil {
				t.Fatal(err)
			}
			if p := st.params(); p.Send != tc.send || p.Receive != tc.receive {
				t.Errorf("send %v receive %v, want %v %v", p.Send, p.Receive, tc.send, tc.receive)
			}
		})
	}
	// Our offers carry our direction at media level.
	l := localSDP{ip: "127.0.0.1", port: 5004}
	for _, d := range []direction{sendRecv, sendOnly, recvOnly, inactive} {
		if o := string(l.offer(d)); !strings.Contains(o, "a="+string(d)+"\r\n") {
			t.Errorf("offer %s:\n%s", d, o)
		}
	}
}

// Every refusal is one the INVITE handler maps to 488.
func TestRefusalsAre488(t *testing.T) {
	for _, offer := range [][]byte{
		[]byte("not sdp"),
		offerWith("m=audio 0 RTP/AVP 0"),
		offerWith("m=audio 4000 RTP/SAVP 0"),
		offerWith("m=video 4000 RTP/AVP 96"),
		offerWith("m=audio 4000 RTP/AVP 18"),
	} {
		if err := checkOffer(offer, codecPrefs{}); !errors.Is(err, errNotAcceptable) {
			t.Errorf("%q: %v", offer, err)
		}
	}
}
