package e2e

import (
	"archive/tar"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	ti "github.com/kist-project/kist/internal/testimage"
)

// ownedImage pushes busybox with a directory /data that uid 1000 owns.
// For a user with subordinate IDs, kist unpacks /data with a subordinate
// ID as owner, which the user cannot write to outside kist.
func ownedImage(t *testing.T, repo string) string {
	t.Helper()
	owned := newLayer(t,
		ti.Entry{Name: "data", Type: tar.TypeDir, Mode: 0o755, UID: 1000, GID: 1000},
		ti.Entry{Name: "data/f", Type: tar.TypeReg, Mode: 0o644, UID: 1000, GID: 1000, Content: []byte("f\n")},
	)
	return pushTestImage(t, repo, newImage(t, busyboxConfig(), busyboxLayer(t), owned))
}

// stoppedContainer runs a container that writes files, as uid 1000 where
// the identity has subordinate IDs, and returns its ID.
func stoppedContainer(t *testing.T, id *identity, ref string) string {
	t.Helper()
	user := "0:0"
	if id.subIDs {
		user = "1000:1000"
	}
	mustSucceed(t, id, "run", "-u", user, ref, "sh", "-c", "mkdir /data/c && echo x >/data/c/f")
	containerID := strings.TrimSuffix(mustSucceed(t, id, "ps", "-a", "-q").stdout, "\n")
	if len(containerID) < 12 || strings.Contains(containerID, "\n") {
		t.Fatalf("kist ps -a -q printed %q, want one container ID", containerID)
	}
	return containerID
}

// TestSystemPrune checks the confirmation, then that kist system prune
// removes the stopped container but keeps the named image, and that
// --all removes the image, its layers and its blobs too.
func TestSystemPrune(t *testing.T) {
	need(t, needRegistry, needBusybox)
	ref := ownedImage(t, "kist-e2e/prune")
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		pulled(t, id, ref)
		containerID := stoppedContainer(t, id, ref)

		r := id.run(t, call{args: []string{"system", "prune"}, stdin: "n\n"})
		expect(t, r, 0, "")
		if !strings.Contains(r.stderr, "all stopped containers") {
			t.Errorf("kist system prune asked %q, want a warning that names what it removes", r.stderr)
		}
		expect(t, mustSucceed(t, id, "ps", "-a", "-q"), 0, containerID+"\n")

		// A killed pull's leftover, which prune removes as the next pull
		// would.
		stale := filepath.Join(id.store(), "tmp", "layer-stale")
		if err := os.MkdirAll(filepath.Join(stale, "diff"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(stale, int(id.uid), int(id.gid)); err != nil {
			t.Fatal(err)
		}

		r = mustSucceed(t, id, "system", "prune", "-f")
		if !strings.Contains(r.stdout, "Deleted Containers:\n"+containerID) {
			t.Errorf("kist system prune -f printed %q, want the container %s under Deleted Containers", r.stdout, containerID)
		}
		expect(t, mustSucceed(t, id, "ps", "-a", "-q"), 0, "")
		if got := mustSucceed(t, id, "images", "-q").stdout; got == "" {
			t.Errorf("kist system prune without --all removed the named image %s", ref)
		}
		expectNoLeftovers(t, id.store())

		r = id.run(t, call{args: []string{"system", "prune", "--all"}, stdin: "y\n"})
		expect(t, r, 0, r.stdout)
		if !strings.Contains(r.stdout, "deleted: sha256:") {
			t.Errorf("kist system prune --all printed %q, want the deleted image", r.stdout)
		}
		expect(t, mustSucceed(t, id, "images", "-q"), 0, "")
		for _, dir := range []string{"layers/sha256", "blobs/sha256"} {
			if names := listDir(t, filepath.Join(id.store(), dir)); len(names) > 0 {
				t.Errorf("%s holds %q after kist system prune --all, want it empty", dir, names)
			}
		}
	})
}

// TestSystemReset fills a store with a layer and a stopped container
// whose files belong to uid 1000, which for kisttest is a subordinate
// ID, and checks that kist system reset leaves the store empty and
// usable.
func TestSystemReset(t *testing.T) {
	need(t, needRegistry, needBusybox)
	ref := ownedImage(t, "kist-e2e/reset")
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		pulled(t, id, ref)
		stoppedContainer(t, id, ref)
		if id.name != "root" && id.subIDs {
			expectNotWritable(t, id, dataDir(t, id))
		}

		r := id.run(t, call{args: []string{"system", "reset"}, stdin: "n\n"})
		expect(t, r, 0, "")
		if len(listDir(t, filepath.Join(id.store(), "layers", "sha256"))) == 0 {
			t.Fatalf("kist system reset answered with n removed the layers")
		}

		expect(t, mustSucceed(t, id, "system", "reset", "--force"), 0, "")
		if names := listDir(t, id.store()); len(names) > 0 {
			t.Errorf("the store holds %q after kist system reset, want it empty", names)
		}
		expect(t, mustSucceed(t, id, "images", "-q"), 0, "")
		expect(t, mustSucceed(t, id, "run", "--rm", ref, "cat", "/data/f"), 0, "f\n")
	})
}

