package trace

import (
	"bytes"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// RTP is the media sessions' tap: call it with every RTP and RTCP packet
// a session sends (after the write succeeded) or receives (as read, before
// any check), with the session socket's local port and the other end. It
// finds the Recorder that claimed the local port (in the SDP the phone
// sent, when that Recorder writes a pcap; the RTCP port, the RTP port + 1,
// with it) and records the packet there; with no pcap in the process it
// costs two atomic loads. It copies b and never blocks on the network.
//
// The calls in sipua/media (session.go):
//
//	trace.RTP(trace.Sent, s.Port(), to, s.pkt[:n])              // writeLocked, after WriteToUDPAddrPort succeeded
//	trace.RTP(trace.Received, s.Port(), from, buf[:n])          // receive, after ReadFromUDPAddrPort succeeded
//	trace.RTP(trace.Sent, s.Port()+1, to, s.rtcpBuf)            // RTCP: after its WriteToUDPAddrPort succeeded
//	trace.RTP(trace.Received, s.Port()+1, from, buf[:n])        // receiveRTCP, after ReadFromUDPAddrPort succeeded
func RTP(dir Direction, localPort int, remote netip.AddrPort, b []byte) {
	if !rtpWired.Load() {
		rtpWired.Store(true)
	}
	if rtpOwners.n.Load() == 0 || !remote.IsValid() || localPort <= 0 || localPort > 65535 {
		return
	}
	port := uint16(localPort)
	rtpOwners.mu.RLock()
	o, ok := rtpOwners.m[port]
	rtpOwners.mu.RUnlock()
	if !ok {
		return
	}
	o.rec.RTP(Packet{
		Time:   time.Now(),
		Dir:    dir,
		Local:  netip.AddrPortFrom(o.addr.Addr(), port), // the address the SDP gave (the socket may be on all)
		Remote: netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port()),
		Data:   b,
	})
}

// rtpWired: RTP has been called in this process.
var rtpWired atomic.Bool

// RTPWired reports whether any media session has called RTP in this
// process: whether the tap is in place (for tests).
func RTPWired() bool { return rtpWired.Load() }

// rtpOwner is the Recorder that claimed a local RTP port, and the
// address its SDP gave with it.
type rtpOwner struct {
	rec  *Recorder
	addr netip.AddrPort
}

// rtpOwners maps local RTP ports to the Recorders that claimed them, for
// the whole process (media sessions of several phones share it; a port
// is one socket's at a time, and the phone about to use a port claims it
// in the SDP it sends before any RTP).
var rtpOwners struct {
	mu sync.RWMutex
	m  map[uint16]rtpOwner
	n  atomic.Int32 // len(m), read without the lock
}

// maxRTPPorts is how many ports one Recorder keeps claimed (RTP and
// RTCP); the oldest claim is given up first (its call has long ended).
const maxRTPPorts = 128

// rtpPorts are the ports a Recorder claimed, oldest first. Guarded by
// the Recorder's mutex.
type rtpPorts struct {
	ports []uint16
}

func (p *rtpPorts) claim(r *Recorder, a netip.AddrPort) {
	if a.Port() == 0 || a.Port() == 65535 {
		return // "m=audio 0": no stream
	}
	rtpOwners.mu.Lock()
	defer rtpOwners.mu.Unlock()
	if rtpOwners.m == nil {
		rtpOwners.m = map[uint16]rtpOwner{}
	}
	for _, port := range []uint16{a.Port(), a.Port() + 1} { // RTP, RTCP
		for i, q := range p.ports {
			if q == port {
				p.ports = append(p.ports[:i], p.ports[i+1:]...)
				break
			}
		}
		p.ports = append(p.ports, port)
		rtpOwners.m[port] = rtpOwner{rec: r, addr: a}
	}
	for len(p.ports) > maxRTPPorts {
		old := p.ports[0]
		p.ports = p.ports[1:]
		if rtpOwners.m[old].rec == r {
			delete(rtpOwners.m, old)
		}
	}
	rtpOwners.n.Store(int32(len(rtpOwners.m)))
}

func (p *rtpPorts) release(r *Recorder) {
	if len(p.ports) == 0 {
		return
	}
	rtpOwners.mu.Lock()
	defer rtpOwners.mu.Unlock()
	for _, port := range p.ports {
		if rtpOwners.m[port].rec == r {
			delete(rtpOwners.m, port)
		}
	}
	p.ports = nil
	rtpOwners.n.Store(int32(len(rtpOwners.m)))
}

// sdpAudio finds the audio stream of a SIP message's SDP body: the
// connection address (session or media level) and the port of its first
// m=audio line.
func sdpAudio(msg []byte) (netip.Addr, uint16, bool) {
	end, sep := headerEnd(msg)
	if end < 0 {
		return netip.Addr{}, 0, false
	}
	if ct, _ := headerValue(msg[:end], "content-type", "c"); !bytes.HasPrefix(bytes.ToLower([]byte(ct)), []byte("application/sdp")) {
		return netip.Addr{}, 0, false
	}
	var ip netip.Addr
	var port uint16
	inAudio, found := false, false
	for _, line := range bytes.Split(msg[end+sep:], []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		switch {
		case bytes.HasPrefix(line, []byte("m=")):
			if found {
				return ip, port, true // a later stream: its c= is not ours
			}
			f := bytes.Fields(line[2:])
			inAudio = len(f) >= 2 && string(f[0]) == "audio"
			if inAudio {
				n, err := strconv.ParseUint(string(bytes.SplitN(f[1], []byte("/"), 2)[0]), 10, 16)
				if err != nil {
					return netip.Addr{}, 0, false
				}
				port, found = uint16(n), true
			}
		case bytes.HasPrefix(line, []byte("c=")) && (inAudio || !found):
			f := bytes.Fields(line[2:])
			if len(f) >= 3 {
				if a, err := netip.ParseAddr(string(bytes.SplitN(f[2], []byte("/"), 2)[0])); err == nil {
					ip = a.Unmap()
				}
			}
		}
	}
	return ip, port, found
}
