package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestRunHelloLayout runs the README's first example: the hello image as
// an OCI layout on disk, which needs no registry. The first run imports
// the image and may report that on stderr, but the second must be quiet.
func TestRunHelloLayout(t *testing.T) {
	dir, err := os.MkdirTemp(env.base, "hello-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeTree(dir) })
	// The test users read the layout, so it must not stay 0700.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	layoutDir := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "run", "./testdata/mkhello", "-o", layoutDir)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}

	forEachIdentity(t, func(t *testing.T, id *identity) {
		const greeting = "Hello from kist!\nI run as uid 0, gid 0.\n"
		r := runKist(t, id, "run", "--rm", "oci:"+layoutDir)
		expect(t, r, 0, greeting)
		r = runKist(t, id, "run", "--rm", "oci:"+layoutDir)
		expect(t, r, 0, greeting)
		expectQuiet(t, r)
		expectNoLeftovers(t, id.store())
	})
}
