// Package interop runs phonesim against real SIP peers — kamailio (registrar,
// digest auth), sipp (scripted caller and callee) and baresip (a softphone) —
// on 127.0.0.1 with free ports. It is test tier 3 of DESIGN.md.
//
// The helpers here start each peer from the project's own configs under
// peers/ (templated into a test's temporary directory), wait until it is
// ready, and stop it by process group when the test ends. The tests carry
// build tags so that `go test ./...` does not need the peers installed:
//
//	go test -tags interop -count=1 ./interop/...   # tier 3
//	go test -tags qemu -count=1 -v ./interop/       # tier 5: ARM builds under qemu-user
//
// A missing peer binary skips a test, except when CI is set, where it fails.
package interop
