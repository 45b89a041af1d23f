package hwtest

import (
	"fmt"
	"strings"

	"phonesim/firmware"
	"phonesim/hw"
)

// ledSteps is what the LED suite puts each LED through.
var ledSteps = []firmware.LED{
	{State: firmware.LEDOn, Color: firmware.Green},
	{State: firmware.LEDOn, Color: firmware.Red},
	{State: firmware.LEDOn, Color: firmware.Orange},
	{State: firmware.LEDSlowBlink, Color: firmware.Green},
	{State: firmware.LEDFastBlink, Color: firmware.Red},
	{},
}

func ledName(l firmware.LED) string {
	if l.State == firmware.LEDOff {
		return "off"
	}
	return l.State.String() + " " + l.Color.String()
}

// LEDs checks function-key LEDs: each LED through on in every colour,
// slow and fast blink and off, read back where the device can; with a
// person, asked to confirm each LED lit and blinking.
func LEDs(l hw.LEDs, p Person) []Finding {
	var out []Finding
	add := func(check string, st Status, format string, args ...any) {
		out = append(out, Finding{Part: "leds", Check: check, Status: st, Detail: fmt.Sprintf(format, args...)})
	}
	indexes := []int{0, 1, 2, 3}
	if ix, ok := l.(interface{ Indexes() []int }); ok {
		indexes = ix.Indexes()
	}
	if len(indexes) == 0 {
		return []Finding{{Part: "leds", Check: "present", Status: Absent, Detail: "no function-key LED"}}
	}
	checker, _ := l.(interface {
		Check(int, firmware.LED) error
	})
	namer, _ := l.(interface{ Names(int) []string })
	for _, i := range indexes {
		key := fmt.Sprintf("P%d", i+1)
		if namer != nil {
			key += " (" + strings.Join(namer.Names(i), ", ") + ")"
		}
		var failed []string
		for _, st := range ledSteps {
			if err := l.SetLED(i, st); err != nil {
				failed = append(failed, ledName(st)+": "+err.Error())
				continue
			}
			if checker != nil {
				if err := checker.Check(i, st); err != nil {
					failed = append(failed, ledName(st)+": "+err.Error())
				}
			}
		}
		switch {
		case len(failed) > 0:
			add(key, Fail, "%s", strings.Join(failed, "; "))
		case checker != nil:
			add(key, Pass, "on in green, red, orange; slow and fast blink; off: each read back")
		default:
			add(key, Pass, "every state set (the device cannot be read back)")
		}
	}
	if p == nil {
		return out
	}
	for _, i := range indexes {
		on := firmware.LED{State: firmware.LEDOn, Color: firmware.Green}
		l.SetLED(i, on)
		ok, err := p.Ask(fmt.Sprintf("Is the LED of P%d lit (green)?", i+1))
		out = append(out, answered("leds", fmt.Sprintf("P%d lit", i+1), ok, err))
		blink := firmware.LED{State: firmware.LEDFastBlink, Color: firmware.Red}
		l.SetLED(i, blink)
		ok, err = p.Ask(fmt.Sprintf("Is the LED of P%d blinking fast (red)?", i+1))
		out = append(out, answered("leds", fmt.Sprintf("P%d blinking", i+1), ok, err))
		l.SetLED(i, firmware.LED{})
	}
	return out
}
