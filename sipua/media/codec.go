package media

import "strings"

// Codec is an audio codec phonesim can send and receive: G.711 μ-law
// (PCMU) and A-law (PCMA), 8 kHz, at their static payload types.
type Codec struct {
	Name        string // as in an SDP rtpmap: "PCMU", "PCMA"
	PayloadType uint8
}

var (
	PCMU = Codec{Name: "PCMU", PayloadType: PayloadPCMU}
	PCMA = Codec{Name: "PCMA", PayloadType: PayloadPCMA}
)

// Codecs lists the codecs phonesim implements, in its default order.
var Codecs = []Codec{PCMU, PCMA}

// CodecByName finds a codec by its SDP or snom name ("PCMU", "pcma").
func CodecByName(name string) (Codec, bool) {
	for _, c := range Codecs {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return Codec{}, false
}

// CodecByType finds a codec by its (static) payload type.
func CodecByType(pt uint8) (Codec, bool) {
	for _, c := range Codecs {
		if c.PayloadType == pt {
			return c, true
		}
	}
	return Codec{}, false
}

// Decoding tables: 256 entries each, built once.
var muLawTable, aLawTable = func() (mu, a [256]int16) {
	for i := range 256 {
		mu[i] = DecodeMuLaw(byte(i))
		a[i] = DecodeALaw(byte(i))
	}
	return
}()

// Encode appends the G.711 bytes of pcm to dst.
func (c Codec) Encode(dst []byte, pcm []int16) []byte {
	if c.PayloadType == PayloadPCMA {
		for _, v := range pcm {
			dst = append(dst, EncodeALaw(v))
		}
		return dst
	}
	for _, v := range pcm {
		dst = append(dst, EncodeMuLaw(v))
	}
	return dst
}

// Decode appends the linear samples of a G.711 payload to dst.
func (c Codec) Decode(dst []int16, payload []byte) []int16 {
	table := &muLawTable
	if c.PayloadType == PayloadPCMA {
		table = &aLawTable
	}
	for _, b := range payload {
		dst = append(dst, table[b])
	}
	return dst
}
