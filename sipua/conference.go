package sipua

import (
	"phonesim/firmware"
	"phonesim/sipua/media"
)

// A local three-way conference (firmware.Conference): the two calls'
// media sessions are joined by a media.Mixer, so each party hears the
// other and our microphone. The sessions are reached through their atomic
// pointers; the mixer runs on their pacers.

// micSource is a new microphone as listenMedia gives a call: the
// --audio-in recording, else (nil) the mode's tone or silence.
func (u *UA) micSource() media.Source {
	if m := u.mediaSettings(); m.audio != nil && u.cfg.Media != MediaEcho {
		return media.NewLoop(m.audio)
	}
	return nil
}

// mixerMic is the microphone the mixer reads: micSource, or the test
// tone MediaTone phones send.
func (u *UA) mixerMic() media.Source {
	if src := u.micSource(); src != nil {
		return src
	}
	if u.cfg.Media == MediaTone {
		return &media.TestTone{}
	}
	return nil
}

func (c *call) otherSession(id firmware.CallID) *media.Session {
	c.u.mu.Lock()
	o := c.u.calls[id]
	c.u.mu.Unlock()
	if o == nil {
		return nil
	}
	return o.sess.Load()
}

// conference joins c's media with e.With's.
func (c *call) conference(e firmware.Conference) {
	a, b := c.sess.Load(), c.otherSession(e.With)
	if a == nil || b == nil || a == b {
		c.logf(firmware.Warning, "conference: no media to join with %s", e.With)
		return
	}
	m := media.NewMixer(c.u.mixerMic())
	a.SetSource(m.Source(0))
	a.SetPlayout(m.Input(0))
	b.SetSource(m.Source(1))
	b.SetPlayout(m.Input(1))
	c.logf(firmware.Info, "conference: mixing with %s", e.With)
}

// splitConference gives each call its own audio again.
func (c *call) splitConference(e firmware.SplitConference) {
	for _, s := range []*media.Session{c.sess.Load(), c.otherSession(e.With)} {
		if s != nil {
			s.SetSource(c.u.micSource())
			s.SetPlayout(nil)
		}
	}
	c.logf(firmware.Info, "conference: split from %s", e.With)
}
