package sipua

import (
	"errors"
	"net"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"phonesim/sipua/media"
)

// Offer/answer (RFC 3264) for one audio stream: G.711 and
// telephone-event. pion/sdp parses and prints; the negotiation is ours.

var (
	errNoAudio = errors.New("sdp: no usable audio stream")
	errNoCodec = errors.New("sdp: no common codec")
)

// dtmfPayloadType is the telephone-event payload type we offer.
const dtmfPayloadType = 101

// direction is an SDP stream direction, from the point of view of the
// side that wrote it.
type direction string

const (
	sendRecv direction = "sendrecv"
	sendOnly direction = "sendonly"
	recvOnly direction = "recvonly"
	inactive direction = "inactive"
)

func (d direction) sends() bool    { return d == sendRecv || d == sendOnly }
func (d direction) receives() bool { return d == sendRecv || d == recvOnly }

// answerTo is the direction to answer an offer of d with, when we would
// ourselves like want (sendrecv, or sendonly while we hold).
func (d direction) answerTo(want direction) direction {
	send := d.receives() && want.sends()
	recv := d.sends() && want.receives()
	switch {
	case send && recv:
		return sendRecv
	case send:
		return sendOnly
	case recv:
		return recvOnly
	}
	return inactive
}

// stream is what a session description says about our audio stream.
type stream struct {
	payloadType uint8        // PCMU or PCMA
	dtmfType    uint8        // 0: no telephone-event
	remote      *net.UDPAddr // nil: none given, or on hold (c=0.0.0.0)
	dir         direction    // as the remote side wrote it
}

// params turns the remote description into our media parameters.
func (s stream) params() media.Params {
	return media.Params{
		PayloadType: s.payloadType,
		DTMFType:    s.dtmfType,
		Remote:      s.remote,
		Send:        s.dir.receives() && s.remote != nil,
		Receive:     s.dir.sends(),
	}
}

// localSDP describes our side of a call: address, port and the origin
// line's identity.
type localSDP struct {
	ip      string
	port    int
	session uint64
	version uint64
}

func (l *localSDP) description() *sdp.SessionDescription {
	l.version++
	return &sdp.SessionDescription{
		Origin: sdp.Origin{
			Username: "phonesim", SessionID: l.session, SessionVersion: l.version,
			NetworkType: "IN", AddressType: addrType(l.ip), UnicastAddress: l.ip,
		},
		SessionName: "phonesim",
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: "IN", AddressType: addrType(l.ip), Address: &sdp.Address{Address: l.ip},
		},
		TimeDescriptions: []sdp.TimeDescription{{}},
	}
}

func addrType(ip string) string {
	if strings.Contains(ip, ":") {
		return "IP6"
	}
	return "IP4"
}

// audioMedia is our m=audio line with the given formats.
func (l *localSDP) audioMedia(pt, dtmf uint8, dir direction, alsoPCMA bool) *sdp.MediaDescription {
	m := &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media: "audio", Port: sdp.RangedPort{Value: l.port}, Protos: []string{"RTP", "AVP"},
	}}
	add := func(pt uint8, rtpmap string) {
		m.MediaName.Formats = append(m.MediaName.Formats, strconv.Itoa(int(pt)))
		m.Attributes = append(m.Attributes, sdp.NewAttribute("rtpmap", strconv.Itoa(int(pt))+" "+rtpmap))
	}
	add(pt, codecName(pt))
	if alsoPCMA {
		add(media.PayloadPCMA, codecName(media.PayloadPCMA))
	}
	if dtmf != 0 {
		add(dtmf, "telephone-event/8000")
		m.Attributes = append(m.Attributes, sdp.NewAttribute("fmtp", strconv.Itoa(int(dtmf))+" 0-16"))
	}
	m.Attributes = append(m.Attributes, sdp.NewAttribute("ptime", "20"), sdp.NewPropertyAttribute(string(dir)))
	return m
}

func codecName(pt uint8) string {
	if pt == media.PayloadPCMA {
		return "PCMA/8000"
	}
	return "PCMU/8000"
}

