package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"phonesim/device"
	"phonesim/phonelog"
	"phonesim/provisioning"
)

// webWith starts a phone's web interface with limits of the test's.
func webWith(t *testing.T, l webLimitSet) string {
	t.Helper()
	old := webLimits
	webLimits = l
	t.Cleanup(func() { webLimits = old })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := provisioning.New()
	phone, err := device.New(device.Config{Settings: s, SIP: "127.0.0.1:0", Log: phonelog.New(200, time.Now)})
	if err != nil {
		t.Fatal(err)
	}
	if err := phone.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); <-phone.Done() })
	srv, addr, err := serveWeb(ctx, "127.0.0.1:0", phone, phone.Settings())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return addr
}

func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue // a response (408 to a half request): read on to the close
		}
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout())
	}
}

// Idle and half-sent connections to the web port are closed; with the
// connection cap reached, the page still answers once they go; the
// event stream outlives the read and write timeouts.
func TestWebConnectionLimits(t *testing.T) {
	l := webLimitSet{header: 300 * time.Millisecond, read: 400 * time.Millisecond, write: 400 * time.Millisecond,
		idle: 300 * time.Millisecond, maxHeader: 4 << 10, maxConns: 8}
	addr := webWith(t, l)
	dial := func() net.Conn {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	// Nothing sent; half a request; a finished request kept alive.
	silent, half, kept := dial(), dial(), dial()
	fmt.Fprintf(half, "GET /api/state HTTP/1.1\r\nHost: %s\r\n", addr)
	fmt.Fprintf(kept, "GET /api/state HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	res, err := http.ReadResponse(bufio.NewReader(kept), nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("state: %v %v", res, err)
	}
	for name, c := range map[string]net.Conn{"silent": silent, "half": half, "kept-alive": kept} {
		if !closedWithin(c, 3*time.Second) {
			t.Errorf("%s connection still open", name)
		}
	}

	// Headers over MaxHeaderBytes: refused.
	big := dial()
	fmt.Fprintf(big, "GET /api/state HTTP/1.1\r\nHost: %s\r\nX-Big: %s\r\n\r\n", addr, strings.Repeat("a", 8<<10))
	if res, err := http.ReadResponse(bufio.NewReader(big), nil); err != nil || res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("big header: %v %v", res, err)
	}

	// The cap: more idle connections than it; the page answers all the same.
	for range 3 * l.maxConns {
		dial()
	}
	client := &http.Client{Timeout: 5 * time.Second}
	res, err = client.Get("http://" + addr + "/api/state")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("state with the cap reached: %v %v", res, err)
	}
	res.Body.Close()

	// The event stream is not cut by the read or write timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/api/events", nil)
	res, err = http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("events: %v %v", res, err)
	}
	defer res.Body.Close()
	got := make(chan error, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, err := res.Body.Read(buf); err != nil {
				got <- err
				return
			}
		}
	}()
	select {
	case err := <-got:
		t.Fatalf("event stream ended early: %v", err)
	case <-time.After(4 * l.read):
	}
}