// TestSystemResetAfterIDMapChange fills kisttest's store under its
// subordinate IDs and resets it under a single-ID map, which cannot
// remove the files of subordinate IDs. The error must name the cause and
// the fix, the ID map check must stay in force, and a reset under the
// earlier map must succeed.
func TestSystemResetAfterIDMapChange(t *testing.T) {
	need(t, needRegistry, needBusybox, needUsers)
	ref := ownedImage(t, "kist-e2e/reset-idmap")
	id := subIDUser(t).fresh(t)
	pulled(t, id, ref)

	single := []string{"KIST_USERNS=single"}
	runTrue := []string{"run", "--rm", ref, "true"}
	r := id.run(t, call{args: runTrue, env: single})
	expect(t, r, 125, "")
	expectOneLine(t, r, "kist system reset")

	r = id.run(t, call{args: []string{"system", "reset", "-f"}, env: single})
	expect(t, r, 125, "")
	if !strings.Contains(r.stderr, "restore the earlier setting") {
		t.Errorf("kist system reset under another ID map said %q, want it to name the fix", r.stderr)
	}
	r = id.run(t, call{args: runTrue, env: single})
	expect(t, r, 125, "")
	expectOneLine(t, r, "ID map")

	expect(t, mustSucceed(t, id, "system", "reset", "-f"), 0, "")
	if names := listDir(t, id.store()); len(names) > 0 {
		t.Errorf("the store holds %q after kist system reset, want it empty", names)
	}
}

// dataDir returns the unpacked /data directory of the image's top layer.
func dataDir(t *testing.T, id *identity) string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(id.store(), "layers", "sha256", "*", "diff", "data"))
	if err != nil || len(dirs) != 1 {
		t.Fatalf("find the unpacked /data directory: %v, %q", err, dirs)
	}
	return dirs[0]
}

// expectNotWritable checks that id, outside kist, cannot create a file in
// dir, so that removing dir's files needs kist's user namespace.
func expectNotWritable(t *testing.T, id *identity, dir string) {
	t.Helper()
	probe := filepath.Join(dir, "probe")
	cmd := exec.Command("touch", probe)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: id.uid, Gid: id.gid, Groups: []uint32{}}}
	if err := cmd.Run(); err == nil {
		_ = os.Remove(probe)
		t.Fatalf("%s could create %s, so this test would not show that reset uses the user namespace", id.name, probe)
	}
}

// subIDUser returns a test user with subordinate IDs, or skips the test.
func subIDUser(t *testing.T) *identity {
	t.Helper()
	for _, id := range env.identities {
		if id.name != "root" && id.subIDs {
			return id
		}
	}
	t.Skip("no test user with subordinate IDs")
	return nil
}

// TestPruneWhileContainerRuns removes images while a container runs.
// Neither rmi nor prune may wait for the container to end, and prune
// must keep the image that the container uses.
func TestPruneWhileContainerRuns(t *testing.T) {
	need(t, needRegistry, needBusybox)
	ref := env.busybox.ref(tagLatest)
	other := ownedImage(t, "kist-e2e/prune-running")
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		pulled(t, id, ref)
		pulled(t, id, other)
		marker := newMarker(t)
		t.Cleanup(func() { killMarked(t, marker) })

		output, err := os.CreateTemp(t.TempDir(), "output-")
		if err != nil {
			t.Fatal(err)
		}
		defer output.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := id.command(ctx, call{args: []string{"run", "--rm", "-e", marker, ref, "sleep", "60"}})
		cmd.Stdout, cmd.Stderr = output, output
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			killMarked(t, marker)
			_ = cmd.Wait()
		}()
		if !waitFor(30*time.Second, func() bool { return len(markedSleeps(marker)) > 0 }) {
			t.Fatalf("the container did not start within 30 s; kist's output:\n%s", readAll(t, output.Name()))
		}

		// Far less than the container's 60 s.
		short := 20 * time.Second
		r := id.run(t, call{args: []string{"rmi", other}, timeout: short})
		expect(t, r, 0, r.stdout)
		r = id.run(t, call{args: []string{"system", "prune", "--all", "--force"}, timeout: short})
		expect(t, r, 0, r.stdout)
		expect(t, mustSucceed(t, id, "images", "-q"), 0, shortID(env.busybox.ids[tagLatest])+"\n")
	})
}
