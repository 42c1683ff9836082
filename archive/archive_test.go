package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/kist-project/kist/blobimage"
	ti "github.com/kist-project/kist/internal/testimage"
)

// member is one file of a test archive.
type testMember struct {
	name     string
	typeflag byte
	body     string
	linkname string
}

func regular(name, body string) testMember {
	return testMember{name: name, typeflag: tar.TypeReg, body: body}
}

func writeTestTar(t *testing.T, members []testMember) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		hdr := &tar.Header{Name: m.name, Typeflag: m.typeflag, Linkname: m.linkname, Mode: 0o644, Size: int64(len(m.body))}
		if m.typeflag != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Size > 0 {
			if _, err := tw.Write([]byte(m.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "archive.tar")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// testImage returns a one-layer image and its config and uncompressed
// layer bytes.
func testImage(t *testing.T, c ti.Compression, format ti.Format) (v1.Image, []byte, []byte) {
	t.Helper()
	layer, err := ti.LayerFromEntries([]ti.Entry{ti.File("hello", "hi\n", 0o644)}, ti.LayerOptions{Compression: c, Format: format, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	img, err := ti.Image(format, ti.HostPlatform(), v1.Config{Cmd: []string{"/hello"}}, layer)
	if err != nil {
		t.Fatal(err)
	}
	config, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layer.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tarBytes, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return img, config, tarBytes
}

// readAll opens file and reads every image and every layer, as a load
// does, and returns the first error.
func readAll(file string) ([]Entry, error) {
	a, err := Open(file)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	entries, err := a.Images(ti.HostPlatform())
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		layers, err := e.Image.Layers()
		if err != nil {
			return nil, err
		}
		for _, l := range layers {
			rc, err := l.Compressed()
			if err != nil {
				return nil, err
			}
			_, err = io.Copy(io.Discard, rc)
			rc.Close()
			if err != nil {
				return nil, err
			}
		}
	}
	return entries, nil
}

func dockerManifestJSON(config string, tags []string, layers ...string) string {
	quoted := func(list []string) string {
		var q []string
		for _, s := range list {
			q = append(q, fmt.Sprintf("%q", s))
		}
		return "[" + strings.Join(q, ",") + "]"
	}
	return fmt.Sprintf(`[{"Config":%q,"RepoTags":%s,"Layers":%s}]`, config, quoted(tags), quoted(layers))
}

func TestDockerArchiveHandWritten(t *testing.T) {
	img, config, layer := testImage(t, ti.Gzip, ti.Docker)
	file := writeTestTar(t, []testMember{
		regular("manifest.json", dockerManifestJSON("c.json", []string{"busybox:1", "127.0.0.1:5000/x:y"}, "l/layer.tar")),
		regular("c.json", string(config)),
		{name: "l/", typeflag: tar.TypeDir},
		regular("l/layer.tar", string(layer)),
		regular("extra-file", "ignored"),
	})

	entries, err := readAll(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("got %d images, want 1", len(entries))
	}
	want := []string{"docker.io/library/busybox:1", "127.0.0.1:5000/x:y"}
	if strings.Join(entries[0].Names, " ") != strings.Join(want, " ") {
		t.Errorf("names = %v, want %v", entries[0].Names, want)
	}
	gotID, _ := entries[0].Image.ConfigName()
	wantID, _ := img.ConfigName()
	if gotID != wantID {
		t.Errorf("image ID = %s, want %s", gotID, wantID)
	}
}

// TestDockerArchiveGzipLayers reads what go-containerregistry's tarball
// package writes: gzip layer files that manifest.json names without a
// digest.
func TestDockerArchiveGzipLayers(t *testing.T) {
	img, _, _ := testImage(t, ti.Gzip, ti.Docker)
	file := filepath.Join(t.TempDir(), "ggcr.tar")
	tag, _ := name.NewTag("example.com/app:v1")
	if err := tarball.WriteToFile(file, tag, img); err != nil {
		t.Fatal(err)
	}
	entries, err := readAll(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := entries[0].Names; len(got) != 1 || got[0] != "example.com/app:v1" {
		t.Errorf("names = %v, want [example.com/app:v1]", got)
	}
	layers, _ := entries[0].Image.Layers()
	wantLayers, _ := img.Layers()
	got, _ := layers[0].Digest()
	want, _ := wantLayers[0].Digest()
	if got != want {
		t.Errorf("layer digest = %s, want the gzip blob's %s", got, want)
	}
}

func TestWriteAndReadBack(t *testing.T) {
	img, _, _ := testImage(t, ti.Gzip, ti.OCI)
	wantID, _ := img.ConfigName()
	wantDiffIDs := diffIDs(t, img)
	in := []Entry{{Image: img, Names: []string{"docker.io/library/app:1", "example.com/app:2"}}}

	docker := filepath.Join(t.TempDir(), "docker.tar")
	oci := filepath.Join(t.TempDir(), "oci.tar")
	writeFile(t, docker, func(w io.Writer) error { return WriteDocker(w, in, t.TempDir()) })
	writeFile(t, oci, func(w io.Writer) error { return WriteOCIArchive(w, in) })

	for _, file := range []string{docker, oci} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			entries, err := readAll(file)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				id, _ := e.Image.ConfigName()
				if id != wantID {
					t.Errorf("image ID = %s, want %s", id, wantID)
				}
				if got := diffIDs(t, e.Image); strings.Join(got, " ") != strings.Join(wantDiffIDs, " ") {
					t.Errorf("diff IDs = %v, want %v", got, wantDiffIDs)
				}
				names = append(names, e.Names...)
			}
			if strings.Join(names, " ") != "docker.io/library/app:1 example.com/app:2" {
				t.Errorf("names = %v", names)
			}
		})
	}
}

