// Package board puts a board's hardware together from a profile (which
// devices, which keymap, which LEDs, the display's geometry) and runs it
// as the phone's handset: views in, key presses out, the same shape as
// the terminal handset (display/term).
package board

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

// Profile is one kind of board: where its devices are and how they map
// onto the phone. Empty device fields mean the part is not fitted.
type Profile struct {
	Name  string
	About string
	// Hardware is false for the profiles that have no board devices at
	// all (terminal, headless): the phone draws on the terminal or not at
	// all, and hwtest reports every part absent.
	Hardware bool

	FB         string // framebuffer device (/dev/fb0) or stand-in file
	FBGeometry string // WIDTHxHEIGHTxBPP for a plain file; "" asks the device
	FontScale  int    // pixels per font pixel; 0 picks (see fb.Options)
	Evdev      []string
	Keymap     string // evdev.ParseKeymap over the default keymap
	HookSwitch string // evdev.ParseSwitch: "SW_HEADPHONE_INSERT", "!SW_LID", "none"
	LEDs       string // LED class folder (/sys/class/leds)
	LEDMap     string // sysled.ParseMap; "" finds LEDs named for function keys
	Audio      string // "loopback", or "" for none
}

// RootEnv names the folder of the qemu profile's stand-in devices when
// --root is not given.
const RootEnv = "PHONESIM_BOARD_ROOT"

// BoardEnv names the board when --board is not given.
const BoardEnv = "PHONESIM_BOARD"

var profiles = map[string]Profile{
	"generic": {
		Name:     "generic",
		About:    "a Linux board: /dev/fb0, every /dev/input/event*, LEDs in /sys/class/leds named for function keys",
		Hardware: true,
		FB:       "/dev/fb0",
		Evdev:    []string{"/dev/input/event*"},
		LEDs:     "/sys/class/leds",
	},
	"qemu": {
		Name:       "qemu",
		About:      "stand-in devices in a folder (--root or " + RootEnv + "): fb0 (480x272x16), event0, leds/; audio loopback",
		Hardware:   true,
		FB:         "fb0",
		FBGeometry: "480x272x16",
		Evdev:      []string{"event0"},
		LEDs:       "leds",
		Audio:      "loopback",
	},
	"terminal": {Name: "terminal", About: "the handset drawn in a terminal (no board hardware)"},
	"headless": {Name: "headless", About: "no handset: driven over HTTP (no board hardware)"},
}

