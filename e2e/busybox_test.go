package e2e

import (
	"archive/tar"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	ti "github.com/kist-project/kist/internal/testimage"
)

// busyboxBinary is the statically linked busybox from Debian's
// busybox-static package. A dynamically linked one would need a libc
// in the image.
const busyboxBinary = "/bin/busybox"

// The busybox tags: one image per manifest format and layer encoding,
// two indexes, and two images with a runtime config of their own.
const (
	// tagLatest is a Docker v2 schema 2 image with a gzip layer.
	tagLatest     = "latest"
	tagDockerTar  = "docker-tar"
	tagOCIGzip    = "oci-gzip"
	tagOCIZstd    = "oci-zstd"
	tagOCITar     = "oci-tar"
	tagOCIIndex   = "oci-index"
	tagDockerList = "docker-list"
	// tagConfig sets Entrypoint, Cmd, Env and WorkingDir.
	tagConfig = "config"
	// tagNobody runs as the image's user nobody (uid 65534).
	tagNobody = "nobody"
)

// busyboxImages are the busybox-based images in the registry.
type busyboxImages struct {
	// ids maps each tag to the image ID that kist must report: the config
	// digest of the image, or for an index of its host platform's image.
	ids map[string]string
}

// ref returns the reference of the busybox image with tag.
func (b *busyboxImages) ref(tag string) string {
	return env.registry + "/busybox:" + tag
}

// busyboxPasswd and busyboxGroup name root and nobody, so that a config
// with User "nobody" resolves to uid and gid 65534.
const (
	busyboxPasswd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
	busyboxGroup  = "root:x:0:\nnobody:x:65534:\n"
)

// busyboxEntries returns the root filesystem of the busybox images:
// busybox with a symlink per applet, a setuid copy as /bin/suidtest, a
// read-only directory /ro containing a file, and /tmp with the sticky bit.
func busyboxEntries() ([]ti.Entry, error) {
	if err := checkStatic(busyboxBinary); err != nil {
		return nil, err
	}
	binary, err := os.ReadFile(busyboxBinary)
	if err != nil {
		return nil, err
	}
	list, err := exec.Command(busyboxBinary, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", busyboxBinary, err)
	}
	entries := []ti.Entry{
		ti.Dir("bin", 0o755),
		ti.File("bin/busybox", string(binary), 0o755),
		ti.File("bin/suidtest", string(binary), 0o4755),
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet != "busybox" {
			entries = append(entries, ti.Symlink("bin/"+applet, "busybox"))
		}
	}
	return append(entries,
		ti.Dir("dev", 0o755), ti.Dir("proc", 0o555), ti.Dir("sys", 0o555),
		ti.Dir("etc", 0o755),
		ti.File("etc/passwd", busyboxPasswd, 0o644),
		ti.File("etc/group", busyboxGroup, 0o644),
		ti.Dir("root", 0o700),
		ti.Dir("tmp", 0o1777),
		ti.Dir("ro", 0o555),
		ti.File("ro/file", "read-only directory\n", 0o444),
	), nil
}

// checkStatic fails for an executable that needs a dynamic loader.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked; install busybox-static", path)
		}
	}
	return nil
}

// busyboxConfig is the runtime config of the plain busybox images.
func busyboxConfig() v1.Config {
	return v1.Config{
		Env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"},
		Cmd: []string{"sh"},
	}
}

// configuredConfig is the runtime config of tagConfig.
func configuredConfig() v1.Config {
	return v1.Config{
		Env:        []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=from-image"},
		Entrypoint: []string{"/bin/echo", "entry"},
		Cmd:        []string{"default"},
		WorkingDir: "/srv/app",
	}
}

// nobodyConfig is the runtime config of tagNobody.
func nobodyConfig() v1.Config {
	return v1.Config{
		Env:        []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"},
		Cmd:        []string{"sh", "-c", "id -u; id -g; pwd"},
		User:       "nobody",
		WorkingDir: "/srv/app",
	}
}

