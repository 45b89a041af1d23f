package media

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ToneKind is a call-progress tone.
type ToneKind uint8

const (
	ToneNone        ToneKind = iota
	ToneDial                 // off hook, nothing dialed yet
	ToneRingback             // the other side rings (no early media)
	ToneBusy                 // the other side is busy (486, 600)
	ToneCongestion           // the network failed the call (5xx, 408, 480 …)
	ToneCallWaiting          // a second call rings while one is connected
)

func (k ToneKind) String() string {
	return [...]string{"none", "dial", "ringback", "busy", "congestion", "call-waiting"}[k]
}

// ToneStep is one part of a tone's cadence: up to two frequencies added
// (or the first modulated by the second), for Dur; Dur 0 holds it for
// ever. Frequency 0 is silence.
type ToneStep struct {
	F1, F2 float64
	Mod    bool // F1 amplitude-modulated by F2 (90 % depth), not added
	Dur    time.Duration
}

// Cadence is a tone: steps that repeat.
type Cadence []ToneStep

// ParseTone reads a tone in Asterisk's indications.conf syntax:
// "425/200,0/200,425/200,0/5000" (Hz/ms, "f1+f2" added, "f1*f2"
// modulated). A leading "!" (play once) is accepted and ignored: every
// tone here repeats.
func ParseTone(s string) (Cadence, error) {
	var t Cadence
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "!")
		freqs, dur, hasDur := strings.Cut(part, "/")
		var st ToneStep
		if hasDur {
			ms, err := strconv.Atoi(dur)
			if err != nil || ms <= 0 {
				return nil, fmt.Errorf("tone %q: bad duration %q", s, dur)
			}
			st.Dur = time.Duration(ms) * time.Millisecond
		}
		sep := "+"
		if strings.Contains(freqs, "*") {
			sep, st.Mod = "*", true
		}
		f1, f2, two := strings.Cut(freqs, sep)
		var err error
		if st.F1, err = strconv.ParseFloat(f1, 64); err != nil || st.F1 < 0 || st.F1 > 4000 {
			return nil, fmt.Errorf("tone %q: bad frequency %q", s, f1)
		}
		if two {
			if st.F2, err = strconv.ParseFloat(f2, 64); err != nil || st.F2 < 0 || st.F2 > 4000 {
				return nil, fmt.Errorf("tone %q: bad frequency %q", s, f2)
			}
		}
		t = append(t, st)
	}
	return t, nil
}

// Period is the length of one cadence; 0 for a steady tone.
func (t Cadence) Period() time.Duration {
	var p time.Duration
	for _, s := range t {
		if s.Dur == 0 {
			return 0
		}
		p += s.Dur
	}
	return p
}

