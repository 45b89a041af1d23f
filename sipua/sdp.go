package sipua

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"phonesim/sipua/media"
)

// Offer/answer (RFC 3264) for one audio stream: G.711 and
// telephone-event. pion/sdp parses and prints; the negotiation is ours.
//
// Our offer lists the call's codecs (codec_priority_list of its identity)
// in our order, then telephone-event. An answer of ours takes the first
// codec of the offer that is also ours — the intersection, in the
// offerer's order — and answers with that one codec (and telephone-event
// when both sides have it), so each side sends and receives the same.
// Reading an answer to our offer, we send the first codec of the answer
// we know and take any codec it lists. G.711 is recognized at its static
// payload types only (0, 8).

// errNotAcceptable is wrapped by every reason an offer cannot be taken:
// the INVITE handler answers it with 488 Not Acceptable Here.
var errNotAcceptable = errors.New("not acceptable")

var (
	errNoAudio = fmt.Errorf("sdp: no usable audio stream: %w", errNotAcceptable)
	errNoCodec = fmt.Errorf("sdp: no common codec: %w", errNotAcceptable)
)

// codecPrefs are a call's codecs, in our order of preference.
type codecPrefs struct {
	codecs []uint8 // payload types (PCMU 0, PCMA 8); empty: the default
	noDTMF bool    // telephone-event is not in the list: DTMF goes by SIP INFO
}

// defaultCodecs is phonesim's order when codec_priority_list is empty.
var defaultCodecs = []uint8{media.PayloadPCMU, media.PayloadPCMA}

func (p codecPrefs) list() []uint8 {
	if len(p.codecs) == 0 {
		return defaultCodecs
	}
	return p.codecs
}

func (p codecPrefs) has(pt uint8) bool { return slices.Contains(p.list(), pt) }

// parseCodecList reads a codec_priority_list value ("pcma,pcmu,g722,
// telephone-event", snom's names, in priority order). Codecs phonesim does
// not implement are left out and named in skipped; a list with none we
// have falls back to the default.
func parseCodecList(v string) (p codecPrefs, skipped []string) {
	if strings.TrimSpace(v) == "" {
		return codecPrefs{}, nil
	}
	p.noDTMF = true
	for part := range strings.SplitSeq(v, ",") {
		name := strings.ToLower(strings.TrimSpace(part))
		switch c, ok := media.CodecByName(name); {
		case name == "":
		case name == "telephone-event":
			p.noDTMF = false
		case ok:
			if !slices.Contains(p.codecs, c.PayloadType) {
				p.codecs = append(p.codecs, c.PayloadType)
			}
		default:
			skipped = append(skipped, name)
		}
	}
	return p, skipped
}

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
	payloadType uint8        // the codec to send: PCMU or PCMA
	others      []uint8      // further common codecs the description lists (we take them too)
	dtmfType    uint8        // 0: no telephone-event
	remote      *net.UDPAddr // nil: none given, or on hold (c=0.0.0.0)
	remoteRTCP  *net.UDPAddr // from a=rtcp; nil: RTP port + 1
	dir         direction    // as the remote side wrote it
}

// params turns the remote description into our media parameters.
func (s stream) params() media.Params {
	return media.Params{
		PayloadType: s.payloadType,
		Accept:      s.others,
		DTMFType:    s.dtmfType,
		Remote:      s.remote,
		RemoteRTCP:  s.remoteRTCP,
		Send:        s.dir.receives() && s.remote != nil,
		Receive:     s.dir.sends(),
	}
}

// localSDP describes our side of a call: address, port, the origin
// line's identity and the codecs.
type localSDP struct {
	ip      string
	port    int
	session uint64
	version uint64
	prefs   codecPrefs
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

// audioMedia is our m=audio line with the given codecs and
// telephone-event type (0: none).
func (l *localSDP) audioMedia(codecs []uint8, dtmf uint8, dir direction) *sdp.MediaDescription {
	m := &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media: "audio", Port: sdp.RangedPort{Value: l.port}, Protos: []string{"RTP", "AVP"},
	}}
	add := func(pt uint8, rtpmap string) {
		m.MediaName.Formats = append(m.MediaName.Formats, strconv.Itoa(int(pt)))
		m.Attributes = append(m.Attributes, sdp.NewAttribute("rtpmap", strconv.Itoa(int(pt))+" "+rtpmap))
	}
	for _, pt := range codecs {
		add(pt, codecName(pt))
	}
	if dtmf != 0 {
		add(dtmf, "telephone-event/8000")
		m.Attributes = append(m.Attributes, sdp.NewAttribute("fmtp", strconv.Itoa(int(dtmf))+" 0-16"))
	}
	m.Attributes = append(m.Attributes, sdp.NewAttribute("ptime", "20"), sdp.NewPropertyAttribute(string(dir)))
	return m
}

