package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"phonesim/hw/board"
)

// --board qemu runs the phone on stand-in devices: it draws on the
// framebuffer file and stops cleanly.
func TestPhoneOnBoard(t *testing.T) {
	root := t.TempDir()
	if err := board.MakeStandIns(root, 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stderr syncBuffer
	go func() {
		done <- run(ctx, []string{"--board", "qemu", "--root", root, "--sip", "127.0.0.1:0", "--http", "off", "--no-echo"}, io.Discard, &stderr)
	}()
	fb := filepath.Join(root, "fb0")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if st, err := os.Stat(fb); err == nil && st.Size() >= 480*272*2 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the phone stopped: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing drawn on %s\n%s", fb, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("phone on the board: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the phone did not stop")
	}
}
