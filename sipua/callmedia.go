package sipua

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"phonesim/firmware"
	"phonesim/provisioning"
	"phonesim/sipua/media"
)

// The media side of calls: settings (codecs, tones, microphone file,
// recording), the per-call session set-up the call code hooks in
// (listenMedia, checkOffer), and what others drive: recording on and off,
// a local tone. See docs/media.md.

// MediaConfig is what the media settings say.
type MediaConfig struct {
	// Codecs is codec_priority_list per identity (1–12), snom's form:
	// "pcmu,pcma,telephone-event". Missing or empty: PCMU, PCMA,
	// telephone-event.
	Codecs map[int]string
	// ToneScheme is tone_scheme (USA, GER, GBR …); empty: GER.
	ToneScheme string
	// AudioIn is audio_in_file: a WAV file (16-bit PCM, mono, 8 or
	// 16 kHz) sent, looped, as the microphone. Empty: the UA's
	// MediaMode (a tone or silence). An echo phone ignores it.
	AudioIn string
	// Record is record_calls: every call is recorded from its start.
	Record bool
	// RecordDir is record_dir; empty: "recordings" in the working
	// directory.
	RecordDir string
}

// DefaultRecordDir is where recordings go when record_dir is empty.
const DefaultRecordDir = "recordings"

// MediaConfigFrom reads the media settings through get, a settings'
// Get (provisioning.Settings.Get).
func MediaConfigFrom(get func(name string) string) MediaConfig {
	cfg := MediaConfig{
		Codecs:     map[int]string{},
		ToneScheme: get("tone_scheme"),
		AudioIn:    get("audio_in_file"),
		Record:     isOn(get("record_calls")),
		RecordDir:  get("record_dir"),
	}
	for i := 1; i <= provisioning.MaxIdentities; i++ {
		if v := get(fmt.Sprintf("codec_priority_list%d", i)); v != "" {
			cfg.Codecs[i] = v
		}
	}
	return cfg
}

func isOn(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "true", "1", "yes":
		return true
	}
	return false
}

// mediaState is the UA's media settings in force (UA.media).
type mediaState struct {
	mu  sync.Mutex // serializes SetMediaConfig
	cur atomic.Pointer[mediaSettings]
}

type mediaSettings struct {
	cfg    MediaConfig
	prefs  [provisioning.MaxIdentities + 1]codecPrefs
	audio  *media.Audio // the microphone file, decoded; nil: none
	scheme string
}

var defaultMediaSettings = &mediaSettings{scheme: media.DefaultToneScheme}

func (u *UA) mediaSettings() *mediaSettings {
	if m := u.media.cur.Load(); m != nil {
		return m
	}
	return defaultMediaSettings
}

func (m *mediaSettings) prefsFor(identity int) codecPrefs {
	if identity < 1 || identity > provisioning.MaxIdentities {
		identity = 1
	}
	return m.prefs[identity]
}

// SetMediaConfig puts media settings in force for the calls that start
// from now on; calls in progress keep theirs. The microphone file is
// read here: when it cannot be played the error says why, and calls send
// the MediaMode's signal instead. Codecs phonesim lacks (g722, g729 …)
// are left out of the lists with a log line. Calling it again with the
// same settings does nothing.
func (u *UA) SetMediaConfig(cfg MediaConfig) error {
	u.media.mu.Lock()
	defer u.media.mu.Unlock()
	old := u.media.cur.Load()
	if old != nil && sameMediaConfig(old.cfg, cfg) {
		return nil
	}
	m := &mediaSettings{cfg: cfg, scheme: strings.ToUpper(strings.TrimSpace(cfg.ToneScheme))}
	if m.scheme == "" {
		m.scheme = media.DefaultToneScheme
	}
	if _, ok := media.SchemeTone(m.scheme, media.ToneDial); !ok {
		u.logf(firmware.Warning, "media: tone_scheme %q unknown (have %s); using %s", cfg.ToneScheme, strings.Join(media.ToneSchemes(), ", "), media.DefaultToneScheme)
		m.scheme = media.DefaultToneScheme
	}
	for i := 1; i <= provisioning.MaxIdentities; i++ {
		p, skipped := parseCodecList(cfg.Codecs[i])
		m.prefs[i] = p
		if len(skipped) > 0 {
			u.logf(firmware.Notice, "media: codec_priority_list%d: %s not supported by phonesim, left out", i, strings.Join(skipped, ", "))
		}
		if v := cfg.Codecs[i]; v != "" && len(p.codecs) == 0 {
			u.logf(firmware.Warning, "media: codec_priority_list%d names no codec phonesim has (pcmu, pcma): using pcmu, pcma", i)
		}
	}
	var err error
	switch {
	case cfg.AudioIn == "":
	case old != nil && old.cfg.AudioIn == cfg.AudioIn && old.audio != nil:
		m.audio = old.audio
	default:
		m.audio, err = media.LoadWAV(cfg.AudioIn)
		if err != nil {
			err = fmt.Errorf("audio_in_file: %w", err)
			u.logf(firmware.Error, "media: %v; calls send the %s instead", err, u.cfg.Media)
		} else {
			u.logf(firmware.Info, "media: microphone is %s (%.1f s, %d Hz)", cfg.AudioIn, m.audio.Duration(), m.audio.Rate)
		}
	}
	u.media.cur.Store(m)
	return err
}

