package commands

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

// interruptGrace is how long kist waits, after SIGINT or SIGTERM, for the
// cancelled work to remove its temporary files and return. Work that
// checks its context stops at its next read or write, so only a read
// from a stalled pipe should ever wait this long.
const interruptGrace = 10 * time.Second

// stopOnSignal wraps action so that SIGINT or SIGTERM cancels the context
// it runs under; see interruptible. verb names the command in the one
// line that kist prints then, such as "load".
func stopOnSignal(verb string, action cli.ActionFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		return interruptible(c, verb, func(ctx context.Context) error {
			parent := c.Context
			c.Context = ctx
			defer func() { c.Context = parent }()
			return action(c)
		})
	}
}

// interruptible runs work with a context that SIGINT or SIGTERM cancels.
// Once work has returned, having removed what it wrote to the store's
// tmp/, kist prints one line on stderr. It then exits with 128 plus the
// signal number (130 for SIGINT, 143 for SIGTERM), the status that docker
// and a shell report for a process that the signal killed. It does so
// even when work finished despite the signal, so that a shell stops a
// list such as `kist pull IMAGE && kist run IMAGE` as the user asked.
//
// Further signals are ignored until kist exits. A Ctrl-C reaches both
// processes of a command that runs in a user namespace, and the parent
// relays its copy to the child, so the child gets two.
func interruptible(c *cli.Context, verb string, work func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, unix.SIGINT, unix.SIGTERM)

	done := make(chan error, 1)
	go func() { done <- work(ctx) }()
	var sig unix.Signal
	select {
	case err := <-done:
		signal.Stop(signals)
		return err
	case s := <-signals:
		sig = s.(unix.Signal)
	}

	cancel()
	select {
	case err := <-done:
		if err == nil {
			// The work had finished, or finished regardless; what it
			// printed or recorded remains.
			fmt.Fprintf(c.App.ErrWriter, "kist: %s finished, then was interrupted by %s\n", verb, unix.SignalName(sig))
			break
		}
		fmt.Fprintf(c.App.ErrWriter, "kist: %s stopped by %s\n", verb, unix.SignalName(sig))
	case <-time.After(interruptGrace):
		// NOTE: a read from a pipe whose writer neither writes nor
		// closes does not notice the cancelled context.
		fmt.Fprintf(c.App.ErrWriter, "kist: %s stopped by %s without removing its temporary files; kist image prune removes them\n",
			verb, unix.SignalName(sig))
	}
	return StatusError(128 + int(sig))
}

// contextReader is an io.Reader that fails once its context is done, so
// that a copy from a file or pipe stops at the next read.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (r contextReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// contextWriter is an io.Writer that fails once its context is done.
type contextWriter struct {
	ctx context.Context
	w   io.Writer
}

func (w contextWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	return w.w.Write(p)
}