// offer is our offer: PCMU, PCMA, telephone-event.
func (l *localSDP) offer(dir direction) []byte {
	d := l.description()
	d.MediaDescriptions = []*sdp.MediaDescription{l.audioMedia(media.PayloadPCMU, dtmfPayloadType, dir, true)}
	b, _ := d.Marshal()
	return b
}

// answer answers an offer: the first offered codec we know, the offered
// telephone-event type, the mirrored direction; other streams refused
// with port 0.
func (l *localSDP) answer(offer []byte, want direction) ([]byte, stream, error) {
	var o sdp.SessionDescription
	if err := o.Unmarshal(offer); err != nil {
		return nil, stream{}, err
	}
	idx, st, err := pickAudio(&o)
	if err != nil {
		return nil, stream{}, err
	}
	d := l.description()
	for i, om := range o.MediaDescriptions {
		if i == idx {
			d.MediaDescriptions = append(d.MediaDescriptions,
				l.audioMedia(st.payloadType, st.dtmfType, st.dir.answerTo(want), false))
			continue
		}
		d.MediaDescriptions = append(d.MediaDescriptions, &sdp.MediaDescription{MediaName: sdp.MediaName{
			Media: om.MediaName.Media, Port: sdp.RangedPort{Value: 0},
			Protos: om.MediaName.Protos, Formats: om.MediaName.Formats,
		}})
	}
	b, err := d.Marshal()
	return b, st, err
}

// parseAnswer reads the remote answer to our offer.
func parseAnswer(answer []byte) (stream, error) {
	var a sdp.SessionDescription
	if err := a.Unmarshal(answer); err != nil {
		return stream{}, err
	}
	_, st, err := pickAudio(&a)
	return st, err
}

// checkOffer tells whether an offer has a stream we can take.
func checkOffer(offer []byte) error {
	var o sdp.SessionDescription
	if err := o.Unmarshal(offer); err != nil {
		return err
	}
	_, _, err := pickAudio(&o)
	return err
}

// pickAudio finds the first active RTP/AVP audio stream with a codec we
// know and reads it.
func pickAudio(d *sdp.SessionDescription) (int, stream, error) {
	err := errNoAudio
	for i, m := range d.MediaDescriptions {
		if m.MediaName.Media != "audio" || m.MediaName.Port.Value == 0 ||
			strings.Join(m.MediaName.Protos, "/") != "RTP/AVP" {
			continue
		}
		st, ok := readAudio(d, m)
		if !ok {
			err = errNoCodec
			continue
		}
		return i, st, nil
	}
	return -1, stream{}, err
}

func readAudio(d *sdp.SessionDescription, m *sdp.MediaDescription) (stream, bool) {
	// G.711 only at its static payload types (0, 8); telephone-event at
	// whatever dynamic type the other side chose.
	names := map[string]string{} // payload type → "name/rate", lower case
	for _, a := range m.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		pt, name, ok := strings.Cut(a.Value, " ")
		if ok {
			names[pt] = strings.ToLower(strings.TrimSpace(name))
		}
	}
	st := stream{dir: sendRecv}
	found := false
	for _, f := range m.MediaName.Formats {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || n > 127 {
			continue
		}
		switch name := names[f]; {
		case !found && (n == media.PayloadPCMU || n == media.PayloadPCMA):
			st.payloadType, found = uint8(n), true
		case st.dtmfType == 0 && n >= 96 && strings.HasPrefix(name, "telephone-event/8000"):
			st.dtmfType = uint8(n)
		}
	}
	if !found {
		return stream{}, false
	}
	// a direction at session level applies unless the media line has its own
	for _, attrs := range [][]sdp.Attribute{d.Attributes, m.Attributes} {
		for _, a := range attrs {
			switch direction(a.Key) {
			case sendRecv, sendOnly, recvOnly, inactive:
				st.dir = direction(a.Key)
			}
		}
	}
	c := m.ConnectionInformation
	if c == nil {
		c = d.ConnectionInformation
	}
	if c != nil && c.Address != nil {
		if ip := net.ParseIP(c.Address.Address); ip != nil && !ip.IsUnspecified() {
			st.remote = &net.UDPAddr{IP: ip, Port: m.MediaName.Port.Value}
		}
	}
	return st, true
}
