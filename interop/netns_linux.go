//go:build interop

package interop

// Pod networks: TestFleetShards runs each shard in a network namespace of
// its own, as a cluster runs pods, all reaching one kamailio in a hub
// namespace. The link between two namespaces would be a veth pair, but this
// machine's kernel has no veth (ip link add … type veth: "Unknown device
// type"), so each link is two tap devices, one in the pod and one in the
// hub (a port of the hub's bridge), with this process copying Ethernet
// frames between them: a wire in userspace.
//
// Nothing is added to the test's own namespace and no frame leaves the
// wires. A namespace is held by a sleep process started in it (not named
// under /run/netns), so killing that process by PID at cleanup, after the
// taps are closed, leaves nothing behind.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// podNetPrefix is the pod network, 10.213.0.0/24: the hub is .1, pod i is
// .(i+2).
const podNetPrefix = "10.213.0."

// Netns is a network namespace held by a process of the test.
type Netns struct {
	Name  string
	IP    string // its address on the pod network
	Pid   int    // the holder
	Inode uint64 // of /proc/Pid/ns/net: the namespace's identity
}

// PodNet is a hub namespace with a bridge at 10.213.0.1/24 and pods wired
// to it, each at 10.213.0.(i+2)/24 on its tap "eth0".
type PodNet struct {
	Hub  *Netns
	Pods []*Netns
	sent []*wireCount // per pod: what it sent onto its wire
}

// wireCount counts the IPv4 UDP packets a pod sent: to the hub's address
// (SIP to kamailio) and to other pods' addresses (phone to phone: RTP).
type wireCount struct {
	toHub, toPods atomic.Int64
}

// NewPodNet makes the hub and pods. An error says why it cannot be done
// here (not root, no /dev/net/tun, no nsenter …); the caller falls back to
// the shared network. What was made before an error is undone at cleanup.
func NewPodNet(t testing.TB, pods int) (*PodNet, error) {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil, errors.New("not root: network namespaces and tap devices need CAP_NET_ADMIN")
	}
	for _, tool := range []string{"nsenter", "ip", "sleep"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile("/dev/net/tun", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("no tap devices: %w", err)
	}
	f.Close()
	pn := &PodNet{}
	if pn.Hub, err = newNetns(t, "hub", podNetPrefix+"1"); err != nil {
		return nil, err
	}
	if err := pn.Hub.ip("link", "add", "br0", "type", "bridge"); err != nil {
		return nil, err
	}
	if err := pn.Hub.ip("addr", "add", pn.Hub.IP+"/24", "dev", "br0"); err != nil {
		return nil, err
	}
	if err := pn.Hub.ip("link", "set", "br0", "up"); err != nil {
		return nil, err
	}
	var wires sync.WaitGroup
	var taps []*os.File
	var wireErrs []error
	var errMu sync.Mutex
	// Closing the taps ends the wires' reads (and removes the devices);
	// registered after the holders, so it runs before they are killed.
	t.Cleanup(func() {
		for _, f := range taps {
			f.Close()
		}
		wires.Wait()
		for _, err := range wireErrs {
			t.Logf("pod network: %v", err)
		}
	})
	for i := range pods {
		pod, err := newNetns(t, fmt.Sprintf("pod%d", i), podNetPrefix+strconv.Itoa(i+2))
		if err != nil {
			return nil, err
		}
		pn.Pods = append(pn.Pods, pod)
		podTap, err := pod.openTap("eth0")
		if err != nil {
			return nil, err
		}
		taps = append(taps, podTap)
		hubName := fmt.Sprintf("tap-pod%d", i)
		hubTap, err := pn.Hub.openTap(hubName)
		if err != nil {
			return nil, err
		}
		taps = append(taps, hubTap)
		if err := pod.ip("addr", "add", pod.IP+"/24", "dev", "eth0"); err != nil {
			return nil, err
		}
		if err := pod.ip("link", "set", "eth0", "up"); err != nil {
			return nil, err
		}
		if err := pn.Hub.ip("link", "set", hubName, "master", "br0", "up"); err != nil {
			return nil, err
		}
		count := &wireCount{}
		pn.sent = append(pn.sent, count)
		fail := func(err error) {
			errMu.Lock()
			wireErrs = append(wireErrs, fmt.Errorf("wire %s: %w", pod.Name, err))
			errMu.Unlock()
		}
		wires.Add(2)
		go func() { defer wires.Done(); copyFrames(hubTap, podTap, countFrom(count), fail) }()
		go func() { defer wires.Done(); copyFrames(podTap, hubTap, nil, fail) }()
	}
	return pn, nil
}

