package webui

import (
	"fmt"
	"net"
	"strings"
)

// CheckListen reports whether the web interface may listen on addr: without
// a password (http_pass) only a loopback address is allowed, so the phone
// can never be remote-controlled from the network by anyone. "off" is the
// caller's to handle.
func CheckListen(addr, pass string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("webui: bad listen address %q: %w", addr, err)
	}
	if pass != "" {
		return nil
	}
	if isLoopback(host) {
		return nil
	}
	what := "address " + addr
	if host == "" {
		what = "every interface (" + addr + ")"
	}
	return fmt.Errorf("webui: refusing to serve the web interface on %s without a password: set http_pass, or listen on a loopback address such as 127.0.0.1:8080", what)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
