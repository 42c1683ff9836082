package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// setupImages builds the busybox and Debian images and pushes them to the
// registry, marking each set as missing when it cannot be built.
func setupImages(base string) {
	if reason, missing := env.missing[needRegistry]; missing {
		markMissing(needBusybox, "no registry: "+reason)
		markMissing(needDebian, "no registry: "+reason)
		return
	}
	dir := filepath.Join(base, "layers")
	if err := os.Mkdir(dir, 0o700); err != nil {
		markMissing(needBusybox, err.Error())
		markMissing(needDebian, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()

	var err error
	if env.busybox, err = buildBusybox(ctx, dir); err != nil {
		markMissing(needBusybox, err.Error())
	}
	start := time.Now()
	if env.debian, err = buildDebian(ctx, dir); err != nil {
		markMissing(needDebian, err.Error())
		return
	}
	fmt.Fprintf(os.Stderr, "e2e: Debian images built and pushed in %s\n", time.Since(start).Round(time.Second))
}