// Names lists the profiles.
func Names() []string {
	var n []string
	for k := range profiles {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Lookup returns the profile called name.
func Lookup(name string) (Profile, error) {
	p, ok := profiles[strings.ToLower(name)]
	if !ok {
		return Profile{}, fmt.Errorf("board: no profile %q (have %s)", name, strings.Join(Names(), ", "))
	}
	p.Evdev = append([]string(nil), p.Evdev...)
	return p, nil
}

// Options are the command-line settings that pick and adjust a profile;
// `phonesim hwtest` and the phone share them.
type Options struct {
	Board      string
	Root       string
	FB         string
	FBGeometry string
	FontScale  int
	Evdev      []string
	Keymap     string
	HookSwitch string
	LEDs       string
	LEDMap     string
	Audio      string

	fs *pflag.FlagSet
}

// AddFlags registers the board flags on fs. def is the board used when
// neither --board nor PHONESIM_BOARD names one.
func (o *Options) AddFlags(fs *pflag.FlagSet, def string) {
	o.fs = fs
	fs.StringVar(&o.Board, "board", def, "hardware profile `NAME`: "+strings.Join(Names(), ", ")+" (env "+BoardEnv+")")
	fs.StringVar(&o.Root, "root", "", "`DIR` of stand-in devices: relative device paths of the profile are taken from here (qemu; env "+RootEnv+")")
	fs.StringVar(&o.FB, "fb", "", "framebuffer device or stand-in `FILE` (overrides the profile; \"none\": no display)")
	fs.StringVar(&o.FBGeometry, "fb-geometry", "", "`WxHxBPP` of a framebuffer stand-in file that has no ioctls (320x240x16, 480x272x32)")
	fs.IntVar(&o.FontScale, "font-scale", 0, "pixels per font pixel on the framebuffer (`N`; 0: the largest that fits the handset picture)")
	fs.StringArrayVar(&o.Evdev, "evdev", nil, "input device or recorded stream `FILE` (/dev/input/event0; a glob; repeatable; \"none\": no keys)")
	fs.StringVar(&o.Keymap, "keymap", "", "key codes to phone keys over the default map: `CODE=KEY,...` (KEY_F5=P1,KEY_A=DND,0x2c=MUTE; \"only,...\" replaces it)")
	fs.StringVar(&o.HookSwitch, "hook-switch", "", "the hook switch: an EV_SW `CODE` (SW_HEADPHONE_INSERT, set = lifted; \"!SW_LID\": set = on hook; \"none\")")
	fs.StringVar(&o.LEDs, "leds", "", "LED class `DIR` (/sys/class/leds, or a stand-in folder; \"none\": no LEDs)")
	fs.StringVar(&o.LEDMap, "led-map", "", "function-key LEDs: `KEY[:COLOUR]=NAME,...` (P1=phone:green:p1; default: LEDs named ...:pN or fkeyN)")
	fs.StringVar(&o.Audio, "audio", "", "audio device: `KIND` loopback or none (default: the profile's)")
}

func (o *Options) changed(name string) bool { return o.fs != nil && o.fs.Changed(name) }

// Chosen reports whether the command line or the environment asked for
// board hardware: --board or PHONESIM_BOARD, or a device flag. The phone
// uses it to keep its terminal/headless default when nothing was asked.
func (o *Options) Chosen() bool {
	if os.Getenv(BoardEnv) != "" {
		return true
	}
	for _, f := range []string{"board", "fb", "evdev", "leds", "audio"} {
		if o.changed(f) {
			return true
		}
	}
	return false
}

// Profile returns the chosen profile with the flags laid over it and
// relative device paths resolved against the root folder.
func (o *Options) Profile() (Profile, error) {
	name := o.Board
	if !o.changed("board") {
		if env := os.Getenv(BoardEnv); env != "" {
			name = env
		}
	}
	if name == "" {
		name = "generic"
	}
	p, err := Lookup(name)
	if err != nil {
		return Profile{}, err
	}
	override := func(flag, v string, dst *string) {
		if o.changed(flag) || (o.fs == nil && v != "") {
			if strings.EqualFold(v, "none") {
				v = ""
			}
			*dst = v
			p.Hardware = true
		}
	}
	override("fb", o.FB, &p.FB)
	override("fb-geometry", o.FBGeometry, &p.FBGeometry)
	override("keymap", o.Keymap, &p.Keymap)
	override("hook-switch", o.HookSwitch, &p.HookSwitch)
	override("leds", o.LEDs, &p.LEDs)
	override("led-map", o.LEDMap, &p.LEDMap)
	override("audio", o.Audio, &p.Audio)
	if o.changed("font-scale") || (o.fs == nil && o.FontScale != 0) {
		p.FontScale = o.FontScale
	}
	if o.changed("evdev") || (o.fs == nil && len(o.Evdev) > 0) {
		p.Evdev = nil
		for _, e := range o.Evdev {
			if !strings.EqualFold(e, "none") {
				p.Evdev = append(p.Evdev, e)
			}
		}
		p.Hardware = true
	}
	if p.Audio != "" && p.Audio != "loopback" {
		return Profile{}, fmt.Errorf("board: audio %q: only loopback is built in (see docs/boards.md)", p.Audio)
	}

	root := o.Root
	if root == "" {
		root = os.Getenv(RootEnv)
	}
	needsRoot := false
	resolve := func(path string) string {
		if path == "" || filepath.IsAbs(path) {
			return path
		}
		if root == "" {
			needsRoot = true
			return path
		}
		return filepath.Join(root, path)
	}
	if p.Name == "qemu" || root != "" {
		p.FB, p.LEDs = resolve(p.FB), resolve(p.LEDs)
		for i, e := range p.Evdev {
			p.Evdev[i] = resolve(e)
		}
	}
	if needsRoot {
		return Profile{}, errors.New("board: the " + p.Name + " profile's devices are relative: give --root DIR or " + RootEnv)
	}
	return p, nil
}
