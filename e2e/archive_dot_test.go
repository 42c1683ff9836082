package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestArchiveDotMembers loads and runs archives written by
// tar -C DIR -cf x.tar ., whose first member is "./" and whose other
// member names start with "./".
func TestArchiveDotMembers(t *testing.T) {
	need(t, needBusybox)
	dir := shareDir(t)
	src := "docker://" + env.busybox.ref(tagConfig)

	ociDir := filepath.Join(dir, "oci")
	skopeoRun(t, "copy", "--src-tls-verify=false", src, "oci:"+ociDir+":app:1")
	ociArchive := filepath.Join(dir, "oci.tar")
	tarDir(t, ociDir, ociArchive)

	dockerSkopeo := filepath.Join(dir, "skopeo-docker.tar")
	skopeoRun(t, "copy", "--src-tls-verify=false", src, "docker-archive:"+dockerSkopeo+":app:1")
	dockerDir := filepath.Join(dir, "docker")
	if err := os.Mkdir(dockerDir, 0o755); err != nil {
		t.Fatal(err)
	}
	toolOutput(t, "tar", "-C", dockerDir, "-xf", dockerSkopeo)
	dockerArchive := filepath.Join(dir, "docker.tar")
	tarDir(t, dockerDir, dockerArchive)
	makeReadable(t, dir)

	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		r := runKist(t, id, "load", "-i", ociArchive)
		expect(t, r, 0, "Loaded image: docker.io/library/app:1\n")
		r = runKist(t, id, "load", "-i", dockerArchive)
		expect(t, r, 0, "Loaded image: docker.io/library/app:1\n")

		for _, ref := range []string{"oci-archive:" + ociArchive, "docker-archive:" + dockerArchive} {
			// The image's entrypoint is echo entry.
			r := runKist(t, id, "run", "--rm", ref, "direct")
			expect(t, r, 0, "entry direct\n")
		}
		expectNoLeftovers(t, id.store())
	})
}

// tarDir writes the content of dir to the tar file archive, as
// tar -C dir -cf archive . does, and checks that its first member is "./".
func tarDir(t *testing.T, dir, archive string) {
	t.Helper()
	toolOutput(t, "tar", "-C", dir, "-cf", archive, ".")
	first, _, _ := strings.Cut(toolOutput(t, "tar", "-tf", archive), "\n")
	if first != "./" {
		t.Fatalf("first member of %s is %q, want ./", archive, first)
	}
}