func TestWriteDockerRepositories(t *testing.T) {
	img, _, _ := testImage(t, ti.Gzip, ti.Docker)
	var buf bytes.Buffer
	if err := WriteDocker(&buf, []Entry{{Image: img, Names: []string{"docker.io/library/app:1"}}}, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("no repositories file: %v", err)
		}
		if hdr.Name != "repositories" {
			continue
		}
		data, _ := io.ReadAll(tr)
		diff := diffIDs(t, img)
		want := fmt.Sprintf(`{"docker.io/library/app":{"1":%q}}`, strings.TrimPrefix(diff[0], "sha256:"))
		if string(data) != want {
			t.Errorf("repositories = %s, want %s", data, want)
		}
		return
	}
}

func TestWriteOCIDirRejectsNonEmpty(t *testing.T) {
	img, _, _ := testImage(t, ti.Gzip, ti.OCI)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := WriteOCIDir(dir, []Entry{{Image: img}})
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("got %v, want an error about a non-empty directory", err)
	}
}

func diffIDs(t *testing.T, img v1.Image) []string {
	t.Helper()
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range cfg.RootFS.DiffIDs {
		out = append(out, d.String())
	}
	return out
}

func writeFile(t *testing.T, file string, write func(io.Writer) error) {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := write(f); err != nil {
		t.Fatal(err)
	}
}

// TestDockerArchiveLinks reads layer files that are links to other
// members, as podman writes its legacy layer directories.
func TestDockerArchiveLinks(t *testing.T) {
	_, config, layer := testImage(t, ti.Uncompressed, ti.Docker)
	for _, link := range []testMember{
		{name: "legacy/layer.tar", typeflag: tar.TypeSymlink, linkname: "../layer-file.tar"},
		{name: "legacy/layer.tar", typeflag: tar.TypeLink, linkname: "layer-file.tar"},
	} {
		file := writeTestTar(t, []testMember{
			regular("manifest.json", dockerManifestJSON("c.json", []string{"app:1"}, "legacy/layer.tar")),
			regular("c.json", string(config)),
			regular("layer-file.tar", string(layer)),
			link,
		})
		if _, err := readAll(file); err != nil {
			t.Errorf("layer behind a link of type %q: %v", link.typeflag, err)
		}
	}
}

func TestWriteOCIDirFailureLeavesNothing(t *testing.T) {
	layer := blobimage.Layer{
		Descriptor: v1.Descriptor{Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}, Size: 1, MediaType: types.OCILayer},
		Open:       func() (io.ReadCloser, error) { return nil, errors.New("blob is gone") },
	}
	img, err := blobimage.New([]byte(`{"rootfs":{"type":"layers","diff_ids":["sha256:`+strings.Repeat("b", 64)+`"]}}`),
		[]blobimage.Layer{layer}, types.OCIManifestSchema1)
	if err != nil {
		t.Fatal(err)
	}
	parent := t.TempDir()
	dir := filepath.Join(parent, "layout")

	err = WriteOCIDir(dir, []Entry{{Image: img}})
	if err == nil || !strings.Contains(err.Error(), "blob is gone") {
		t.Errorf("got %v, want the layer's error", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("%s holds %d entries after a failed write, want none", parent, len(entries))
	}
}

func TestCanonicalName(t *testing.T) {
	cases := []struct{ in, want string }{
		{"busybox:1", "docker.io/library/busybox:1"},
		{"docker.io/library/busybox:1", "docker.io/library/busybox:1"},
		{"index.docker.io/a/b:1", "docker.io/a/b:1"},
		{"localhost:5000/a/b_c__d-e.f:v1.0", "localhost:5000/a/b_c__d-e.f:v1.0"},
		{"[::1]:5000/a:1", "[::1]:5000/a:1"},
		{"../../etc:passwd", ""},
		{"a//b:1", ""},
		{"a..b:1", ""},
		{"a___b:1", ""},
		{"-a:1", ""},
		{"example.com/a.:1", ""},
		{"-bad.example/a:1", ""},
		{"Upper/a:1", ""},
		{"\x1b[31mx:1", ""},
		{strings.Repeat("a", 237) + ":1", "docker.io/library/" + strings.Repeat("a", 237) + ":1"},
		{strings.Repeat("a", 238) + ":1", ""},
	}
	for _, tc := range cases {
		got, err := canonicalName(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("canonicalName(%q) = %q, want an error", tc.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("canonicalName(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("canonicalName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
