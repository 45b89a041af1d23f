//go:build interop

package interop

import (
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"phonesim/sipua/media"
)

// liveCalls returns a phone's calls that have not ended.
func liveCalls(p *Phone) []Call {
	var out []Call
	for _, c := range p.State().Calls {
		if c.State != "ended" {
			out = append(out, c)
		}
	}
	return out
}

// waitOnly waits until a phone's only live call is connected to a remote
// containing who.
func waitOnly(t *testing.T, p *Phone, name, who string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		cs := liveCalls(p)
		if len(cs) == 1 && cs[0].State == "connected" && strings.Contains(cs[0].Remote, who) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: want one connected call with %s, have %+v", name, who, cs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Attended transfer among three phonesim phones: A calls B, B holds A and
// calls C, then Transfer twice: A gets the REFER with Replaces, calls C,
// C takes the new call in place of B's, and B is left with nothing.
func TestAttendedTransferThreePhones(t *testing.T) {
	t.Parallel()
	hooks := newHookLog(t)
	a := StartPhone(t, "-s", "user_name1=a")
	b := StartPhone(t, "-s", "user_name1=b",
		"-s", "action_attended_transfer="+hooks.URL+"/att?r=$remote",
		"-s", "action_transfer="+hooks.URL+"/xfer")
	c := StartPhone(t, "-s", "user_name1=c")

	a.Command("number=" + url.QueryEscape("sip:b@"+b.SIPAddr))
	b.WaitCall("ringing", 10*time.Second)
	b.Command("key=ENTER")
	a.WaitCall("connected", 5*time.Second)
	b.Command("key=HOLD")
	b.WaitCall("on-hold", 5*time.Second)

	b.Command("number=" + url.QueryEscape("sip:c@"+c.SIPAddr))
	c.WaitCall("ringing", 10*time.Second)
	c.Command("key=ENTER")
	b.WaitCall("connected", 5*time.Second)

	b.Command("key=TRANSFER;TRANSFER")

	b.WaitNoCalls(10 * time.Second)
	waitOnly(t, a, "A", "c@", 10*time.Second)
	waitOnly(t, c, "C", "a@", 10*time.Second)
	got := hooks.wait(t, 2, "transfer URLs")
	if got[0].Path != "/xfer" || got[1].Path != "/att" || !strings.Contains(got[1].Query.Get("r"), "sip:a@") {
		t.Errorf("transfer URLs: %+v", got)
	}

	a.Command("key=ONHOOK")
	a.WaitNoCalls(5 * time.Second)
	c.WaitNoCalls(5 * time.Second)
}

// toneWAV writes 2 s of a sine at hz and returns its path.
func toneWAV(t *testing.T, hz float64) string {
	t.Helper()
	s := make([]int16, 16000)
	for i := range s {
		s[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/8000))
	}
	path := filepath.Join(t.TempDir(), fmt.Sprintf("tone%v.wav", hz))
	if err := media.WriteWAV(path, 8000, s); err != nil {
		t.Fatal(err)
	}
	return path
}

// goertzelPower is the relative power of hz in s (1 = full-scale sine).
func goertzelPower(s []int16, hz float64) float64 {
	k := 2 * math.Cos(2*math.Pi*hz/8000)
	var s1, s2 float64
	for _, v := range s {
		s0 := float64(v) + k*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - k*s1*s2
	n := float64(len(s))
	return p / (n * n / 4 * 32768 * 32768)
}

// received reads the right channel (what was heard) of the one recording
// in dir.
func received(t *testing.T, dir string) []int16 {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.wav"))
	if len(files) != 1 {
		t.Fatalf("recordings in %s: %v", dir, files)
	}
	_, right, _, err := media.ReadStereoWAV(files[0])
	if err != nil {
		t.Fatal(err)
	}
	return right
}

// A local three-way conference on B: A (1000 Hz) and C (1500 Hz) each
// hear B's microphone (400 Hz) and the other party, in the RTP they
// receive (their recordings).
func TestConferenceThreePhones(t *testing.T) {
	t.Parallel()
	recA, recC := t.TempDir(), t.TempDir()
	a := StartPhone(t, "-s", "user_name1=a", "--audio-in", toneWAV(t, 1000), "-s", "record_calls=on", "-s", "record_dir="+recA)
	b := StartPhone(t, "-s", "user_name1=b", "--audio-in", toneWAV(t, 400))
	c := StartPhone(t, "-s", "user_name1=c", "--audio-in", toneWAV(t, 1500), "-s", "record_calls=on", "-s", "record_dir="+recC)

	a.Command("number=" + url.QueryEscape("sip:b@"+b.SIPAddr))
	b.WaitCall("ringing", 10*time.Second)
	b.Command("key=ENTER")
	a.WaitCall("connected", 5*time.Second)
	b.Command("key=HOLD")
	b.WaitCall("on-hold", 5*time.Second)
	b.Command("number=" + url.QueryEscape("sip:c@"+c.SIPAddr))
	c.WaitCall("ringing", 10*time.Second)
	c.Command("key=ENTER")
	b.WaitCall("connected", 5*time.Second)

	b.Command("key=CONFERENCE")
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := 0
		for _, cl := range b.State().Calls {
			if cl.State == "connected" {
				n++
			}
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B: calls not both connected: %+v", b.State().Calls)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	a.Command("key=ONHOOK")
	c.Command("key=ONHOOK")
	a.WaitNoCalls(5 * time.Second)
	c.WaitNoCalls(5 * time.Second)
	b.WaitNoCalls(5 * time.Second)
	time.Sleep(300 * time.Millisecond) // the recordings are closed

	check := func(who string, pcm []int16, present, absent []float64) {
		t.Helper()
		if len(pcm) < 8000 {
			t.Fatalf("%s: %d samples recorded", who, len(pcm))
		}
		tail := pcm[len(pcm)-6400 : len(pcm)-1600] // the last second but 200 ms
		for _, hz := range present {
			if p := goertzelPower(tail, hz); p < 0.002 {
				t.Errorf("%s: %v Hz power %.5f, want it heard", who, hz, p)
			}
		}
		for _, hz := range absent {
			if p := goertzelPower(tail, hz); p > 0.0005 {
				t.Errorf("%s: %v Hz power %.5f, want it absent", who, hz, p)
			}
		}
	}
	check("A", received(t, recA), []float64{400, 1500}, []float64{1000})
	check("C", received(t, recC), []float64{400, 1000}, []float64{1500})
}
