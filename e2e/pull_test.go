package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pulled pulls ref as id and fails the test unless the pull succeeds, so
// that later commands find the image in the store.
func pulled(t *testing.T, id *identity, ref string) {
	t.Helper()
	mustSucceed(t, id, "pull", ref)
}

// shortID returns the 12 hex digits that `kist images` shows for an ID.
func shortID(imageID string) string {
	return strings.TrimPrefix(imageID, "sha256:")[:12]
}

func TestPullPrintsImageID(t *testing.T) {
	need(t, needRegistry, needDebian)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		r := runKist(t, id, "pull", env.debian.ref(tagBookworm))
		expect(t, r, 0, env.debian.ids[tagBookworm]+"\n")
		expectNoLeftovers(t, id.store())
	})
}

// TestPullFlagAfterImage puts -q after the image, which docker accepts:
// the pull prints only the image ID.
func TestPullFlagAfterImage(t *testing.T) {
	need(t, needRegistry, needBusybox)
	id := currentIdentity().fresh(t)
	r := runKist(t, id, "pull", env.busybox.ref(tagLatest), "-q")
	expect(t, r, 0, env.busybox.ids[tagLatest]+"\n")
	expectQuiet(t, r)
}

// TestPullManifestFormats pulls busybox in every manifest format and layer
// encoding and checks the ID, then the modes inside a container of it.
func TestPullManifestFormats(t *testing.T) {
	need(t, needRegistry, needBusybox)
	tags := []string{tagLatest, tagDockerTar, tagOCIGzip, tagOCIZstd, tagOCITar, tagOCIIndex, tagDockerList}
	forEachIdentity(t, func(t *testing.T, id *identity) {
		for _, tag := range tags {
			t.Run(tag, func(t *testing.T) {
				ref := env.busybox.ref(tag)
				r := runKist(t, id, "pull", ref)
				expect(t, r, 0, env.busybox.ids[tag]+"\n")

				r = runKist(t, id, "run", "--rm", ref, "stat", "-c", "%a %u %g %n",
					"/bin/suidtest", "/ro", "/ro/file", "/tmp")
				expect(t, r, 0, busyboxModes)
				expectQuiet(t, r)
				expectNoLeftovers(t, id.store())
			})
		}
	})
}

// busyboxModes is what stat prints in a busybox container for the files
// whose modes an unpacker most easily gets wrong.
const busyboxModes = `4755 0 0 /bin/suidtest
555 0 0 /ro
444 0 0 /ro/file
1777 0 0 /tmp
`

// TestPullStorePaths checks where each way of naming the store puts it:
// --root, KIST_ROOT, XDG_DATA_HOME and the default under HOME.
func TestPullStorePaths(t *testing.T) {
	need(t, needRegistry, needBusybox)
	ref := env.busybox.ref(tagLatest)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		byFlag := filepath.Join(id.home, "by-flag")
		byEnv := filepath.Join(id.home, "by-env")
		xdg := filepath.Join(id.home, "xdg")
		cases := []struct {
			name  string
			call  call
			store string
		}{
			{"flag", call{args: []string{"--root", byFlag, "pull", ref}}, byFlag},
			{"KIST_ROOT", call{args: []string{"pull", ref}, env: []string{"KIST_ROOT=" + byEnv}}, byEnv},
			{"XDG_DATA_HOME", call{args: []string{"pull", ref}, env: []string{"XDG_DATA_HOME=" + xdg}}, filepath.Join(xdg, "kist")},
		}
		for _, c := range cases {
			r := id.run(t, c.call)
			expect(t, r, 0, env.busybox.ids[tagLatest]+"\n")
			expectStoreHolds(t, c.store, env.busybox.ids[tagLatest])
		}
		if _, err := os.Lstat(id.store()); err == nil {
			t.Errorf("default store %s exists after pulls into other stores", id.store())
		}

		r := runKist(t, id, "pull", ref)
		expect(t, r, 0, env.busybox.ids[tagLatest]+"\n")
		expectStoreHolds(t, id.store(), env.busybox.ids[tagLatest])
	})
}

// expectStoreHolds checks that the store at root has an image list and
// the config blob of imageID.
func expectStoreHolds(t *testing.T, root, imageID string) {
	t.Helper()
	for _, p := range []string{
		filepath.Join(root, "images.json"),
		filepath.Join(root, "blobs", "sha256", strings.TrimPrefix(imageID, "sha256:")),
	} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("store %s: %v", root, err)
		}
	}
}