func sameMediaConfig(a, b MediaConfig) bool {
	if a.ToneScheme != b.ToneScheme || a.AudioIn != b.AudioIn || a.Record != b.Record || a.RecordDir != b.RecordDir || len(a.Codecs) != len(b.Codecs) {
		return false
	}
	for k, v := range a.Codecs {
		if w, ok := b.Codecs[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// identityOf is the identity an incoming call is for: the lowest whose
// user_name is the request's user, else identity 1.
func (u *UA) identityOf(user string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	best := 0
	for id, a := range u.accounts {
		if a.User == user && (best == 0 || id < best) {
			best = id
		}
	}
	if best == 0 {
		return 1
	}
	return best
}

// checkOffer tells whether an incoming INVITE's offer has something the
// called identity's codecs can take; the error wraps errNotAcceptable
// (the INVITE handler answers 488).
func (u *UA) checkOffer(req *sip.Request, offer []byte) error {
	return checkOffer(offer, u.mediaSettings().prefsFor(u.identityOf(req.Recipient.User)))
}

// mediaIdentity is the identity whose settings the call's media follows.
func (c *call) mediaIdentity() int {
	if c.incoming {
		if c.invite != nil {
			return c.u.identityOf(c.invite.Recipient.User)
		}
		return 1
	}
	return c.identity
}

// listenMedia makes the call's media session: sockets, the codecs our
// SDP offers and takes, the microphone, recording when record_calls is
// on, and the statistics line at hang-up.
func (c *call) listenMedia() (*media.Session, error) {
	sess, err := media.Listen(c.u.bindIP)
	if err != nil {
		return nil, err
	}
	m := c.u.mediaSettings()
	c.sdp.prefs = m.prefsFor(c.mediaIdentity())
	if m.audio != nil && c.u.cfg.Media != MediaEcho {
		sess.SetSource(media.NewLoop(m.audio))
	}
	sess.OnClose(c.logMediaEnd)
	if m.cfg.Record {
		if path, err := startRecording(sess, m.cfg.RecordDir, c.id); err != nil {
			c.logf(firmware.Warning, "recording: %v", err)
		} else {
			c.logf(firmware.Info, "recording to %s", path)
		}
	}
	return sess, nil
}

// logMediaEnd writes the call's media statistics when its session ends.
func (c *call) logMediaEnd(st media.Stats) {
	var b strings.Builder
	fmt.Fprintf(&b, "media: %s; sent %d packets (%d bytes), received %d (%d bytes); lost %d (%.1f %% with %d late), jitter %.2f ms",
		st.Codec, st.PacketsSent, st.BytesSent, st.PacketsReceived, st.BytesReceived, max(st.PacketsLost, 0), st.LossPercent, st.Late, st.JitterMs)
	if st.PacketsReceived > 0 {
		fmt.Fprintf(&b, ", MOS %.2f", st.MOS)
	}
	if st.RTTMs > 0 {
		fmt.Fprintf(&b, ", RTT %.1f ms", st.RTTMs)
	}
	if st.RemoteReport {
		fmt.Fprintf(&b, "; the other side lost %d, jitter %.2f ms", st.RemoteLost, st.RemoteJitterMs)
	}
	if st.PacketsDropped > 0 {
		d := st.Dropped
		fmt.Fprintf(&b, "; dropped %d (version %d, malformed %d, payload type %d, source %d)", st.PacketsDropped, d.Version, d.Malformed, d.PayloadType, d.Source)
	}
	if st.Recording != "" {
		fmt.Fprintf(&b, "; recorded to %s", st.Recording)
	}
	c.logf(firmware.Info, "%s", b.String())
}

// startRecording starts sess recording into dir, in a file named for the
// time and the call.
func startRecording(sess *media.Session, dir string, id firmware.CallID) (string, error) {
	if dir == "" {
		dir = DefaultRecordDir
	}
	name := time.Now().Format("20060102-150405") + "-" + safeName(string(id))
	var err error
	for i := 1; i <= 20; i++ {
		path := filepath.Join(dir, name+".wav")
		if i > 1 {
			path = filepath.Join(dir, fmt.Sprintf("%s-%d.wav", name, i))
		}
		if err = sess.StartRecording(path); err == nil || !errors.Is(err, os.ErrExist) {
			return path, err
		}
	}
	return "", err
}

func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// ErrNoMedia: the call has no media session (unknown, ended, or not yet
// set up).
var ErrNoMedia = errors.New("sipua: the call has no media")

func (u *UA) session(id firmware.CallID) *media.Session {
	u.mu.Lock()
	c := u.calls[id]
	u.mu.Unlock()
	if c == nil {
		return nil
	}
	return c.sess.Load()
}

// StartRecording records a call (both directions, a stereo WAV file:
// left sent, right received) into record_dir and returns the file.
func (u *UA) StartRecording(id firmware.CallID) (string, error) {
	s := u.session(id)
	if s == nil {
		return "", ErrNoMedia
	}
	path, err := startRecording(s, u.mediaSettings().cfg.RecordDir, id)
	if err == nil {
		u.logf(firmware.Info, "sip: call %s: recording to %s", id, path)
	}
	return path, err
}

// StopRecording ends a call's recording and returns its file.
func (u *UA) StopRecording(id firmware.CallID) (string, error) {
	s := u.session(id)
	if s == nil {
		return "", ErrNoMedia
	}
	path, err := s.StopRecording()
	if err == nil {
		u.logf(firmware.Info, "sip: call %s: recording stopped: %s", id, path)
	}
	return path, err
}

// ToneKind names a call-progress tone of the tone scheme.
type ToneKind = media.ToneKind

const (
	ToneNone        = media.ToneNone
	ToneDial        = media.ToneDial
	ToneRingback    = media.ToneRingback
	ToneBusy        = media.ToneBusy
	ToneCongestion  = media.ToneCongestion
	ToneCallWaiting = media.ToneCallWaiting
)

// SetLocalTone plays a tone of the tone scheme into a call's playout
// (what the user hears), never onto the wire: the call-waiting tone over
// a connected call while a second one rings. ToneNone stops it.
func (u *UA) SetLocalTone(id firmware.CallID, kind ToneKind) error {
	s := u.session(id)
	if s == nil {
		return ErrNoMedia
	}
	if kind == ToneNone {
		s.SetLocalTone(nil)
		return nil
	}
	t, ok := media.SchemeTone(u.mediaSettings().scheme, kind)
	if !ok {
		return fmt.Errorf("sipua: no %s tone", kind)
	}
	s.SetLocalTone(media.NewToneSource(t))
	return nil
}

// LocalTone is a tone of the UA's tone scheme as a sample stream, for a
// hardware layer's loudspeaker (dial tone before any call exists).
func (u *UA) LocalTone(kind ToneKind) (*media.ToneSource, bool) {
	t, ok := media.SchemeTone(u.mediaSettings().scheme, kind)
	if !ok {
		return nil, false
	}
	return media.NewToneSource(t), true
}
