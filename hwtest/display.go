package hwtest

import (
	"fmt"
	"time"

	"phonesim/display"
	"phonesim/firmware"
	"phonesim/hw"
	"phonesim/hw/board"
	"phonesim/keypad"
)

// Display checks a display: it takes frames of its size, a test picture
// and the handset picture; where the device can, that they read back as
// drawn and that a redraw writes only what changed.
func Display(d hw.Display, p Person) []Finding {
	var out []Finding
	add := func(check string, st Status, format string, args ...any) {
		out = append(out, Finding{Part: "display", Check: check, Status: st, Detail: fmt.Sprintf(format, args...)})
	}
	cols, rows := d.Size()
	if cols < 1 || rows < 1 {
		add("size", Fail, "%dx%d cells", cols, rows)
		return out
	}
	desc := fmt.Sprintf("%dx%d cells", cols, rows)
	if ds, ok := d.(interface{ Describe() string }); ok {
		desc = ds.Describe()
	}
	if cols < display.MinWidth || rows < display.MinHeight {
		desc += fmt.Sprintf("; below %dx%d: the display area alone is shown", display.MinWidth, display.MinHeight)
	}
	add("size", Pass, "%s", desc)

	verifier, _ := d.(interface{ Verify() error })
	verify := func(what string) {
		if verifier == nil {
			add(what+" read back", Skip, "the device cannot be read back")
			return
		}
		if err := verifier.Verify(); err != nil {
			add(what+" read back", Fail, "%v", err)
			return
		}
		add(what+" read back", Pass, "every pixel as drawn")
	}

	pattern := TestPicture(cols, rows)
	if err := d.Show(pattern); err != nil {
		add("test picture", Fail, "%v", err)
		return out
	}
	add("test picture", Pass, "every printable ASCII character, every style, box lines, LED glyphs")
	verify("test picture")

	if counter, ok := d.(interface{ Written() int64 }); ok {
		before := counter.Written()
		if err := d.Show(pattern); err != nil {
			add("partial redraw", Fail, "%v", err)
		} else if n := counter.Written() - before; n != 0 {
			add("partial redraw", Fail, "an unchanged frame wrote %d bytes", n)
		} else {
			changed := *pattern
			changed.Cells = append([]display.Cell(nil), pattern.Cells...)
			changed.Cells[0] = display.Cell{Rune: '#', Style: display.Selected}
			before = counter.Written()
			full := before // the first Show wrote the whole screen at most
			if err := d.Show(&changed); err != nil {
				add("partial redraw", Fail, "%v", err)
			} else if n := counter.Written() - before; n <= 0 || n*int64(cols*rows) > full*4 {
				add("partial redraw", Fail, "one changed cell wrote %d bytes (the screen: %d)", n, full)
			} else {
				add("partial redraw", Pass, "an unchanged frame writes nothing, one changed cell %d bytes", n)
			}
		}
	} else {
		add("partial redraw", Skip, "the device does not count its writes")
	}

	if err := d.Show(board.Frame(SampleView(), cols, rows, display.Options{})); err != nil {
		add("handset picture", Fail, "%v", err)
		return out
	}
	add("handset picture", Pass, "an idle phone with three lit keys")
	verify("handset picture")

	if p != nil {
		d.Show(pattern)
		ok, err := p.Ask("Does the display show the test picture: \"phonesim hwtest\" at the top, the alphabet, a green, a red and an orange dot, a box?")
		out = append(out, answered("display", "a person sees the test picture", ok, err))
		d.Show(board.Frame(SampleView(), cols, rows, display.Options{}))
	}
	return out
}

// answered turns a person's answer into a finding.
func answered(part, check string, yes bool, err error) Finding {
	switch {
	case err != nil:
		return Finding{Part: part, Check: check, Status: Skip, Detail: "no answer: " + err.Error()}
	case yes:
		return Finding{Part: part, Check: check, Status: Pass, Detail: "confirmed"}
	}
	return Finding{Part: part, Check: check, Status: Fail, Detail: "the person said no"}
}

// TestPicture is the display check's frame: a title, every printable
// ASCII character, each style, a box and the LED glyphs, wrapped to the
// grid.
func TestPicture(cols, rows int) *display.Frame {
	f := &display.Frame{W: cols, H: rows, Cells: make([]display.Cell, cols*rows)}
	for i := range f.Cells {
		f.Cells[i] = display.Cell{Rune: ' '}
	}
	x, y := 0, 0
	put := func(s string, st display.Style) {
		for _, r := range s {
			if r == '\n' || x >= cols {
				x, y = 0, y+1
				if r == '\n' {
					continue
				}
			}
			if y >= rows {
				return
			}
			f.Cells[y*cols+x] = display.Cell{Rune: r, Style: st}
			x++
		}
	}
	put("phonesim hwtest\n", display.Title)
	ascii := make([]rune, 0, 95)
	for r := rune(' '); r < 0x7f; r++ {
		ascii = append(ascii, r)
	}
	put(string(ascii)+"\n", display.Normal)
	put(" bar ", display.Bar)
	put(" ", display.Normal)
	put(" selected ", display.Selected)
	put(" ", display.Normal)
	put("[ key ]", display.KeyFace)
	put(" dim\n", display.Dim)
	put("●", display.LEDGreen)
	put(" ", display.Normal)
	put("●", display.LEDRed)
	put(" ", display.Normal)
	put("●", display.LEDOrange)
	put(" ◐ ○ ▲▼◀▶ ✓✗…\n", display.LEDOff)
	put("┌──┐\n│  │\n└──┘\n", display.Normal)
	return f
}

// SampleView is an idle, registered phone with three function keys lit,
// for the handset picture check.
func SampleView() firmware.View {
	id := firmware.IdentityView{Index: 1, User: "100", Host: "pbx.example.com", Display: "hwtest", Registered: true}
	keys := make([]firmware.KeyView, keypad.BaseFunctionKeys)
	keys[0] = firmware.KeyView{Label: "Line 1", Kind: "line", LED: firmware.LED{State: firmware.LEDOn, Color: firmware.Green}}
	keys[1] = firmware.KeyView{Label: "Alice", Kind: "blf", LED: firmware.LED{State: firmware.LEDOn, Color: firmware.Red}}
	keys[2] = firmware.KeyView{Label: "Voicemail", Kind: "speed", LED: firmware.LED{State: firmware.LEDOn, Color: firmware.Orange}}
	return firmware.View{
		Now:      time.Date(2025, time.March, 14, 9, 26, 0, 0, time.UTC),
		Identity: id, Identities: []firmware.IdentityView{id}, Keys: keys,
		Softkeys: [4]string{"Menu", "Missed", "DND", "Fwd"}, Volume: 5,
	}
}
