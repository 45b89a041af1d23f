package main

import (
	"context"
	"fmt"
	"io"
)

// hwtestCommand is the hardware self-test. On a host build there is no
// board hardware: every part is reported absent, which is not a failure.
func hwtestCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("hwtest: unexpected argument %q", args[0])
	}
	for _, part := range []string{"display", "keys", "leds", "audio"} {
		fmt.Fprintf(stdout, "%-8s absent (no board driver in this build)\n", part)
	}
	fmt.Fprintln(stdout, "hwtest: 0 passed, 0 failed, 4 absent")
	return nil
}
