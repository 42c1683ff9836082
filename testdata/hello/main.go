// Command hello is the program in kist's first example image. It prints a
// greeting and the user and group IDs it runs as, which are 0 inside a
// rootless kist container although the caller is unprivileged outside.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Println("Hello from kist!")
	fmt.Printf("I run as uid %d, gid %d.\n", os.Getuid(), os.Getgid())
}
