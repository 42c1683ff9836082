package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestReadOnlyStore makes a filled store read-only, by a read-only bind
// mount and, for the test users, by chmod -R a-w, and checks that the
// commands that only read the store work: images, image inspect, ps,
// save, system df and push. Commands that write to it must fail with an
// error that names the store and --root.
func TestReadOnlyStore(t *testing.T) {
	need(t, needRoot, needRegistry, needBusybox)
	ref := env.busybox.ref(tagLatest)
	out := shareDir(t)
	// skopeo writes docker-archive layers as plain tar, which a push from
	// the store must compress without keeping the result there.
	plain := filepath.Join(out, "plain.tar")
	skopeoRun(t, "copy", "--src-tls-verify=false", "docker://"+env.busybox.ref(tagConfig), "docker-archive:"+plain+":plain/config:1")
	if err := os.Chmod(plain, 0o644); err != nil {
		t.Fatal(err)
	}
	forEachIdentity(t, func(t *testing.T, id *identity) {
		modes := []string{"mount"}
		if id.uid != 0 {
			// chmod stops no one with CAP_DAC_OVERRIDE, such as root.
			modes = append(modes, "chmod")
		}
		for _, mode := range modes {
			t.Run(mode, func(t *testing.T) {
				fresh := id.fresh(t)
				imageID := strings.TrimSpace(mustSucceed(t, fresh, "pull", "-q", ref).stdout)
				mustSucceed(t, fresh, "load", "-q", "-i", plain)
				store := fresh.store()
				if mode == "mount" {
					mountReadOnly(t, store)
				} else {
					chmodReadOnly(t, store)
				}

				r := runKist(t, fresh, "images", "-q", ref)
				expect(t, r, 0, strings.TrimPrefix(imageID, "sha256:")[:12]+"\n")
				r = mustSucceed(t, fresh, "image", "inspect", ref)
				if !strings.Contains(r.stdout, imageID) {
					t.Errorf("image inspect printed %q, want the ID %s", r.stdout, imageID)
				}
				mustSucceed(t, fresh, "ps", "-a")
				r = mustSucceed(t, fresh, "system", "df")
				if !strings.Contains(r.stdout, "Images") {
					t.Errorf("system df printed %q, want an Images row", r.stdout)
				}

				archive := filepath.Join(out, id.name+"-"+mode+".tar")
				r = runKist(t, fresh, "save", "-o", archive, ref)
				expect(t, r, 0, "")
				expectQuiet(t, r)
				if data, err := os.ReadFile(archive); err != nil || !bytes.Contains(data, []byte("manifest.json")) {
					t.Errorf("%s holds no docker-archive after the save: %v", archive, err)
				}
				dest := env.registry + "/readonly/" + id.name + ":" + mode
				mustSucceed(t, fresh, "push", "-q", ref, dest)
				mustSucceed(t, fresh, "push", "-q", "plain/config:1", dest+"-plain")
				for _, l := range layerMediaTypes(t, dest+"-plain") {
					if !strings.HasSuffix(l, "gzip") {
						t.Errorf("a layer pushed from the read-only store has media type %s, want gzip", l)
					}
				}

				r = runKist(t, fresh, "tag", ref, "other:1")
				expectWriteRejected(t, r, store)
				if mode == "mount" {
					r = runKist(t, fresh, "rmi", ref)
					expectWriteRejected(t, r, store)
					r = runKist(t, fresh, "system", "prune", "-f")
					expectWriteRejected(t, r, store)
				}
				if mode == "mount" {
					// In its user namespace an unprivileged user owns the
					// store, so only the mount stops run from writing.
					r = runKist(t, fresh, "run", "--rm", ref, "true")
					expectWriteRejected(t, r, store)
				}
			})
		}
	})
}

// expectWriteRejected checks that r failed with one line that names the
// read-only store and the flag that chooses another.
func expectWriteRejected(t *testing.T, r result, store string) {
	t.Helper()
	expect(t, r, 125, "")
	expectOneLine(t, r, "the store "+store+" cannot be written")
	if !strings.Contains(r.stderr, "--root") {
		t.Errorf("stderr %q does not name --root", r.stderr)
	}
}

// mountReadOnly bind-mounts dir read-only onto itself until t ends.
func mountReadOnly(t *testing.T, dir string) {
	t.Helper()
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind-mount %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	if err := unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount %s read-only: %v", dir, err)
	}
}

// chmodReadOnly removes every write permission below dir until t ends.
func chmodReadOnly(t *testing.T, dir string) {
	t.Helper()
	if out, err := exec.Command("chmod", "-R", "a-w", dir).CombinedOutput(); err != nil {
		t.Fatalf("chmod -R a-w %s: %v\n%s", dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("chmod", "-R", "u+w", dir).CombinedOutput(); err != nil {
			t.Errorf("chmod -R u+w %s: %v\n%s", dir, err, out)
		}
	})
}

// layerMediaTypes returns the media types of the layers of ref, read from
// the registry's manifest.
func layerMediaTypes(t *testing.T, ref string) []string {
	t.Helper()
	var mediaTypes []string
	for _, l := range registryManifest(t, ref).Layers {
		mediaTypes = append(mediaTypes, l.MediaType)
	}
	return mediaTypes
}
