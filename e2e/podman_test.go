package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// podmanStore returns a new directory for a podman store, removed when t
// ends. Its path is short because podman refuses a runroot of over 50
// characters.
func podmanStore(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		if requireAll() {
			t.Fatalf("podman is not installed: %v", err)
		}
		t.Skipf("podman is not installed; run scripts/setup-test-machine: %v", err)
	}
	dir, err := os.MkdirTemp("/tmp", "podman-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeTree(dir) })
	return dir
}

// podmanRun runs podman as root with args, in the store dir that
// podmanStore made, and returns its standard output. The vfs driver needs
// no overlay support, and no event log is written outside the store.
func podmanRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	global := []string{
		"--root", filepath.Join(dir, "root"),
		"--runroot", filepath.Join(dir, "run"),
		"--tmpdir", filepath.Join(dir, "tmp"),
		"--storage-driver", "vfs",
		"--events-backend", "none",
		"--cgroup-manager", "cgroupfs",
	}
	return toolOutput(t, "podman", append(global, args...)...)
}

// TestSaveLoadedByPodman saves pulled images as docker and OCI archives and
// loads each into podman: podman must list the image under its name, with
// kist's image ID and the registry's diff IDs.
func TestSaveLoadedByPodman(t *testing.T) {
	need(t, needBusybox)
	for _, tag := range []string{tagLatest, tagOCIZstd, tagConfig} {
		t.Run(tag, func(t *testing.T) {
			ref := env.busybox.ref(tag)
			wantLayers := strings.Join(skopeoDiffIDs(t, "docker://"+ref), " ")
			wantID := strings.TrimPrefix(env.busybox.ids[tag], "sha256:")
			root := env.identities[0].fresh(t)
			mustSucceed(t, root, "pull", "-q", ref)

			for _, format := range []string{"docker-archive", "oci-archive"} {
				dir := podmanStore(t)
				archive := filepath.Join(dir, "image.tar")
				expectQuiet(t, mustSucceed(t, root, "save", "--format", format, "-o", archive, ref))

				podmanRun(t, dir, "load", "-q", "-i", archive)
				out := podmanRun(t, dir, "image", "inspect", ref)
				var inspected []struct {
					ID     string `json:"Id"`
					RootFS struct{ Layers []string }
				}
				if err := json.Unmarshal([]byte(out), &inspected); err != nil || len(inspected) != 1 {
					t.Fatalf("%s: parse podman image inspect: %v\n%s", format, err, out)
				}
				got := inspected[0].ID + " " + strings.Join(inspected[0].RootFS.Layers, " ")
				if want := wantID + " " + wantLayers; got != want {
					t.Errorf("%s: podman shows image ID and diff IDs %q, want %q", format, got, want)
				}
			}
		})
	}
}
