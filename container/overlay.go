package container

import (
	"fmt"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"

	"github.com/kist-project/kist/store"
)

// pageSize bounds the option string of mount(2).
const pageSize = 4096

// mountRootfs mounts an overlay of the image's layers at target, with
// upper and work holding what the container writes. Layers are named
// relative to layersDir, which becomes the working directory for the
// mount call, to fit more of them into one page of mount options.
func mountRootfs(layersDir string, diffIDs []v1.Hash, emptyLower, upper, work, target string) error {
	lowers := make([]string, 0, len(diffIDs))
	for i := len(diffIDs) - 1; i >= 0; i-- {
		lowers = append(lowers, store.LayerDiffPath(diffIDs[i]))
	}
	if len(lowers) == 0 {
		// overlayfs needs a lower directory even for an image without
		// layers.
		lowers = append(lowers, emptyLower)
	}
	// userxattr reads opaque markers from user.overlay.* xattrs, which
	// an unprivileged user namespace may set. kist uses it as root too,
	// so one store format serves both.
	data := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s,userxattr", strings.Join(lowers, ":"), upper, work)
	if len(data) >= pageSize {
		// TODO: mount with fsconfig's lowerdir+ (Linux 6.8) to lift this limit.
		return fmt.Errorf("mount container rootfs: the image has %d layers, more than fit in one overlay mount; flatten the image", len(diffIDs))
	}

	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	if err := os.Chdir(layersDir); err != nil {
		return err
	}
	defer func() { _ = os.Chdir(cwd) }()

	if err := unix.Mount("overlay", target, "overlay", 0, data); err != nil {
		return fmt.Errorf("mount overlayfs at %s: %w; kist needs Linux 5.11 or later for overlayfs in a user namespace, "+
			"and a store on a filesystem that overlayfs accepts as upper layer (ext4, xfs, btrfs, tmpfs)", target, err)
	}
	return nil
}

// unmountRootfs detaches the container's overlay.
func unmountRootfs(target string) error {
	if err := unix.Unmount(target, unix.MNT_DETACH); err != nil && err != unix.EINVAL {
		return &os.PathError{Op: "unmount", Path: target, Err: err}
	}
	return nil
}
