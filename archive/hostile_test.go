package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ti "github.com/kist-project/kist/internal/testimage"
)

// TestHostileArchives reads archives that try to escape, confuse or
// exhaust the reader. Each must fail with an error that names the file
// and the problem.
func TestHostileArchives(t *testing.T) {
	_, config, layer := testImage(t, ti.Uncompressed, ti.Docker)
	manifest := dockerManifestJSON("c.json", []string{"app:1"}, "l/layer.tar")
	valid := []testMember{regular("manifest.json", manifest), regular("c.json", string(config)), regular("l/layer.tar", string(layer))}
	with := func(extra ...testMember) []testMember {
		return append(append([]testMember{}, extra...), valid...)
	}
	otherLayer := strings.Replace(string(layer), "hi\n", "ho\n", 1)

	cases := []struct {
		name    string
		members []testMember
		want    string
	}{
		{"RepoTags escapes", []testMember{
			regular("manifest.json", dockerManifestJSON("c.json", []string{"../../etc:passwd"}, "l/layer.tar")),
			regular("c.json", string(config)), regular("l/layer.tar", string(layer)),
		}, `RepoTags entry "../../etc:passwd" is not a valid image name`},
		{"dotdot member", with(regular("../evil", "x")), "member names with .. are not allowed"},
		{"dotdot inside member", with(regular("a/../../evil", "x")), "member names with .. are not allowed"},
		{"absolute member", with(regular("/etc/evil", "x")), "absolute member names are not allowed"},
		{"symlink to absolute path", []testMember{
			{name: "manifest.json", typeflag: tar.TypeSymlink, linkname: "/etc/passwd"},
		}, "symlink to the absolute path /etc/passwd"},
		{"symlink out of archive", []testMember{
			{name: "manifest.json", typeflag: tar.TypeSymlink, linkname: "../../etc/passwd"},
		}, "member names with .. are not allowed"},
		{"hardlink out of archive", []testMember{
			{name: "manifest.json", typeflag: tar.TypeLink, linkname: "../manifest.json"},
		}, "member names with .. are not allowed"},
		{"symlink loop", []testMember{
			regular("manifest.json", dockerManifestJSON("c.json", nil, "a")),
			regular("c.json", string(config)),
			{name: "a", typeflag: tar.TypeSymlink, linkname: "b"},
			{name: "b", typeflag: tar.TypeSymlink, linkname: "a"},
		}, "probably a loop"},
		{"device member", with(testMember{name: "dev", typeflag: tar.TypeChar}), "contains only files, directories and links"},
		{"duplicate member", append(with(), regular("manifest.json", "[]")), `member "manifest.json" appears twice`},
		{"missing layer file", []testMember{regular("manifest.json", manifest), regular("c.json", string(config))}, "file l/layer.tar is missing"},
		{"missing config", []testMember{regular("manifest.json", manifest), regular("l/layer.tar", string(layer))}, "file c.json is missing"},
		{"layer count mismatch", []testMember{
			regular("manifest.json", dockerManifestJSON("c.json", nil, "l/layer.tar", "l/layer.tar")),
			regular("c.json", string(config)), regular("l/layer.tar", string(layer)),
		}, "lists 2 layers but config c.json has 1 diff IDs"},
		{"layer digest mismatch", []testMember{regular("manifest.json", manifest), regular("c.json", string(config)), regular("l/layer.tar", otherLayer)}, "does not match"},
		{"invalid manifest.json", []testMember{regular("manifest.json", "{")}, "manifest.json is invalid"},
		{"no images", []testMember{regular("manifest.json", "[]")}, "lists no image"},
		{"bad tag", []testMember{
			regular("manifest.json", dockerManifestJSON("c.json", []string{"UPPER/Case:1"}, "l/layer.tar")),
			regular("c.json", string(config)), regular("l/layer.tar", string(layer)),
		}, "is not a valid image name"},
		{"neither format", []testMember{regular("hello", "x")}, "neither a docker-archive"},
		{"only directories", []testMember{{name: "d/", typeflag: tar.TypeDir}}, "contains no files"},
		{"root as a file", with(regular(".", "x")), "refers to the archive's root directory"},
		{"root as a symlink", with(testMember{name: ".", typeflag: tar.TypeSymlink, linkname: "manifest.json"}), "refers to the archive's root directory"},
		{"dotdot root directory", with(testMember{name: "a/../", typeflag: tar.TypeDir}), "member names with .. are not allowed"},
		{"absolute root directory", with(testMember{name: "/", typeflag: tar.TypeDir}), "absolute member names are not allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := writeTestTar(t, tc.members)
			_, err := readAll(file)
			if err == nil {
				t.Fatalf("reading the archive succeeded")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), file) && !strings.Contains(err.Error(), "blob") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// TestArchiveDotMembers reads an archive written by tar -C DIR -cf x.tar .,
// whose members are "./" and names that start with "./".
func TestArchiveDotMembers(t *testing.T) {
	_, config, layer := testImage(t, ti.Uncompressed, ti.Docker)
	members := []testMember{
		{name: "./", typeflag: tar.TypeDir},
		{name: ".", typeflag: tar.TypeDir},
		regular("./manifest.json", dockerManifestJSON("c.json", []string{"app:1"}, "l/layer.tar")),
		regular("./c.json", string(config)),
		{name: "./l/", typeflag: tar.TypeDir},
		regular("./l/layer.tar", string(layer)),
	}
	entries, err := readAll(writeTestTar(t, members))
	if err != nil {
		t.Fatalf("read archive: %v", err)
	}
	if len(entries) != 1 {
		t.Fatalf("got %d images, want 1", len(entries))
	}
	if got := entries[0].Names; len(got) != 1 || got[0] != "docker.io/library/app:1" {
		t.Errorf("names: got %q, want [docker.io/library/app:1]", got)
	}
}

func TestOCIArchiveHostile(t *testing.T) {
	img, _, _ := testImage(t, ti.Gzip, ti.OCI)
	var buf bytes.Buffer
	if err := WriteOCIArchive(&buf, []Entry{{Image: img, Names: []string{"example.com/a:1"}}}); err != nil {
		t.Fatal(err)
	}
	members := readMembers(t, buf.Bytes())
	layers, _ := img.Layers()
	layerDigest, _ := layers[0].Digest()
	manifestDigest, _ := img.Digest()
	layerBlob := "blobs/sha256/" + layerDigest.Hex
	manifestBlob := "blobs/sha256/" + manifestDigest.Hex

	cases := []struct {
		name   string
		change func(map[string]string)
		want   string
	}{
		{"missing layer blob", func(m map[string]string) { delete(m, layerBlob) }, "blob " + layerDigest.String() + ": file " + layerBlob + " is missing"},
		{"layer blob altered", func(m map[string]string) {
			b := []byte(m[layerBlob])
			b[len(b)-1] ^= 0xff
			m[layerBlob] = string(b)
		}, "does not match"},
		{"layer blob too long", func(m map[string]string) { m[layerBlob] += "x" }, "but its descriptor lists"},
		{"manifest altered", func(m map[string]string) { m[manifestBlob] = strings.Replace(m[manifestBlob], "2", "3", 1) }, "does not match"},
		{"index invalid", func(m map[string]string) { m["index.json"] = "[" }, "index.json is invalid"},
		{"extra blob", func(m map[string]string) { m["blobs/sha256/"+strings.Repeat("0", 64)] = "unused" }, ""},
		{"ref.name escapes", func(m map[string]string) {
			m["index.json"] = strings.Replace(m["index.json"], "example.com/a:1", "../../etc:passwd", 1)
		}, `org.opencontainers.image.ref.name "../../etc:passwd" is not a valid image name: the registry ".." is invalid`},
		{"ref.name with escape sequence", func(m map[string]string) {
			m["index.json"] = strings.Replace(m["index.json"], "example.com/a:1", `\u001b[31mx:1`, 1)
		}, `org.opencontainers.image.ref.name "\x1b[31mx:1" is not a valid image name: it is not in the form NAME[:TAG] or NAME@DIGEST`},
		{"ref.name double slash", func(m map[string]string) {
			m["index.json"] = strings.Replace(m["index.json"], "example.com/a:1", "a//b:1", 1)
		}, `"a//b:1" is not a valid image name`},
		{"ref.name tag only", func(m map[string]string) {
			m["index.json"] = strings.Replace(m["index.json"], "example.com/a:1", "latest", 1)
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range members {
				m[k] = v
			}
			tc.change(m)
			var list []testMember
			for k, v := range m {
				list = append(list, regular(k, v))
			}
			_, err := readAll(writeTestTar(t, list))
			if tc.want == "" {
				if err != nil {
					t.Errorf("got %v, want success", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestHostileFiles(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.tar")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.tar")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not a tar file "), 100), 0o600); err != nil {
		t.Fatal(err)
	}
	gzipped := filepath.Join(dir, "archive.tar.gz")
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte("data"))
	w.Close()
	if err := os.WriteFile(gzipped, gz.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	_, config, layer := testImage(t, ti.Uncompressed, ti.Docker)
	full := writeTestTar(t, []testMember{
		regular("manifest.json", dockerManifestJSON("c.json", nil, "l/layer.tar")),
		regular("c.json", string(config)),
		regular("l/layer.tar", string(layer)),
	})
	data, _ := os.ReadFile(full)
	truncated := filepath.Join(dir, "truncated.tar")
	// Cut the file inside the last member's data, before the end blocks.
	if err := os.WriteFile(truncated, data[:len(data)-1024-len(layer)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	huge := writeTestTar(t, []testMember{regular("manifest.json", "["+strings.Repeat(" ", maxDocument)+"]")})

	cases := []struct {
		name, file, want string
	}{
		{"empty file", empty, "is empty"},
		{"directory", dir, "is a directory"},
		{"missing file", filepath.Join(dir, "nope.tar"), "no such file"},
		{"not a tar file", garbage, "is not a valid tar file"},
		{"gzip-compressed", gzipped, "is compressed with gzip"},
		{"truncated", truncated, "is truncated"},
		{"huge manifest", huge, "more than the limit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAll(tc.file)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), tc.file) {
				t.Errorf("error %q does not name %s", err, tc.file)
			}
		})
	}
}

func readMembers(t *testing.T, data []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		var b bytes.Buffer
		b.ReadFrom(tr)
		out[hdr.Name] = b.String()
	}
	return out
}
