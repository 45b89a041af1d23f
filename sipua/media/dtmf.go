package media

import "encoding/binary"

// RFC 4733 telephone-event payload: event, E|R|volume, duration.
type telephoneEvent struct {
	Event    uint8
	End      bool
	Volume   uint8 // -dBm0, 0-63
	Duration uint16
}

func (e telephoneEvent) marshal() []byte {
	b := make([]byte, 4)
	b[0] = e.Event
	b[1] = e.Volume & 0x3f
	if e.End {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], e.Duration)
	return b
}

func parseTelephoneEvent(b []byte) (telephoneEvent, bool) {
	if len(b) < 4 {
		return telephoneEvent{}, false
	}
	return telephoneEvent{
		Event:    b[0],
		End:      b[1]&0x80 != 0,
		Volume:   b[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(b[2:]),
	}, true
}

const dtmfDigits = "0123456789*#ABCD"

// eventCode maps a DTMF digit to its RFC 4733 event code.
func eventCode(digit byte) (uint8, bool) {
	if digit >= 'a' && digit <= 'd' {
		digit -= 'a' - 'A'
	}
	for i := range len(dtmfDigits) {
		if dtmfDigits[i] == digit {
			return uint8(i), true
		}
	}
	return 0, false
}

// eventDigit is the inverse of eventCode.
func eventDigit(code uint8) (byte, bool) {
	if int(code) < len(dtmfDigits) {
		return dtmfDigits[code], true
	}
	return 0, false
}

// How a digit is sent: five packets 20 ms apart (100 ms of tone) with a
// growing duration, the first with the marker bit, then the end packet
// three times; then a pause before the next digit.
const (
	dtmfToneFrames  = 5
	dtmfEndRepeats  = 3
	dtmfPauseFrames = 3
	dtmfVolume      = 10
)

// dtmfStep is one 20 ms slot of sending a digit.
type dtmfStep struct {
	payload []byte
	marker  bool
	first   bool // starts a new event: takes a fresh timestamp
	pause   bool // send nothing
}

// dtmfSteps lays out the slots for one digit.
func dtmfSteps(code uint8) []dtmfStep {
	var steps []dtmfStep
	for i := 1; i <= dtmfToneFrames; i++ {
		ev := telephoneEvent{Event: code, Volume: dtmfVolume, Duration: uint16(i * FrameSamples)}
		steps = append(steps, dtmfStep{payload: ev.marshal(), marker: i == 1, first: i == 1})
	}
	end := telephoneEvent{Event: code, End: true, Volume: dtmfVolume, Duration: dtmfToneFrames * FrameSamples}
	for range dtmfEndRepeats {
		steps = append(steps, dtmfStep{payload: end.marshal()})
	}
	for range dtmfPauseFrames {
		steps = append(steps, dtmfStep{pause: true})
	}
	return steps
}
