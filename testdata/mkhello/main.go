// Command mkhello builds testdata/hello as a static binary and writes an
// OCI image layout containing it, for `kist run oci:build/hello`.
//
// Usage, from the repository root:
//
//	go run ./testdata/mkhello [-binary PATH] [-o build/hello]
//
// The image has one layer with /hello, mode 0755, and the config
// Entrypoint ["/hello"]. Without -binary it runs
// `CGO_ENABLED=0 go build ./testdata/hello` itself. The output directory
// is replaced, so the same input always gives the same layout.
package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	ti "github.com/kist-project/kist/internal/testimage"
)

func main() {
	binary := flag.String("binary", "", "path of a built hello binary; empty builds ./testdata/hello")
	out := flag.String("o", "build/hello", "OCI image layout directory to write")
	flag.Parse()
	if err := run(*binary, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mkhello:", err)
		os.Exit(1)
	}
}

func run(binary, out string) error {
	work, err := os.MkdirTemp("", "mkhello-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	if binary == "" {
		binary = filepath.Join(work, "hello")
		if err := buildHello(binary); err != nil {
			return err
		}
	}
	content, err := os.ReadFile(binary)
	if err != nil {
		return err
	}
	img, err := helloImage(content, work)
	if err != nil {
		return err
	}
	return writeLayout(out, img)
}

// buildHello compiles testdata/hello without cgo, so the binary is static
// and needs nothing else in the image.
func buildHello(out string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "./testdata/hello")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	return nil
}

func helloImage(binary []byte, work string) (v1.Image, error) {
	layer, err := ti.LayerFromEntries([]ti.Entry{
		ti.File("hello", string(binary), 0o755),
	}, ti.LayerOptions{Format: ti.OCI, Compression: ti.Gzip, Dir: work})
	if err != nil {
		return nil, err
	}
	return ti.Image(ti.OCI, ti.HostPlatform(), v1.Config{Entrypoint: []string{"/hello"}}, layer)
}

// writeLayout replaces dir with an OCI image layout containing only img,
// readable by every user: the layout package creates blobs with mode
// 0600, and users other than the one who built it may run the image.
func writeLayout(dir string, img v1.Image) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("create layout %s: %w", dir, err)
	}
	if err := p.AppendImage(img); err != nil {
		return fmt.Errorf("write image to %s: %w", dir, err)
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if d.IsDir() {
			mode = 0o755
		}
		return os.Chmod(p, mode)
	})
}
