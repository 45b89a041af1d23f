package main

import (
	"net"
	"sync"
	"time"
)

// webLimitSet bounds the web interface's connections: without them idle
// connections stayed open for good and, with descriptors exhausted, the
// page stopped answering.
type webLimitSet struct {
	header, read, write, idle time.Duration
	maxHeader                 int
	maxConns                  int
}

// webLimits is a variable so tests can shorten it.
var webLimits = webLimitSet{
	header:    10 * time.Second,
	read:      30 * time.Second, // the whole request: settings forms are small
	write:     30 * time.Second, // /api/events clears it for its stream
	idle:      60 * time.Second,
	maxHeader: 64 << 10,
	maxConns:  128,
}

// limitListener accepts at most n connections at once; Accept waits for
// one to close (the rest wait in the kernel's backlog, holding none of
// our descriptors).
type limitListener struct {
	net.Listener
	sem  chan struct{}
	done chan struct{}
	once sync.Once
}

func newLimitListener(l net.Listener, n int) *limitListener {
	return &limitListener{Listener: l, sem: make(chan struct{}, n), done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
