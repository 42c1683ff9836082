package e2e

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	ti "github.com/kist-project/kist/internal/testimage"
)

// The Debian tags.
const (
	// tagBookworm is the debootstrapped rootfs as one gzip layer in a
	// Docker v2 schema 2 image.
	tagBookworm = "bookworm"
	// tagLayered is an OCI image whose later layers delete and replace
	// files of the rootfs, as layeredImage describes.
	tagLayered = "layered"
)

// debianImages are the Debian images in the registry.
type debianImages struct {
	// rootfs is the debootstrapped root filesystem the images contain, for
	// tests to read their expected values from.
	rootfs string
	// ids maps each tag to its image ID, the config digest.
	ids map[string]string
}

// ref returns the reference of the Debian image with tag.
func (d *debianImages) ref(tag string) string {
	return env.registry + "/debian:" + tag
}

// cacheDir returns where the debootstrapped rootfs is kept between runs.
func cacheDir() string {
	if dir := os.Getenv("KIST_TEST_CACHE"); dir != "" {
		return dir
	}
	return "/var/tmp/kist-test-cache"
}

// debianRootfs returns the cached bookworm rootfs, building it with
// debootstrap first when the cache has none. A marker file, written
// last, distinguishes a complete rootfs from one that an earlier run left
// half done.
func debianRootfs() (string, error) {
	rootfs := filepath.Join(cacheDir(), "debian-bookworm-minbase")
	marker := rootfs + ".complete"
	if _, err := os.Stat(marker); err == nil {
		return rootfs, nil
	}
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("no cached rootfs at %s, and debootstrap needs root", rootfs)
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return "", fmt.Errorf("%w; install Debian's debootstrap package", err)
	}
	mirror, err := debianMirror("bookworm")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(cacheDir(), 0o755); err != nil {
		return "", err
	}
	if err := removeRootfs(rootfs); err != nil {
		return "", err
	}
	if err := debootstrap(rootfs, mirror); err != nil {
		return "", err
	}
	return rootfs, os.WriteFile(marker, nil, 0o644)
}

// debootstrap installs a minimal bookworm into dir and removes what a
// container image leaves out: device nodes and apt's package lists and
// downloaded packages.
func debootstrap(dir, mirror string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	logPath := dir + ".log"
	start := time.Now()
	fmt.Fprintf(os.Stderr, "e2e: debootstrap bookworm into %s (a few minutes; log in %s)\n", dir, logPath)
	cmd := exec.CommandContext(ctx, "debootstrap", "--variant=minbase", "bookworm", dir, mirror)
	out, err := cmd.CombinedOutput()
	_ = os.WriteFile(logPath, out, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w; last output:\n%s", cmd, err, tail(string(out), 20))
	}
	fmt.Fprintf(os.Stderr, "e2e: debootstrap took %s\n", time.Since(start).Round(time.Second))
	if err := checkNoMounts(dir); err != nil {
		return err
	}
	for _, pattern := range []string{"dev/*", "var/lib/apt/lists/*", "var/cache/apt/*.bin", "var/cache/apt/archives/*.deb"} {
		matches, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, m := range matches {
			if err := os.RemoveAll(m); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeRootfs removes a half-built rootfs, after checking that nothing
// is mounted below it, so that the host's /proc or /sys is never at risk.
func removeRootfs(dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := checkNoMounts(dir); err != nil {
		return err
	}
	return os.RemoveAll(dir)
}

// checkNoMounts fails when a mount point lies at or below dir.
func checkNoMounts(dir string) error {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			return fmt.Errorf("%s is mounted inside %s; unmount it before the rootfs is rebuilt", fields[4], dir)
		}
	}
	return nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// debianConfig is the runtime config of the Debian images.
func debianConfig() v1.Config {
	return v1.Config{
		Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Cmd: []string{"bash"},
	}
}

// buildDebian builds the Debian images from the cached rootfs and pushes
// them, with their layer files in dir.
func buildDebian(ctx context.Context, dir string) (*debianImages, error) {
	rootfs, err := debianRootfs()
	if err != nil {
		return nil, err
	}
	d := &debianImages{rootfs: rootfs, ids: map[string]string{}}
	for _, path := range layeredMustExist {
		if _, err := os.Lstat(filepath.Join(rootfs, path)); err != nil {
			return nil, fmt.Errorf("the layered image changes %s, which the rootfs lacks: %w", path, err)
		}
	}

	single, err := ti.LayerFromDir(rootfs, ti.LayerOptions{Format: ti.Docker, Compression: ti.Gzip, Dir: dir})
	if err != nil {
		return nil, err
	}
	img, err := ti.Image(ti.Docker, ti.HostPlatform(), debianConfig(), single)
	if err != nil {
		return nil, err
	}
	if err := d.push(ctx, tagBookworm, img); err != nil {
		return nil, err
	}

	layered, err := layeredImage(rootfs, dir)
	if err != nil {
		return nil, err
	}
	return d, d.push(ctx, tagLayered, layered)
}

func (d *debianImages) push(ctx context.Context, tag string, img v1.Image) error {
	id, err := img.ConfigName()
	if err != nil {
		return err
	}
	if err := ti.Push(ctx, d.ref(tag), img); err != nil {
		return err
	}
	d.ids[tag] = id.String()
	return nil
}
