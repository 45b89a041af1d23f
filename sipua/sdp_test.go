package sipua

import (
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
