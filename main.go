// Command kist runs OCI containers without root and without a daemon.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/opencontainers/runc/libcontainer"
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
	"golang.org/x/sys/unix"

	"github.com/kist-project/kist/commands"
	"github.com/kist-project/kist/container"
	"github.com/kist-project/kist/rootless"
)

func init() {
	// libcontainer starts every container by re-executing this binary as
	// "kist init"; nsenter's constructor has already run by this point.
	if len(os.Args) > 1 && os.Args[1] == "init" {
		libcontainer.Init()
	}
}

func main() {
	// Without this, a write to a closed pipe on stdout or stderr kills
	// kist, so `kist pull IMAGE 2>&1 | head -1` ended the pull at its
	// next progress line and left its temporary files. Caught, SIGPIPE
	// turns such a write into an EPIPE error that commands handle like any
	// other. Unlike signal.Ignore, catching it leaves the default in the
	// container, because exec resets caught signals.
	signal.Notify(make(chan os.Signal, 1), unix.SIGPIPE)

	if err := rootless.Continue(); err != nil {
		fmt.Fprintf(os.Stderr, "kist: %v\n", err)
		os.Exit(125)
	}
	app := commands.NewApp()
	err := app.Run(commands.PermuteArgs(app, os.Args))
	os.Exit(exitCode(err))
}

// exitCode prints err and returns the status kist exits with, by
// docker's rules: the container's own status, 126 when its command cannot
// be executed, 127 when it does not exist, and 125 for kist's own errors.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var status commands.StatusError
	if errors.As(err, &status) {
		return int(status)
	}

	// errors.Join puts one error on each line; each gets the prefix.
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(os.Stderr, "kist: %s\n", escapeControl(line))
	}
	switch {
	case errors.Is(err, container.ErrCommandNotFound):
		return 127
	case errors.Is(err, container.ErrCommandNotExecutable):
		return 126
	}
	return 125
}

// escapeControl writes control characters (but newline, which exitCode
// splits on) as \xNN or \uNNNN, so that a value from the command line or
// an archive cannot move the cursor or recolour the user's terminal
// through an error message.
func escapeControl(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x20 && r != '\n', r == 0x7f:
			fmt.Fprintf(&b, "\\x%02x", r)
		case r >= 0x80 && r <= 0x9f:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
