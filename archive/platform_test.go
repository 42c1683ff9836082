package archive

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// platformImage returns a random image whose config names platform p.
func platformImage(t *testing.T, p v1.Platform) v1.Image {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	config, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	config.OS, config.Architecture, config.Variant = p.OS, p.Architecture, p.Variant
	img, err = mutate.ConfigFile(img, config)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// ociArchiveOf writes idx as the only entry of an OCI layout and returns
// the layout packed as a tar file.
func ociArchiveOf(t *testing.T, idx v1.ImageIndex) string {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}

	// layout.Write of go-containerregistry v0.22.1 creates blobs/sha256
	// only for the first manifest it writes, which an empty index lacks.
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx); err != nil {
		t.Fatal(err)
	}

	var members []testMember
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		members = append(members, regular(rel, string(data)))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return writeTestTar(t, members)
}

// imageFor opens file and returns the ID of the image it holds for
// platform.
func imageFor(t *testing.T, file string, platform v1.Platform) (v1.Hash, error) {
	t.Helper()
	a, err := Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	entries, err := a.Images(platform)
	if err != nil {
		return v1.Hash{}, err
	}
	if len(entries) != 1 {
		t.Fatalf("archive has %d images, want 1", len(entries))
	}
	return entries[0].Image.ConfigName()
}

var (
	linuxAMD64 = v1.Platform{OS: "linux", Architecture: "amd64"}
	linuxARM64 = v1.Platform{OS: "linux", Architecture: "arm64"}
)

// TestOCIArchiveNestedIndex reads an index of two indexes, of which only
// the second has the requested platform.
func TestOCIArchiveNestedIndex(t *testing.T) {
	s390x := v1.Platform{OS: "linux", Architecture: "s390x"}
	amd, arm := platformImage(t, linuxAMD64), platformImage(t, linuxARM64)
	first := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: platformImage(t, s390x), Descriptor: v1.Descriptor{Platform: &s390x}})
	second := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &linuxAMD64}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &linuxARM64}})
	file := ociArchiveOf(t, mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: first}, mutate.IndexAddendum{Add: second}))

	got, err := imageFor(t, file, linuxARM64)
	if err != nil {
		t.Fatalf("read arm64 image through a nested index: %v", err)
	}
	if want, _ := arm.ConfigName(); got != want {
		t.Errorf("image = %s, want the arm64 image %s", got, want)
	}

	_, err = imageFor(t, file, v1.Platform{OS: "linux", Architecture: "ppc64le"})
	if err == nil || !strings.Contains(err.Error(), "linux/s390x, linux/amd64, linux/arm64") {
		t.Errorf("read ppc64le image: got %v, want an error listing linux/s390x, linux/amd64, linux/arm64", err)
	}
}

func TestOCIArchiveEntryWithoutPlatform(t *testing.T) {
	amd, arm := platformImage(t, linuxAMD64), platformImage(t, linuxARM64)
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: arm},
		mutate.IndexAddendum{Add: amd})
	file := ociArchiveOf(t, idx)

	got, err := imageFor(t, file, linuxAMD64)
	if err != nil {
		t.Fatalf("read an entry without a platform field: %v", err)
	}
	if want, _ := amd.ConfigName(); got != want {
		t.Errorf("image = %s, want the image whose config names linux/amd64, %s", got, want)
	}
}

func TestOCIArchiveEmptyIndex(t *testing.T) {
	file := ociArchiveOf(t, empty.Index)

	_, err := imageFor(t, file, linuxAMD64)
	if err == nil {
		t.Fatal("read of an empty index succeeded")
	}
	if !strings.Contains(err.Error(), "lists no image") || strings.Contains(err.Error(), ": )") {
		t.Errorf("error %q does not say that the index lists no image", err)
	}
}