// toneSchemes are the tones of snom's tone_scheme countries, after
// ITU-T E.180 Supplement 2 as Asterisk's indications.conf writes them.
var toneSchemes = map[string]map[ToneKind]string{
	"AUS": {ToneDial: "413+438", ToneRingback: "413+438/400,0/200,413+438/400,0/2000", ToneBusy: "425/375,0/375", ToneCongestion: "425/375,0/375,420/375,0/375", ToneCallWaiting: "425/200,0/200,425/200,0/4400"},
	"AUT": {ToneDial: "420", ToneRingback: "420/1000,0/5000", ToneBusy: "420/400,0/400", ToneCongestion: "420/200,0/200", ToneCallWaiting: "420/40,0/1960"},
	"CHN": {ToneDial: "450", ToneRingback: "450/1000,0/4000", ToneBusy: "450/350,0/350", ToneCongestion: "450/700,0/700", ToneCallWaiting: "450/400,0/4000"},
	"DNK": {ToneDial: "425", ToneRingback: "425/1000,0/4000", ToneBusy: "425/500,0/500", ToneCongestion: "425/200,0/200", ToneCallWaiting: "425/200,0/600,425/200,0/3000"},
	"ESP": {ToneDial: "425", ToneRingback: "425/1500,0/3000", ToneBusy: "425/200,0/200", ToneCongestion: "425/200,0/200,425/200,0/200,425/200,0/600", ToneCallWaiting: "425/175,0/175,425/175,0/3500"},
	"FRA": {ToneDial: "440", ToneRingback: "440/1500,0/3500", ToneBusy: "440/500,0/500", ToneCongestion: "440/250,0/250", ToneCallWaiting: "440/300,0/10000"},
	"GBR": {ToneDial: "350+440", ToneRingback: "400+450/400,0/200,400+450/400,0/2000", ToneBusy: "400/375,0/375", ToneCongestion: "400/400,0/350,400/225,0/525", ToneCallWaiting: "400/100,0/4000"},
	"GER": {ToneDial: "425", ToneRingback: "425/1000,0/4000", ToneBusy: "425/480,0/480", ToneCongestion: "425/240,0/240", ToneCallWaiting: "425/200,0/200,425/200,0/5000"},
	"IND": {ToneDial: "400*25", ToneRingback: "400*25/400,0/200,400*25/400,0/2000", ToneBusy: "400/750,0/750", ToneCongestion: "400/250,0/250", ToneCallWaiting: "400/200,0/100,400/200,0/7500"},
	"ITA": {ToneDial: "425/200,0/200,425/600,0/1000", ToneRingback: "425/1000,0/4000", ToneBusy: "425/500,0/500", ToneCongestion: "425/200,0/200", ToneCallWaiting: "425/400,0/100,425/250,0/100,425/150,0/14000"},
	"JPN": {ToneDial: "400", ToneRingback: "400*16/1000,0/2000", ToneBusy: "400/500,0/500", ToneCongestion: "400/500,0/500", ToneCallWaiting: "400*16/500,0/8000"},
	"MEX": {ToneDial: "425", ToneRingback: "425/1000,0/4000", ToneBusy: "425/250,0/250", ToneCongestion: "425/250,0/250", ToneCallWaiting: "425/200,0/600,425/200,0/10000"},
	"NLD": {ToneDial: "425", ToneRingback: "425/1000,0/4000", ToneBusy: "425/500,0/500", ToneCongestion: "425/250,0/250", ToneCallWaiting: "425/500,0/9500"},
	"NOR": {ToneDial: "425", ToneRingback: "425/1000,0/4000", ToneBusy: "425/500,0/500", ToneCongestion: "425/200,0/200", ToneCallWaiting: "425/200,0/600,425/200,0/10000"},
	"NZL": {ToneDial: "400", ToneRingback: "400+450/400,0/200,400+450/400,0/2000", ToneBusy: "400/500,0/500", ToneCongestion: "400/250,0/250", ToneCallWaiting: "400/200,0/3000"},
	"SWE": {ToneDial: "425", ToneRingback: "425/1000,0/5000", ToneBusy: "425/250,0/250", ToneCongestion: "425/250,0/750", ToneCallWaiting: "425/200,0/500,425/200,0/9100"},
	"SWI": {ToneDial: "425", ToneRingback: "425/1000,0/4000", ToneBusy: "425/500,0/500", ToneCongestion: "425/200,0/200", ToneCallWaiting: "425/200,0/200,425/200,0/4000"},
	"USA": {ToneDial: "350+440", ToneRingback: "440+480/2000,0/4000", ToneBusy: "480+620/500,0/500", ToneCongestion: "480+620/250,0/250", ToneCallWaiting: "440/300,0/10000"},
}

// DefaultToneScheme is snom's default.
const DefaultToneScheme = "GER"

// ToneSchemes lists the tone_scheme values, sorted.
func ToneSchemes() []string {
	var s []string
	for k := range toneSchemes {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// SchemeTone is a country's tone; false for an unknown scheme or kind.
func SchemeTone(scheme string, kind ToneKind) (Cadence, bool) {
	spec, ok := toneSchemes[strings.ToUpper(scheme)][kind]
	if !ok {
		return nil, false
	}
	t, err := ParseTone(spec)
	if err != nil {
		panic(err) // the table is ours: TestSchemesParse keeps it right
	}
	return t, true
}

// toneLevel is each frequency's amplitude: about -16 dBFS, so two added
// stay below -10 dBFS, as network tones are (-10 to -20 dBm0).
const toneLevel = 5000

// ToneSource generates a tone's samples, phase-continuous, cadence
// exact to the sample.
type ToneSource struct {
	tone Cadence
	step int   // index in tone
	left int   // samples left in the step; -1: for ever
	n    int64 // samples since the start (the oscillators' time)
}

// NewToneSource plays t from its start, repeating.
func NewToneSource(t Cadence) *ToneSource {
	s := &ToneSource{tone: t}
	s.enter(0)
	return s
}

func (s *ToneSource) enter(i int) {
	s.step = i
	s.left = -1
	if i < len(s.tone) && s.tone[i].Dur > 0 {
		s.left = int(s.tone[i].Dur * SampleRate / time.Second)
	}
}

func (s *ToneSource) Read(frame []int16) {
	for i := range frame {
		if len(s.tone) == 0 {
			frame[i] = 0
			continue
		}
		for s.left == 0 {
			s.enter((s.step + 1) % len(s.tone))
		}
		st := s.tone[s.step]
		t := float64(s.n) / SampleRate
		var v float64
		switch {
		case st.F1 == 0:
		case st.Mod:
			v = toneLevel * math.Sin(2*math.Pi*st.F1*t) * (1 + 0.9*math.Sin(2*math.Pi*st.F2*t)) / 1.9 * 2
		default:
			v = toneLevel * math.Sin(2*math.Pi*st.F1*t)
			if st.F2 > 0 {
				v += toneLevel * math.Sin(2*math.Pi*st.F2*t)
			}
		}
		frame[i] = clip16(v)
		s.n++
		if s.left > 0 {
			s.left--
		}
	}
}