func codecName(pt uint8) string {
	if c, ok := media.CodecByType(pt); ok {
		return c.Name + "/8000"
	}
	return "PCMU/8000"
}

// offer is our offer: the call's codecs in our order, telephone-event.
func (l *localSDP) offer(dir direction) []byte {
	d := l.description()
	var dtmf uint8
	if !l.prefs.noDTMF {
		dtmf = dtmfPayloadType
	}
	d.MediaDescriptions = []*sdp.MediaDescription{l.audioMedia(l.prefs.list(), dtmf, dir)}
	b, _ := d.Marshal()
	return b
}

// answer answers an offer: the first offered codec that is ours, the
// offered telephone-event type (if we have it), the mirrored direction;
// other streams refused with port 0. Errors wrap errNotAcceptable.
func (l *localSDP) answer(offer []byte, want direction) ([]byte, stream, error) {
	var o sdp.SessionDescription
	if err := o.Unmarshal(offer); err != nil {
		return nil, stream{}, fmt.Errorf("sdp: %v: %w", err, errNotAcceptable)
	}
	idx, st, err := pickAudio(&o, l.prefs)
	if err != nil {
		return nil, stream{}, err
	}
	st.others = nil // we answer with one codec: only it is sent and taken
	d := l.description()
	for i, om := range o.MediaDescriptions {
		if i == idx {
			d.MediaDescriptions = append(d.MediaDescriptions,
				l.audioMedia([]uint8{st.payloadType}, st.dtmfType, st.dir.answerTo(want)))
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

// parseAnswer reads the remote answer to our offer: we send its first
// codec we know and take all it lists.
func parseAnswer(answer []byte) (stream, error) {
	var a sdp.SessionDescription
	if err := a.Unmarshal(answer); err != nil {
		return stream{}, err
	}
	_, st, err := pickAudio(&a, codecPrefs{})
	return st, err
}

// checkOffer tells whether an offer has a stream we can take with prefs;
// the error wraps errNotAcceptable.
func checkOffer(offer []byte, prefs codecPrefs) error {
	var o sdp.SessionDescription
	if err := o.Unmarshal(offer); err != nil {
		return fmt.Errorf("sdp: %v: %w", err, errNotAcceptable)
	}
	_, _, err := pickAudio(&o, prefs)
	return err
}

// pickAudio finds the first active RTP/AVP audio stream with a codec of
// prefs and reads it.
func pickAudio(d *sdp.SessionDescription, prefs codecPrefs) (int, stream, error) {
	err := errNoAudio
	for i, m := range d.MediaDescriptions {
		if m.MediaName.Media != "audio" || m.MediaName.Port.Value == 0 ||
			strings.Join(m.MediaName.Protos, "/") != "RTP/AVP" {
			continue
		}
		st, ok := readAudio(d, m, prefs)
		if !ok {
			err = errNoCodec
			continue
		}
		return i, st, nil
	}
	return -1, stream{}, err
}

func readAudio(d *sdp.SessionDescription, m *sdp.MediaDescription, prefs codecPrefs) (stream, bool) {
	// G.711 only at its static payload types (0, 8); telephone-event at
	// whatever dynamic type the other side chose.
	names := map[string]string{} // payload type → "name/rate", lower case
	var rtcpPort int
	var rtcpIP net.IP
	for _, a := range m.Attributes {
		switch a.Key {
		case "rtpmap":
			pt, name, ok := strings.Cut(a.Value, " ")
			if ok {
				names[pt] = strings.ToLower(strings.TrimSpace(name))
			}
		case "rtcp": // RFC 3605: port [IN IP4 address]
			f := strings.Fields(a.Value)
			if len(f) > 0 {
				if p, err := strconv.Atoi(f[0]); err == nil && p > 0 && p < 65536 {
					rtcpPort = p
				}
			}
			if len(f) == 4 {
				rtcpIP = net.ParseIP(f[3])
			}
		}
	}
	st := stream{dir: sendRecv}
	var common []uint8 // in the order of the description
	for _, f := range m.MediaName.Formats {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || n > 127 {
			continue
		}
		switch name := names[f]; {
		case (n == media.PayloadPCMU || n == media.PayloadPCMA) && prefs.has(uint8(n)):
			if !slices.Contains(common, uint8(n)) {
				common = append(common, uint8(n))
			}
		case st.dtmfType == 0 && !prefs.noDTMF && n >= 96 && strings.HasPrefix(name, "telephone-event/8000"):
			st.dtmfType = uint8(n)
		}
	}
	if len(common) == 0 {
		return stream{}, false
	}
	st.payloadType, st.others = common[0], common[1:]
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
	if st.remote != nil && rtcpPort != 0 {
		ip := st.remote.IP
		if rtcpIP != nil && !rtcpIP.IsUnspecified() {
			ip = rtcpIP
		}
		st.remoteRTCP = &net.UDPAddr{IP: ip, Port: rtcpPort}
	}
	return st, true
}