// newNetns starts a holder process in a new network namespace with its
// loopback up. It is killed by PID when the test ends.
func newNetns(t testing.TB, name, ip string) (*Netns, error) {
	t.Helper()
	cmd := exec.Command("sleep", "infinity")
	// Pdeathsig: a test binary that dies takes the namespace with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("new network namespace: %w", err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	ino, err := NetnsInode(pid)
	if err != nil {
		return nil, err
	}
	n := &Netns{Name: name, IP: ip, Pid: pid, Inode: ino}
	if err := n.ip("link", "set", "lo", "up"); err != nil {
		return nil, err
	}
	return n, nil
}

// NetnsInode identifies the network namespace of process pid.
func NetnsInode(pid int) (uint64, error) {
	var st unix.Stat_t
	p := "/proc/self/ns/net"
	if pid > 0 {
		p = fmt.Sprintf("/proc/%d/ns/net", pid)
	}
	if err := unix.Stat(p, &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// Prefix runs a command in n: nsenter execs it, so it keeps nsenter's PID.
func (n *Netns) Prefix() []string {
	return []string{"nsenter", "-t", strconv.Itoa(n.Pid), "-n", "--"}
}

// Command is exec.Command run in n.
func (n *Netns) Command(name string, args ...string) *exec.Cmd {
	p := n.Prefix()
	return exec.Command(p[0], append(append(p[1:], name), args...)...)
}

func (n *Netns) ip(args ...string) error {
	out, err := n.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: ip %v: %v: %s", n.Name, args, err, out)
	}
	return nil
}

// Do runs f on an OS thread moved into n; sockets and tap devices that f
// opens belong to n for good. The thread moves back before it is unlocked:
// a thread that exited instead would send Pdeathsig to the processes it
// had started (the peers of proc.go).
func (n *Netns) Do(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		stuck := false // moved into n and could not move back
		defer func() {
			if !stuck {
				runtime.UnlockOSThread()
			} // else the thread stays locked and ends with this goroutine
		}()
		home, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(home)
		target, err := unix.Open(fmt.Sprintf("/proc/%d/ns/net", n.Pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		err = unix.Setns(target, unix.CLONE_NEWNET)
		unix.Close(target)
		if err != nil {
			errc <- fmt.Errorf("setns %s: %w", n.Name, err)
			return
		}
		ferr := f()
		stuck = unix.Setns(home, unix.CLONE_NEWNET) != nil
		errc <- ferr
	}()
	return <-errc
}

// openTap creates tap device name in n (IFF_NO_PI: a read is one bare
// Ethernet frame). It lasts as long as the returned file is open. The fd is
// non-blocking, so the runtime poller serves it and Close ends a Read.
func (n *Netns) openTap(name string) (*os.File, error) {
	var f *os.File
	err := n.Do(func() error {
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		ifr, err := unix.NewIfreq(name)
		if err == nil {
			ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
			err = unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr)
		}
		if err != nil {
			unix.Close(fd)
			return fmt.Errorf("tap %s in %s: %w", name, n.Name, err)
		}
		f = os.NewFile(uintptr(fd), name)
		return nil
	})
	return f, err
}

// copyFrames copies frames from src to dst until src is closed. A frame dst
// refuses is dropped, as a wire would.
func copyFrames(dst, src *os.File, count func([]byte), fail func(error)) {
	buf := make([]byte, 65536)
	for {
		n, err := src.Read(buf)
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				fail(err)
			}
			return
		}
		if count != nil {
			count(buf[:n])
		}
		if _, err := dst.Write(buf[:n]); errors.Is(err, os.ErrClosed) {
			return
		}
	}
}

// countFrom counts into c the IPv4 UDP frames a pod sends, by destination.
func countFrom(c *wireCount) func([]byte) {
	return func(fr []byte) {
		// Ethernet header 14 bytes, EtherType IPv4, IP protocol UDP (17)
		if len(fr) < 34 || binary.BigEndian.Uint16(fr[12:14]) != 0x0800 || fr[23] != 17 {
			return
		}
		dst := fr[30:34]
		if dst[0] != 10 || dst[1] != 213 || dst[2] != 0 {
			return
		}
		if dst[3] == 1 {
			c.toHub.Add(1)
		} else if dst[3] >= 2 && dst[3] < 255 {
			c.toPods.Add(1)
		}
	}
}

// Sent is how many UDP packets pod i has sent over its wire to the hub's
// address and straight to other pods.
func (pn *PodNet) Sent(i int) (toHub, toPods int64) {
	return pn.sent[i].toHub.Load(), pn.sent[i].toPods.Load()
}
