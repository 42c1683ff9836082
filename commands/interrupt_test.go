package commands

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

// TestInterruptibleCancelsWork sends SIGTERM to the test process while
// the work waits for its context, which the signal must cancel.
func TestInterruptibleCancelsWork(t *testing.T) {
	var stderr bytes.Buffer
	app := &cli.App{ErrWriter: &stderr}
	c := cli.NewContext(app, nil, nil)

	err := interruptible(c, "load", func(ctx context.Context) error {
		// interruptible catches the signal from before work starts.
		if err := unix.Kill(os.Getpid(), unix.SIGTERM); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	})

	var status StatusError
	if !errors.As(err, &status) || status != 143 {
		t.Errorf("interruptible returned %v, want exit status 143", err)
	}
	if got, want := stderr.String(), "kist: load stopped by SIGTERM\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
}

// TestInterruptibleAfterWorkFinished sends SIGINT that arrives as the work
// returns without error: kist must not claim that the work stopped.
func TestInterruptibleAfterWorkFinished(t *testing.T) {
	var stderr bytes.Buffer
	app := &cli.App{ErrWriter: &stderr}
	c := cli.NewContext(app, nil, nil)

	err := interruptible(c, "pull", func(ctx context.Context) error {
		if err := unix.Kill(os.Getpid(), unix.SIGINT); err != nil {
			return err
		}
		// Return only once the signal has cancelled ctx, so that
		// interruptible receives the signal before this result.
		<-ctx.Done()
		return nil
	})

	var status StatusError
	if !errors.As(err, &status) || status != 130 {
		t.Errorf("interruptible returned %v, want exit status 130", err)
	}
	if got, want := stderr.String(), "kist: pull finished, then was interrupted by SIGINT\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
}
