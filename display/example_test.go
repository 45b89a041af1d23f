package display_test

import (
	"fmt"

	"phonesim/display"
)

func ExampleClean() {
	fmt.Println(display.Clean("\x1b[2JMallory\r\n", 20))
	fmt.Println(display.Clean("Carol from Accounting", 12))
	// Output:
	// [2JMallory
	// Carol from …
}

func ExampleTimer() {
	fmt.Println(display.Timer(65), display.Timer(3725))
	// Output: 1:05 1:02:05
}
