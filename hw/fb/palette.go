package fb

import (
	"encoding/binary"

	"phonesim/display"
)

// numStyles covers display's styles; an unknown style draws as the last.
const numStyles = int(display.LEDOrangeBlink) + 1

type rgb struct{ r, g, b uint8 }

// styleColours maps each display style to ink and paper: light text on a
// dark panel, bars and the cursor reversed, LEDs in their colours.
var styleColours = [numStyles][2]rgb{
	display.Normal:         {{0xe0, 0xe0, 0xe0}, {0x00, 0x00, 0x00}},
	display.Dim:            {{0x80, 0x80, 0x80}, {0x00, 0x00, 0x00}},
	display.Title:          {{0xff, 0xff, 0xff}, {0x00, 0x00, 0x00}},
	display.Selected:       {{0x00, 0x00, 0x00}, {0xe0, 0xe0, 0xe0}},
	display.Bar:            {{0xff, 0xff, 0xff}, {0x20, 0x40, 0x80}},
	display.KeyFace:        {{0xe0, 0xe0, 0xe0}, {0x30, 0x30, 0x30}},
	display.LEDOff:         {{0x50, 0x50, 0x50}, {0x00, 0x00, 0x00}},
	display.LEDGreen:       {{0x00, 0xe0, 0x00}, {0x00, 0x00, 0x00}},
	display.LEDRed:         {{0xf0, 0x00, 0x00}, {0x00, 0x00, 0x00}},
	display.LEDOrange:      {{0xff, 0x90, 0x00}, {0x00, 0x00, 0x00}},
	display.LEDGreenBlink:  {{0x00, 0xe0, 0x00}, {0x00, 0x00, 0x00}},
	display.LEDRedBlink:    {{0xf0, 0x00, 0x00}, {0x00, 0x00, 0x00}},
	display.LEDOrangeBlink: {{0xff, 0x90, 0x00}, {0x00, 0x00, 0x00}},
}

// colours is a style's ink and paper as pixel values (little-endian in
// memory) and bytes.
type colours struct {
	fgv, bgv uint32
	fg, bg   [4]byte
}

func palette(f Format) (p [numStyles]colours) {
	for i, c := range styleColours {
		f.pack(c[0].r, c[0].g, c[0].b, p[i].fg[:])
		f.pack(c[1].r, c[1].g, c[1].b, p[i].bg[:])
		p[i].fgv = binary.LittleEndian.Uint32(p[i].fg[:])
		p[i].bgv = binary.LittleEndian.Uint32(p[i].bg[:])
	}
	return p
}
