package pull

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/kist-project/kist/archive"
)

func TestParseArchiveReference(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.tar")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in, path, format, selector string
	}{
		{"docker-archive:" + file, file, "docker-archive", ""},
		{"docker-archive:" + file + ":busybox:latest", file, "docker-archive", "busybox:latest"},
		{"oci-archive:" + file + ":v1", file, "oci-archive", "v1"},
		{"oci-archive:" + file + ":example.com/app:v1", file, "oci-archive", "example.com/app:v1"},
		{"oci-archive:" + dir + "/missing.tar:v1", dir + "/missing.tar:v1", "oci-archive", ""},
	}
	for _, tt := range tests {
		ref, err := ParseReference(tt.in)
		if err != nil {
			t.Errorf("ParseReference(%q): %v", tt.in, err)
			continue
		}
		if ref.ArchivePath != tt.path || ref.ArchiveFormat != tt.format || ref.ArchiveSelector != tt.selector {
			t.Errorf("ParseReference(%q) = path %q, format %q, selector %q; want %q, %q, %q",
				tt.in, ref.ArchivePath, ref.ArchiveFormat, ref.ArchiveSelector, tt.path, tt.format, tt.selector)
		}
	}
	if _, err := ParseReference("docker-archive:"); err == nil {
		t.Errorf("ParseReference accepted an empty archive path")
	}
}

func writeDockerArchive(t *testing.T, entries ...archive.Entry) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "images.tar")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := archive.WriteDocker(f, entries, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestPullDockerArchive(t *testing.T) {
	requireRoot(t)
	first, second := randomImage(t, 1), randomImage(t, 2)
	file := writeDockerArchive(t,
		archive.Entry{Image: first, Names: []string{"docker.io/library/first:1"}},
		archive.Entry{Image: second, Names: []string{"example.com/second:2"}})
	st := openStore(t)

	got, err := Image(context.Background(), st, mustParse(t, "docker-archive:"+file+":example.com/second:2"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantID, _ := second.ConfigName()
	if got.ID != wantID {
		t.Errorf("image ID = %s, want %s", got.ID, wantID)
	}
	if len(got.Names) != 1 || got.Names[0] != "example.com/second:2" {
		t.Errorf("names = %v, want [example.com/second:2]", got.Names)
	}

	got, err = Image(context.Background(), st, mustParse(t, "docker-archive:"+file+":first:1"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantID, _ = first.ConfigName()
	if got.ID != wantID {
		t.Errorf("image ID = %s, want %s for a short name", got.ID, wantID)
	}
}

func TestPullArchiveSelection(t *testing.T) {
	requireRoot(t)
	img := randomImage(t, 1)
	two := writeDockerArchive(t,
		archive.Entry{Image: img, Names: []string{"docker.io/library/a:1"}},
		archive.Entry{Image: randomImage(t, 1), Names: []string{"docker.io/library/b:1"}})
	tests := []struct {
		ref, want string
	}{
		{"docker-archive:" + two, "contains 2 images"},
		{"docker-archive:" + two + ":c:1", "has no image named c:1"},
		{"oci-archive:" + two, "is in docker-archive format, not oci-archive"},
	}
	for _, tt := range tests {
		_, err := Image(context.Background(), openStore(t), mustParse(t, tt.ref), Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.ref, err, tt.want)
		}
	}

	// Images of another platform are rejected when one is required.
	_, err := Image(context.Background(), openStore(t), mustParse(t, "docker-archive:"+two+":a:1"),
		Options{Platform: v1.Platform{OS: "linux", Architecture: "s390x"}, RequirePlatform: true})
	if err == nil || !strings.Contains(err.Error(), "platform") {
		t.Errorf("got %v, want a platform error", err)
	}
}

func TestArchiveTag(t *testing.T) {
	named := archive.Entry{Names: []string{"docker.io/library/a:1", "example.com/b:2"}, Ref: "a:1"}
	bare := archive.Entry{Ref: "latest"}
	tests := []struct {
		ref   Reference
		entry archive.Entry
		want  string
	}{
		{Reference{ArchiveFormat: "docker-archive", ArchiveSelector: "example.com/b:2"}, named, "example.com/b:2"},
		{Reference{ArchiveFormat: "docker-archive"}, named, "docker.io/library/a:1"},
		{Reference{ArchiveFormat: "docker-archive", ArchiveSelector: "a:1"}, named, "docker.io/library/a:1"},
		{Reference{ArchiveFormat: "oci-archive", ArchivePath: "/x/App.tar", ArchiveSelector: "latest"}, bare, "localhost/app:latest"},
		{Reference{ArchiveFormat: "docker-archive", ArchivePath: "/x/app.tar"}, archive.Entry{}, ""},
	}
	for _, tt := range tests {
		if got := archiveTag(tt.ref, tt.entry); got != tt.want {
			t.Errorf("archiveTag(%+v, %v) = %q, want %q", tt.ref, tt.entry.Names, got, tt.want)
		}
	}
}
