package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	ti "github.com/kist-project/kist/internal/testimage"
)

// The benchmarks compare kist with the floor a tool could reach on the
// same machine: runc starting a prepared bundle, and gzip decompressing
// the layers kist pulls. Run them with scripts/bench, or:
//
//	go test ./e2e -run '^$' -bench . -benchtime 20x

// BenchmarkRunTrue measures `kist run --rm busybox true` with the image
// already pulled, for each identity.
func BenchmarkRunTrue(b *testing.B) {
	need(b, needRegistry, needBusybox)
	for _, id := range env.identities {
		b.Run(id.name, func(b *testing.B) {
			id := id.fresh(b)
			ref := env.busybox.ref(tagLatest)
			mustSucceed(b, id, "pull", "-q", ref)

			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				benchCommand(b, id, "run", "--rm", ref, "true")
			}
		})
	}
}

// BenchmarkRuncBundle measures runc starting `true` from a prepared
// bundle of the same busybox root filesystem, as root: the floor for
// kist run.
func BenchmarkRuncBundle(b *testing.B) {
	need(b, needRoot)
	runc, err := exec.LookPath("runc")
	if err != nil {
		b.Skip("runc is not installed; apt-get install runc to compare with it")
	}
	bundle := runcBundle(b, runc)
	state := b.TempDir()

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(runc, "--root", state, "run", "--bundle", bundle, fmt.Sprintf("bench-%d", i))
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("runc run: %v: %s", err, out)
		}
	}
}

// BenchmarkPodmanRun measures podman's `run --rm --net=none` of the
// busybox image when podman is installed.
func BenchmarkPodmanRun(b *testing.B) {
	need(b, needRoot, needRegistry, needBusybox)
	podman, err := exec.LookPath("podman")
	if err != nil {
		b.Skip("podman is not installed; apt-get install podman to compare with it")
	}
	ref := env.busybox.ref(tagLatest)
	if out, err := exec.Command(podman, "pull", "--tls-verify=false", ref).CombinedOutput(); err != nil {
		b.Fatalf("podman pull: %v: %s", err, out)
	}

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out, err := exec.Command(podman, "run", "--rm", "--net=none", ref, "true").CombinedOutput(); err != nil {
			b.Fatalf("podman run: %v: %s", err, out)
		}
	}
}

// BenchmarkPullDebian measures a cold pull of the single-layer Debian
// image into an empty store, for each identity.
func BenchmarkPullDebian(b *testing.B) {
	need(b, needRegistry, needDebian)
	for _, id := range env.identities {
		b.Run(id.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				fresh := id.fresh(b)
				b.StartTimer()
				benchCommand(b, fresh, "pull", "-q", env.debian.ref(tagBookworm))
			}
		})
	}
}

// BenchmarkGzipDebianLayer measures `gzip -dc` of the Debian image's
// layer blob: the floor for a pull, which must at least decompress it.
func BenchmarkGzipDebianLayer(b *testing.B) {
	need(b, needRegistry, needDebian)
	id := currentIdentity().fresh(b)
	mustSucceed(b, id, "pull", "-q", env.debian.ref(tagBookworm))
	blob := largestBlob(b, filepath.Join(id.store(), "blobs", "sha256"))
	info, err := os.Stat(blob)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(info.Size())

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command("gzip", "-dc", blob)
		cmd.Stdout = io.Discard
		if err := cmd.Run(); err != nil {
			b.Fatalf("gzip -dc %s: %v", blob, err)
		}
	}
}

// BenchmarkPullDebianSplit measures a cold pull of the Debian rootfs
// split into four gzip layers, which kist downloads and unpacks in
// parallel.
func BenchmarkPullDebianSplit(b *testing.B) {
	need(b, needRegistry, needDebian)
	ref := pushSplitImage(b)
	for _, id := range env.identities {
		b.Run(id.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				fresh := id.fresh(b)
				b.StartTimer()
				benchCommand(b, fresh, "pull", "-q", ref)
			}
		})
	}
}

// BenchmarkPullDebianTmpfs measures cold pulls as root into a store on
// tmpfs (/dev/shm), where creating a file costs little, so that the time
// left is kist's own: decompressing, hashing and the unpacker's system
// calls.
func BenchmarkPullDebianTmpfs(b *testing.B) {
	need(b, needRoot, needRegistry, needDebian)
	var fs unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &fs); err != nil || fs.Type != unix.TMPFS_MAGIC {
		b.Skip("/dev/shm is not a tmpfs")
	}
	benchPullInto(b, "/dev/shm")
}

