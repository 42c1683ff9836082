package unpack

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// debianRootfsName is the directory, under the test cache, where the
// end-to-end tests keep a root filesystem made by debootstrap --variant
// minbase. A file of the same name plus ".complete" marks it as finished.
const debianRootfsName = "debian-bookworm-minbase"

// testCacheDir returns $KIST_TEST_CACHE, or the default the end-to-end
// tests use.
func testCacheDir() string {
	if dir := os.Getenv("KIST_TEST_CACHE"); dir != "" {
		return dir
	}
	return "/var/tmp/kist-test-cache"
}

// benchLayerEnv names the layer tar that BenchmarkLayer unpacks. If the
// file does not exist, the benchmark writes it first and keeps it, so that
// other tools can unpack the same bytes.
const benchLayerEnv = "KIST_BENCH_LAYER"

// BenchmarkLayer unpacks an uncompressed layer made from the cached Debian
// rootfs, about 120 MB in 6,700 entries, into a fresh directory per
// iteration. The throughput counts the bytes of the tar stream.
func BenchmarkLayer(b *testing.B) {
	requireRoot(b)
	layer := os.Getenv(benchLayerEnv)
	if layer == "" {
		layer = filepath.Join(b.TempDir(), "layer.tar")
	}
	if _, err := os.Stat(layer); errors.Is(err, fs.ErrNotExist) {
		rootfs := filepath.Join(testCacheDir(), debianRootfsName)
		if _, err := os.Stat(rootfs + ".complete"); err != nil {
			b.Skipf("no complete Debian rootfs at %s: run the end-to-end tests once "+
				"(their debootstrap step creates it), or set KIST_TEST_CACHE", rootfs)
		}
		if err := writeTreeTar(rootfs, layer); err != nil {
			b.Fatalf("build layer from %s: %v", rootfs, err)
		}
	}
	info, err := os.Stat(layer)
	if err != nil {
		b.Fatal(err)
	}

	// The sub-benchmark lets the tar be built once: a parent benchmark
	// that calls b.Run runs only once.
	b.Run(debianRootfsName, func(b *testing.B) {
		b.SetBytes(info.Size())
		// The trees are removed after the last iteration, not between
		// iterations: on ext4, creating files right after many were
		// removed costs several times more system time (perf shows the
		// inode allocator in recently_deleted), for about half a minute.
		work := b.TempDir()
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			dir := filepath.Join(work, fmt.Sprint(i))
			if err := os.Mkdir(dir, 0o755); err != nil {
				b.Fatal(err)
			}
			f, err := os.Open(layer)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()

			_, err = Layer(context.Background(), f, dir, Options{})

			b.StopTimer()
			f.Close()
			if err != nil {
				b.Fatalf("Layer: %v", err)
			}
			b.StartTimer()
		}
	})
}

// writeTreeTar writes the tree at root to the file out as an uncompressed
// tar with names relative to root, numeric owners, modes and modification
// times as on disk, and a hardlink entry for each further name of a file.
// Times are whole seconds, and the format is ustar unless an entry needs
// pax records. Sockets are left out, as tar does, and xattrs are not
// recorded.
func writeTreeTar(root, out string) (err error) {
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	tw := tar.NewWriter(f)
	type inode struct{ dev, ino uint64 }
	firstName := make(map[inode]string)

	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Type() == fs.ModeSocket {
			return nil
		}
		link := ""
		if info.Mode().Type() == fs.ModeSymlink {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uname, hdr.Gname = "", ""
		hdr.ModTime = hdr.ModTime.Truncate(time.Second)
		hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}

		st := info.Sys().(*syscall.Stat_t)
		if info.Mode().IsRegular() && st.Nlink > 1 {
			key := inode{uint64(st.Dev), st.Ino}
			if first, ok := firstName[key]; ok {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			} else {
				firstName[key] = hdr.Name
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeReg && hdr.Size > 0 {
			return copyFileTo(tw, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

func copyFileTo(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	if errors.Is(err, tar.ErrWriteTooLong) {
		return fmt.Errorf("%s grew while it was read: %w", path, err)
	}
	return err
}
