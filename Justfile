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

# tier 5: static ARM builds, run under qemu-user
arm:
    #!/usr/bin/env bash
    set -euo pipefail
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 go build -o "$tmp/phonesim-arm" ./cmd/phonesim
    CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -o "$tmp/phonesim-arm64" ./cmd/phonesim
    qemu-arm-static "$tmp/phonesim-arm" --version
    qemu-aarch64-static "$tmp/phonesim-arm64" --version

# tier 5 as CI runs it: the same builds, checked to be static ELF, in a Go test
arm-test:
    go test -tags qemu -count=1 -v -run TestARM ./interop/

# format and vet
fmt:
    gofmt -w .
    go vet ./...

# what CI runs
ci:
    bash .ci/run