// benchPullInto measures cold pulls of the one-layer and the split
// Debian image as root, each into a new store under parent.
func benchPullInto(b *testing.B, parent string) {
	refs := map[string]string{"bookworm": env.debian.ref(tagBookworm), "split": pushSplitImage(b)}
	for _, name := range []string{"bookworm", "split"} {
		b.Run(name, func(b *testing.B) {
			id := currentIdentity()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				root, err := os.MkdirTemp(parent, "kist-bench-")
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				benchCommand(b, id, "--root", root, "pull", "-q", refs[name])
				b.StopTimer()
				if err := os.RemoveAll(root); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkPullDebianDir measures cold pulls as root into a store under
// $KIST_BENCH_DIR, to compare filesystems; BenchmarkPodmanPull puts its
// storage there too. It skips when the variable is not set.
func BenchmarkPullDebianDir(b *testing.B) {
	need(b, needRoot, needRegistry, needDebian)
	parent := os.Getenv("KIST_BENCH_DIR")
	if parent == "" {
		b.Skip("KIST_BENCH_DIR is not set")
	}
	benchPullInto(b, parent)
}

// BenchmarkGzipDebianSplit measures `gzip -dc` of each layer blob of the
// split Debian image in turn: what one CPU needs to decompress the image.
func BenchmarkGzipDebianSplit(b *testing.B) {
	need(b, needRegistry, needDebian)
	ref := pushSplitImage(b)
	id := currentIdentity().fresh(b)
	mustSucceed(b, id, "pull", "-q", ref)
	blobs := layerBlobs(b, id.store())

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, blob := range blobs {
			cmd := exec.Command("gzip", "-dc", blob)
			cmd.Stdout = io.Discard
			if err := cmd.Run(); err != nil {
				b.Fatalf("gzip -dc %s: %v", blob, err)
			}
		}
	}
}

// BenchmarkPodmanPull measures a cold `podman pull` as root of the
// single-layer and the split Debian image from the same registry, when podman is installed. Each pull goes
// into a new storage root under the benchmark's temporary directory.
func BenchmarkPodmanPull(b *testing.B) {
	need(b, needRoot, needRegistry, needDebian)
	podman, err := exec.LookPath("podman")
	if err != nil {
		b.Skip("podman is not installed; apt-get install podman to compare with it")
	}
	refs := map[string]string{"bookworm": env.debian.ref(tagBookworm), "split": pushSplitImage(b)}
	for _, name := range []string{"bookworm", "split"} {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				dir := shortTempDir(b)
				cmd := exec.Command(podman, "--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "runroot"),
					"pull", "-q", "--tls-verify=false", refs[name])
				b.StartTimer()
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("podman pull: %v: %s", err, out)
				}
			}
		})
	}
}

// benchCommand runs kist without the logging of run, which would be
// part of what is measured.
func benchCommand(b *testing.B, id *identity, args ...string) {
	b.Helper()
	cmd := id.command(b.Context(), call{args: args})
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("kist %q as %s: %v: %s", args, id.name, err, out)
	}
}

// runcBundle writes an OCI bundle with the busybox root filesystem and a
// spec from `runc spec` that runs true without a terminal.
func runcBundle(b *testing.B, runc string) string {
	b.Helper()
	bundle := b.TempDir()
	rootfs := filepath.Join(bundle, "rootfs")
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		b.Fatal(err)
	}
	entries, err := busyboxEntries()
	if err != nil {
		b.Fatal(err)
	}
	layer, err := ti.LayerFromEntries(entries, ti.LayerOptions{Compression: ti.Uncompressed, Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	tarball, err := layer.Uncompressed()
	if err != nil {
		b.Fatal(err)
	}
	defer tarball.Close()
	untar := exec.Command("tar", "-x", "-p", "--numeric-owner", "-C", rootfs)
	untar.Stdin = tarball
	if out, err := untar.CombinedOutput(); err != nil {
		b.Fatalf("tar -x: %v: %s", err, out)
	}

	if out, err := exec.Command(runc, "spec", "--bundle", bundle).CombinedOutput(); err != nil {
		b.Fatalf("runc spec: %v: %s", err, out)
	}
	path := filepath.Join(bundle, "config.json")
	var spec map[string]any
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		b.Fatal(err)
	}
	process := spec["process"].(map[string]any)
	process["terminal"] = false
	process["args"] = []string{"true"}
	if data, err = json.Marshal(spec); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return bundle
}

func largestBlob(b *testing.B, dir string) string {
	b.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	type blob struct {
		path string
		size int64
	}
	var blobs []blob
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			b.Fatal(err)
		}
		blobs = append(blobs, blob{filepath.Join(dir, e.Name()), info.Size()})
	}
	if len(blobs) == 0 {
		b.Fatalf("no blobs in %s", dir)
	}
	sort.Slice(blobs, func(i, j int) bool { return blobs[i].size > blobs[j].size })
	return blobs[0].path
}

// layerBlobs returns the blob files of the layers unpacked in the store
// at root, read from each layer's layer.json.
func layerBlobs(b *testing.B, root string) []string {
	b.Helper()
	dirs, err := filepath.Glob(filepath.Join(root, "layers", "sha256", "*", "layer.json"))
	if err != nil || len(dirs) == 0 {
		b.Fatalf("no layers in %s: %v", root, err)
	}
	var blobs []string
	for _, path := range dirs {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		var info struct {
			Digest string `json:"digest"`
		}
		if err := json.Unmarshal(data, &info); err != nil {
			b.Fatalf("%s: %v", path, err)
		}
		hex, ok := strings.CutPrefix(info.Digest, "sha256:")
		if !ok {
			b.Fatalf("%s has digest %q, want a sha256 digest", path, info.Digest)
		}
		blobs = append(blobs, filepath.Join(root, "blobs", "sha256", hex))
	}
	return blobs
}

// shortTempDir returns a new directory under /tmp, removed when b ends.
// podman 4.3 rejects a runroot path longer than 50 characters, which
// b.TempDir's names exceed.
func shortTempDir(b *testing.B) string {
	b.Helper()
	parent := "/tmp"
	if dir := os.Getenv("KIST_BENCH_DIR"); dir != "" {
		parent = dir
	}
	dir, err := os.MkdirTemp(parent, "kist-podman-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			b.Logf("remove %s: %v", dir, err)
		}
	})
	return dir
}
