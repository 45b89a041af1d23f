# Developer shortcuts. Nothing essential needs `just`: each recipe is the plain
# command it runs, and `bash .ci/run` is what CI runs.

# list the recipes
default:
    @just --list

# run the phone (terminal handset when stdout is a terminal, else headless)
run *ARGS:
    go run ./cmd/phonesim {{ ARGS }}

# tiers 1+2: core and adapters
test:
    go test ./...

# tier 3: real peers (kamailio, sipp, baresip) on 127.0.0.1
interop *ARGS:
    go test -tags interop -count=1 {{ ARGS }} ./interop/...

# tier 3b: click-to-dial from a CRM page in headless Chromium (apt: chromium)
browser:
    go test -tags chromium -count=1 -run TestChromium ./webui/

# tier 4: the handset under tmux
terminal:
    go test -tags tmux -count=1 ./cmd/phonesim/...

alias tmux := terminal

# Go benchmarks, with allocations
bench:
    go test -run '^$' -bench . -benchmem ./...

# tier 5: static, stripped linux/arm (ARMv7) and linux/arm64 binaries in bin/,
# version stamped, each run under qemu-user: --version and the hardware
# self-test against stand-in devices (docs/boards.md)
arm:
    #!/usr/bin/env bash
    set -euo pipefail
    version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    mkdir -p bin
    for target in arm:7:qemu-arm-static:armv7 arm64::qemu-aarch64-static:arm64; do
        IFS=: read -r goarch goarm qemu name <<<"$target"
        out=bin/phonesim-linux-$name
        CGO_ENABLED=0 GOOS=linux GOARCH=$goarch GOARM=$goarm \
            go build -trimpath -ldflags="-s -w -X main.version=$version" -o "$out" ./cmd/phonesim
        size=$(stat -c %s "$out")
        awk -v f="$out" -v s="$size" 'BEGIN { printf "%s: %d bytes, %.1f MiB stripped (bar: 15 MiB)\n", f, s, s / 1048576 }'
        [ "$size" -le $((15 * 1024 * 1024)) ] || { echo "$out is over the 15 MiB bar" >&2; exit 1; }
        "$qemu" "$out" --version
        "$qemu" "$out" hwtest --auto --board qemu --root "$tmp/$name" --make-standins
    done

# tier 5 as CI runs it: the same builds, checked to be static ELF, in a Go test
# (hwtest --auto under qemu, a headless call, the armv7 boot time)
arm-test:
    go test -tags qemu -count=1 -v -run TestARM ./interop/

# the armv7 binary's boot time under qemu-arm-static to action_setup_url (5 runs)
arm-boot:
    go test -tags qemu -count=1 -v -run TestARMBootTime ./interop/

# a 32-bit pass: GOARCH=386 catches int overflows before ARMv7 does
test-386:
    GOARCH=386 CGO_ENABLED=0 go test ./...

# format and vet
fmt:
    gofmt -w .
    go vet ./...

# what CI runs
ci:
    bash .ci/run
