package sipua

import "testing"

// dialogPhone is startPhone with a Config the test adjusts (short
// transaction timeouts, ...).
func dialogPhone(t *testing.T, name string, mode MediaMode, adjust func(*Config)) *phone {
	t.Helper()
	cfg := Config{Media: mode}
	if adjust != nil {
		adjust(&cfg)
	}
	return startPhoneWith(t, name, cfg)
}