// appEntries is the layer that tagConfig and tagNobody add on top of
// busybox: a working directory owned by nobody.
func appEntries() []ti.Entry {
	return []ti.Entry{
		ti.Dir("srv", 0o755),
		{Name: "srv/app", Type: tar.TypeDir, Mode: 0o755, UID: 65534, GID: 65534},
	}
}

// buildBusybox builds every busybox image and pushes it, with its layer
// files in dir.
func buildBusybox(ctx context.Context, dir string) (*busyboxImages, error) {
	entries, err := busyboxEntries()
	if err != nil {
		return nil, err
	}
	b := &busyboxImages{ids: map[string]string{}}
	images := map[string]v1.Image{}
	plain := []struct {
		tag    string
		format ti.Format
		comp   ti.Compression
	}{
		{tagLatest, ti.Docker, ti.Gzip},
		{tagDockerTar, ti.Docker, ti.Uncompressed},
		{tagOCIGzip, ti.OCI, ti.Gzip},
		{tagOCIZstd, ti.OCI, ti.Zstd},
		{tagOCITar, ti.OCI, ti.Uncompressed},
	}
	for _, p := range plain {
		img, err := imageFromEntries(dir, p.format, p.comp, busyboxConfig(), entries)
		if err != nil {
			return nil, fmt.Errorf("busybox:%s: %w", p.tag, err)
		}
		images[p.tag] = img
	}
	if images[tagConfig], err = imageFromEntries(dir, ti.OCI, ti.Gzip, configuredConfig(), entries, appEntries()); err != nil {
		return nil, fmt.Errorf("busybox:%s: %w", tagConfig, err)
	}
	if images[tagNobody], err = imageFromEntries(dir, ti.Docker, ti.Gzip, nobodyConfig(), entries, appEntries()); err != nil {
		return nil, fmt.Errorf("busybox:%s: %w", tagNobody, err)
	}
	for tag, img := range images {
		if err := pushImage(ctx, b, tag, img, img); err != nil {
			return nil, err
		}
	}
	return b, pushIndexes(ctx, b, dir, images)
}

// pushIndexes pushes an OCI index and a Docker manifest list, each listing
// a busybox image for the host and a placeholder for another platform.
func pushIndexes(ctx context.Context, b *busyboxImages, dir string, images map[string]v1.Image) error {
	for _, x := range []struct {
		tag    string
		format ti.Format
		host   v1.Image
	}{
		{tagOCIIndex, ti.OCI, images[tagOCIGzip]},
		{tagDockerList, ti.Docker, images[tagLatest]},
	} {
		other, err := ti.Placeholder(x.format, ti.OtherPlatform(), ti.LayerOptions{Dir: dir})
		if err != nil {
			return err
		}
		idx, err := ti.Index(x.format, x.host, other)
		if err != nil {
			return fmt.Errorf("busybox:%s: %w", x.tag, err)
		}
		if err := pushImage(ctx, b, x.tag, idx, x.host); err != nil {
			return err
		}
	}
	return nil
}

// imageFromEntries builds an image for the host with one layer per list
// of entries, each encoded as format and comp.
func imageFromEntries(dir string, format ti.Format, comp ti.Compression, cfg v1.Config, layers ...[]ti.Entry) (v1.Image, error) {
	opts := ti.LayerOptions{Format: format, Compression: comp, Dir: dir}
	var built []v1.Layer
	for _, entries := range layers {
		l, err := ti.LayerFromEntries(entries, opts)
		if err != nil {
			return nil, err
		}
		built = append(built, l)
	}
	return ti.Image(format, ti.HostPlatform(), cfg, built...)
}

// pushImage pushes t as busybox:tag and records the ID of idImage, the
// image that kist must pick for this host, under tag.
func pushImage(ctx context.Context, b *busyboxImages, tag string, t remote.Taggable, idImage v1.Image) error {
	id, err := idImage.ConfigName()
	if err != nil {
		return err
	}
	if err := ti.Push(ctx, b.ref(tag), t); err != nil {
		return err
	}
	b.ids[tag] = id.String()
	return nil
}
