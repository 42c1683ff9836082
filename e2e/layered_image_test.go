package e2e

import (
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	ti "github.com/kist-project/kist/internal/testimage"
)

// layeredMustExist are the rootfs paths that the upper layers of the
// layered image delete or replace, and two that they leave alone.
var layeredMustExist = []string{
	"usr/share/doc/bash", "usr/share/doc/dash",
	"etc/issue.net", "etc/issue", "etc/debian_version",
	"etc/host.conf", "etc/skel", "etc/apt/apt.conf.d",
}

// layeredImage returns the OCI image whose three layers are:
//
//  1. the whole rootfs, zstd-compressed;
//  2. gzip: whiteouts for the directory usr/share/doc/bash and the file
//     etc/issue.net, new content for etc/debian_version, the file
//     etc/host.conf replaced by a directory, the directory etc/skel
//     replaced by a file, and a new file etc/kist-layer2;
//  3. uncompressed: etc/apt/apt.conf.d made opaque with one new file
//     99kist, and a whiteout for etc/kist-layer2 from layer 2.
//
// Each upper layer also contains the parent directories of its entries, as
// image builders write them.
func layeredImage(rootfs, dir string) (v1.Image, error) {
	base, err := ti.LayerFromDir(rootfs, ti.LayerOptions{Format: ti.OCI, Compression: ti.Zstd, Dir: dir})
	if err != nil {
		return nil, err
	}
	second, err := ti.LayerFromEntries([]ti.Entry{
		dirLike(rootfs, "etc"),
		ti.File("etc/debian_version", layeredDebianVersion, 0o644),
		ti.Whiteout("etc/issue.net"),
		ti.Dir("etc/host.conf", 0o755),
		ti.File("etc/host.conf/now-a-dir", "file became a directory\n", 0o644),
		ti.File("etc/skel", "directory became a file\n", 0o644),
		ti.File("etc/kist-layer2", "added in layer 2\n", 0o644),
		dirLike(rootfs, "usr"),
		dirLike(rootfs, "usr/share"),
		dirLike(rootfs, "usr/share/doc"),
		ti.Whiteout("usr/share/doc/bash"),
	}, ti.LayerOptions{Format: ti.OCI, Compression: ti.Gzip, Dir: dir})
	if err != nil {
		return nil, err
	}
	third, err := ti.LayerFromEntries([]ti.Entry{
		dirLike(rootfs, "etc"),
		ti.Whiteout("etc/kist-layer2"),
		dirLike(rootfs, "etc/apt"),
		dirLike(rootfs, "etc/apt/apt.conf.d"),
		ti.Opaque("etc/apt/apt.conf.d"),
		ti.File("etc/apt/apt.conf.d/99kist", "APT::Install-Recommends \"false\";\n", 0o644),
	}, ti.LayerOptions{Format: ti.OCI, Compression: ti.Uncompressed, Dir: dir})
	if err != nil {
		return nil, err
	}
	return ti.Image(ti.OCI, ti.HostPlatform(), debianConfig(), base, second, third)
}

// layeredDebianVersion is the content of /etc/debian_version in layer 2.
const layeredDebianVersion = "kist-layered\n"

// layeredScript prints, for each path that the upper layers change, what
// a container of the layered image finds there.
const layeredScript = `for p in /usr/share/doc/bash /etc/issue.net /etc/kist-layer2 /usr/share/doc/dash /etc/issue; do
  if test -e $p; then echo "$p present"; else echo "$p absent"; fi
done
cat /etc/debian_version
test -d /etc/host.conf && cat /etc/host.conf/now-a-dir
test -f /etc/skel && cat /etc/skel
ls -A /etc/apt/apt.conf.d`

// layeredScriptOutput is what layeredScript must print.
const layeredScriptOutput = `/usr/share/doc/bash absent
/etc/issue.net absent
/etc/kist-layer2 absent
/usr/share/doc/dash present
/etc/issue present
kist-layered
file became a directory
directory became a file
99kist
`

// dirLike returns a directory entry owned by root, as every parent that
// the layered image names is in the rootfs, with the permission bits that
// name has there, or 0755 when the rootfs cannot be read.
func dirLike(rootfs, name string) ti.Entry {
	e := ti.Dir(name, 0o755)
	if info, err := os.Stat(filepath.Join(rootfs, name)); err == nil {
		e.Mode = int64(info.Mode().Perm())
	}
	return e
}
