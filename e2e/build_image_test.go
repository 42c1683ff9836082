package e2e

import (
	"context"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	ti "github.com/kist-project/kist/internal/testimage"
)

// The helpers below build one small image for a single test, where the
// shared busybox and Debian images lack the case under test.

// newLayer returns an OCI gzip layer containing entries. Its blob lives in
// a directory that is removed when t ends.
func newLayer(t *testing.T, entries ...ti.Entry) v1.Layer {
	t.Helper()
	opts := ti.LayerOptions{Format: ti.OCI, Compression: ti.Gzip, Dir: t.TempDir()}
	l, err := ti.LayerFromEntries(entries, opts)
	if err != nil {
		t.Fatalf("build layer: %v", err)
	}
	return l
}

// busyboxLayer returns the root filesystem of the busybox images as one
// layer. Built from the same entries, it has the same diff ID as theirs.
func busyboxLayer(t *testing.T) v1.Layer {
	t.Helper()
	entries, err := busyboxEntries()
	if err != nil {
		t.Fatalf("busybox entries: %v", err)
	}
	return newLayer(t, entries...)
}

// newImage returns an OCI image for the host with the runtime config cfg
// and layers, bottom first.
func newImage(t *testing.T, cfg v1.Config, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := ti.Image(ti.OCI, ti.HostPlatform(), cfg, layers...)
	if err != nil {
		t.Fatalf("build image: %v", err)
	}
	return img
}

// pushTestImage pushes img to the suite's registry as repo:latest and
// returns that reference.
func pushTestImage(t *testing.T, repo string, img v1.Image) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ref := env.registry + "/" + repo + ":latest"
	if err := ti.Push(ctx, ref, img); err != nil {
		t.Fatalf("push test image: %v", err)
	}
	return ref
}
