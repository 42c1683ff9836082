package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/kist-project/kist/store"
)

// pageSize bounds the option string of mount(2).
const pageSize = 4096

// MaxLowerLayers is the number of lower directories that one overlayfs
// mount stacks at most (OVL_MAX_STACK in the kernel). Linux 6.18 rejects a
// 501st lower directory with EINVAL through both fsconfig lowerdir+ and
// mount(2).
const MaxLowerLayers = 500

// overlayMount describes the container's root: lower directories
// relative to layersDir, topmost first, and the upper and work directories.
type overlayMount struct {
	layersDir   string
	lowers      []string
	upper, work string
	target      string
	layerCount  int
}

// mountRootfs mounts an overlay of the image's layers at target, with
// upper and work holding what the container writes.
func mountRootfs(layersDir string, diffIDs []v1.Hash, emptyLower, upper, work, target string) error {
	m := overlayMount{layersDir: layersDir, upper: upper, work: work, target: target, layerCount: len(diffIDs)}
	m.lowers = lowerDirs(diffIDs)
	if len(m.lowers) == 0 {
		// overlayfs needs a lower directory even for an image without
		// layers.
		empty, err := filepath.Rel(layersDir, emptyLower)
		if err != nil {
			return fmt.Errorf("mount container rootfs: %w", err)
		}
		m.lowers = []string{empty}
	}
	if len(m.lowers) > MaxLowerLayers {
		return fmt.Errorf("mount container rootfs: the image has %d layers to stack, more than the %d that overlayfs allows; "+
			"rebuild the image with fewer layers, for example by squashing it", len(m.lowers), MaxLowerLayers)
	}

	err := m.mountWithFsconfig()
	if errors.Is(err, errNoLowerdirPlus) {
		logrus.Debugf("overlayfs has no lowerdir+ option, which needs Linux 6.8; using mount(2)")
		err = m.mountWithOptions()
	}
	return err
}

// lowerDirs returns the diff directories of the layers, topmost first,
// relative to the layers directory. A layer that an image lists more than
// once keeps only its topmost place: overlayfs rejects a directory that
// appears twice, and applying a layer a second time on top overrides
// everything its lower copy did.
func lowerDirs(diffIDs []v1.Hash) []string {
	seen := map[v1.Hash]bool{}
	var lowers []string
	for i := len(diffIDs) - 1; i >= 0; i-- {
		if seen[diffIDs[i]] {
			continue
		}
		seen[diffIDs[i]] = true
		lowers = append(lowers, store.LayerDiffPath(diffIDs[i]))
	}
	return lowers
}

// LowerLayerCount returns how many lower directories a container of img
// stacks: its distinct layers from the topmost one that hides everything
// below it.
func LowerLayerCount(st *store.Store, img store.Image) (int, error) {
	layers, err := visibleLayers(st, img)
	if err != nil {
		return 0, err
	}
	return len(lowerDirs(layers)), nil
}

var errNoLowerdirPlus = errors.New("overlayfs lacks lowerdir+")

// mountWithFsconfig mounts through the mount API of Linux 5.2, adding one
// lower directory at a time with lowerdir+ (Linux 6.8), so the option
// string has no page-size limit. The number of layers is still limited to
// MaxLowerLayers.
func (m overlayMount) mountWithFsconfig() error {
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return errNoLowerdirPlus
	}
	defer unix.Close(fsfd)

	// fsconfig(2) takes string values of at most 255 bytes, so the paths
	// are given relative to the layers directory, which a deep store path
	// would otherwise push past that limit.
	restore, err := enterDir(m.layersDir)
	if err != nil {
		return fmt.Errorf("mount container rootfs: %w", err)
	}
	defer restore()
	upper, work, err := m.relativeUpperWork()
	if err != nil {
		return fmt.Errorf("mount container rootfs: %w", err)
	}

	for i, lower := range m.lowers {
		err := unix.FsconfigSetString(fsfd, "lowerdir+", lower)
		if i == 0 && errors.Is(err, unix.EINVAL) {
			return errNoLowerdirPlus
		}
		if err != nil {
			return m.mountError(fmt.Errorf("lower directory %s: %w", lower, err))
		}
	}
	for key, value := range map[string]string{"upperdir": upper, "workdir": work} {
		if err := unix.FsconfigSetString(fsfd, key, value); err != nil {
			return m.mountError(fmt.Errorf("%s: %w", key, err))
		}
	}
	// userxattr reads opaque markers from user.overlay.* xattrs, which
	// an unprivileged user namespace may set. kist uses it as root too,
	// so one store format serves both.
	if err := unix.FsconfigSetFlag(fsfd, "userxattr"); err != nil {
		return m.mountError(fmt.Errorf("userxattr: %w", err))
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return m.mountError(err)
	}

	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return m.mountError(err)
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, m.target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return m.mountError(err)
	}
	return nil
}

// mountWithOptions mounts with mount(2), whose options must fit in one
// page. Lower directories are named relative to the layers directory,
// which becomes the working directory for the call, to fit more of them.
func (m overlayMount) mountWithOptions() error {
	data := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s,userxattr", strings.Join(m.lowers, ":"), m.upper, m.work)
	if len(data) >= pageSize {
		return fmt.Errorf("mount container rootfs: the overlay options for %d layers under %s are %d bytes, "+
			"more than the %d that mount(2) takes before Linux 6.8; flatten the image, or use a store with a shorter path (--root)",
			m.layerCount, filepath.Dir(m.layersDir), len(data), pageSize-1)
	}

	restore, err := enterDir(m.layersDir)
	if err != nil {
		return fmt.Errorf("mount container rootfs: %w", err)
	}
	defer restore()

	if err := unix.Mount("overlay", m.target, "overlay", 0, data); err != nil {
		return m.mountError(err)
	}
	return nil
}

// enterDir makes dir the working directory and returns a function that
// goes back to the previous one.
func enterDir(dir string) (func(), error) {
	cwd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	if err := os.Chdir(dir); err != nil {
		return nil, err
	}
	return func() { _ = os.Chdir(cwd) }, nil
}

// relativeUpperWork returns the upper and work directories relative to
// the layers directory.
func (m overlayMount) relativeUpperWork() (string, string, error) {
	upper, err := filepath.Rel(m.layersDir, m.upper)
	if err != nil {
		return "", "", err
	}
	work, err := filepath.Rel(m.layersDir, m.work)
	return upper, work, err
}

func (m overlayMount) mountError(err error) error {
	hint := ""
	switch {
	case errors.Is(err, unix.EPERM):
		hint = "; overlayfs in a user namespace needs Linux 5.11 or later"
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENODEV):
		hint = "; the store must be on a filesystem that overlayfs accepts as its upper layer (ext4, xfs, btrfs, tmpfs), not on overlayfs itself"
	}
	return fmt.Errorf("mount overlayfs at %s: %w%s", m.target, err, hint)
}

// unmountRootfs detaches the container's overlay.
func unmountRootfs(target string) error {
	if err := unix.Unmount(target, unix.MNT_DETACH); err != nil && err != unix.EINVAL {
		return &os.PathError{Op: "unmount", Path: target, Err: err}
	}
	return nil
}
