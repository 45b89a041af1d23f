package webui

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"phonesim/firmware"
)

// hold=MS holds the request's keys, wherever it stands in the query.
func TestCommandHold(t *testing.T) {
	evs, err := parseCommand("hold=1500&key=P3")
	require.NoError(t, err)
	assert.Equal(t, []firmware.Event{firmware.KeyPressed{Key: "P3", Held: 1500 * time.Millisecond}}, evs)

	evs, err = parseCommand("key=P3;P4&hold=200")
	require.NoError(t, err)
	assert.Equal(t, []firmware.Event{firmware.KeyPressed{Key: "P3", Held: 200 * time.Millisecond},
		firmware.KeyPressed{Key: "P4", Held: 200 * time.Millisecond}}, evs)

	for _, bad := range []string{"key=P3&hold=x", "key=P3&hold=-1", "key=P3&hold=600000"} {
		_, err := parseCommand(bad)
		assert.ErrorContains(t, err, "hold=", bad)
	}
	assert.Equal(t, []string{"key P3 (long press)"}, describe([]firmware.Event{firmware.KeyPressed{Key: "P3", Held: time.Second}}))
}
