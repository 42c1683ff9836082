package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	ti "github.com/kist-project/kist/internal/testimage"
)

// splitParts are the parts of the Debian rootfs that become the layers of
// the split image, bottom first: paths relative to the rootfs, with ""
// standing for everything that no other part names.
var splitParts = [][]string{{""}, {"usr/lib"}, {"usr/share"}, {"usr/bin", "usr/sbin"}}

var splitImage struct {
	once sync.Once
	ref  string
	err  error
}

// pushSplitImage builds the Debian rootfs as an image of several gzip
// layers and pushes it once per test process as debian:split.
func pushSplitImage(b *testing.B) string {
	b.Helper()
	splitImage.once.Do(func() {
		splitImage.ref, splitImage.err = buildSplitImage(b.TempDir())
	})
	if splitImage.err != nil {
		b.Fatal(splitImage.err)
	}
	return splitImage.ref
}

func buildSplitImage(dir string) (string, error) {
	var layers []v1.Layer
	for i := range splitParts {
		part := filepath.Join(dir, fmt.Sprintf("part%d", i))
		if err := copySplitPart(env.debian.rootfs, part, i); err != nil {
			return "", err
		}
		l, err := ti.LayerFromDir(part, ti.LayerOptions{Format: ti.OCI, Compression: ti.Gzip, Dir: dir})
		if err != nil {
			return "", err
		}
		layers = append(layers, l)
	}
	img, err := ti.Image(ti.OCI, ti.HostPlatform(), debianConfig(), layers...)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ref := env.debian.ref("split")
	return ref, ti.Push(ctx, ref, img)
}

// copySplitPart copies part i of rootfs to dir with cp -a, keeping
// owners, modes and times: the whole rootfs minus the other parts for
// part 0, or the named paths with their parent directories.
func copySplitPart(rootfs, dir string, i int) error {
	cp := func(args ...string) error {
		cmd := exec.Command("cp", args...)
		cmd.Dir = rootfs
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("cp %q: %v: %s", args, err, out)
		}
		return nil
	}
	if i == 0 {
		if err := cp("-a", rootfs, dir); err != nil {
			return err
		}
		for _, part := range splitParts[1:] {
			for _, p := range part {
				if err := os.RemoveAll(filepath.Join(dir, p)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	for _, p := range splitParts[i] {
		if err := cp("-a", "--parents", p, dir+"/"); err != nil {
			return err
		}
	}
	return nil
}
