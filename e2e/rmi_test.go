package e2e

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	ti "github.com/kist-project/kist/internal/testimage"
)

// TestRmiRemovesLayers pulls two images that share the busybox layer and
// add one layer each, then removes them one at a time by name. Each kist
// rmi must delete the unpacked layers that no remaining image uses and
// keep the others.
func TestRmiRemovesLayers(t *testing.T) {
	need(t, needRegistry, needBusybox)
	base := busyboxLayer(t)
	onlyA := newLayer(t, ti.File("only-a", "a\n", 0o644))
	onlyB := newLayer(t, ti.File("only-b", "b\n", 0o644))
	refA := pushTestImage(t, "kist-e2e/rmi-a", newImage(t, busyboxConfig(), base, onlyA))
	refB := pushTestImage(t, "kist-e2e/rmi-b", newImage(t, busyboxConfig(), base, onlyB))

	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		pulled(t, id, refA)
		pulled(t, id, refB)
		expectLayers(t, id, map[v1.Layer]bool{base: true, onlyA: true, onlyB: true})

		mustSucceed(t, id, "rmi", refA)
		expectLayers(t, id, map[v1.Layer]bool{base: true, onlyA: false, onlyB: true})

		mustSucceed(t, id, "rmi", refB)
		expectLayers(t, id, map[v1.Layer]bool{base: false, onlyA: false, onlyB: false})
		expect(t, mustSucceed(t, id, "images", "-q"), 0, "")
	})
}

// TestRmiImageInUse removes an image that a stopped container was created
// from. kist rmi must reject the removal with a message naming the
// container until kist rm has removed the container.
func TestRmiImageInUse(t *testing.T) {
	need(t, needRegistry, needBusybox)
	ref := env.busybox.ref(tagLatest)
	imageLine := shortID(env.busybox.ids[tagLatest]) + "\n"
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		pulled(t, id, ref)
		mustSucceed(t, id, "run", ref, "true")
		containerID := strings.TrimSuffix(mustSucceed(t, id, "ps", "-a", "-q").stdout, "\n")
		if len(containerID) < 12 || strings.Contains(containerID, "\n") {
			t.Fatalf("kist ps -a -q printed %q, want one container ID", containerID)
		}

		r := runKist(t, id, "rmi", ref)
		expect(t, r, 125, "")
		expectOneLine(t, r, containerID[:12])
		expect(t, mustSucceed(t, id, "images", "-q"), 0, imageLine)

		mustSucceed(t, id, "rm", containerID)
		mustSucceed(t, id, "rmi", ref)
		expect(t, mustSucceed(t, id, "images", "-q"), 0, "")
		layers := filepath.Join(id.store(), "layers", "sha256")
		if names := listDir(t, layers); len(names) > 0 {
			t.Errorf("%s contains %q after the only image was removed, want it empty", layers, names)
		}
		expectNoLeftovers(t, id.store())
	})
}

// TestRmiForceThenRm removes with --force the image of a stopped
// container: its layers stay for the container, and system df counts
// them, until kist rm removes the container and them with it.
func TestRmiForceThenRm(t *testing.T) {
	need(t, needRegistry, needBusybox)
	ref := env.busybox.ref(tagLatest)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		pulled(t, id, ref)
		mustSucceed(t, id, "run", ref, "true")
		containerID := strings.TrimSuffix(mustSucceed(t, id, "ps", "-a", "-q").stdout, "\n")

		mustSucceed(t, id, "rmi", "-f", ref)
		layers := filepath.Join(id.store(), "layers", "sha256")
		if names := listDir(t, layers); len(names) == 0 {
			t.Fatalf("%s is empty while a container uses the removed image's layers", layers)
		}
		r := mustSucceed(t, id, "system", "df", "--format", "json")
		var rows []struct {
			Type string
			Size int64
		}
		if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
			t.Fatalf("parse system df: %v\n%s", err, r.stdout)
		}
		for _, row := range rows {
			if row.Type == "Containers" && row.Size < 1<<20 {
				t.Errorf("system df counts %d bytes for containers, want the removed image's layers of over 1 MiB", row.Size)
			}
		}

		mustSucceed(t, id, "rm", containerID)
		if names := listDir(t, layers); len(names) > 0 {
			t.Errorf("%s contains %q after kist rm of the last container that used them, want it empty", layers, names)
		}
		expectNoLeftovers(t, id.store())
	})
}

// TestTagListed gives busybox a second name with kist tag, checks that
// kist images lists both names and that run finds the image by the new
// one, then removes the new name, which must leave the image in place.
func TestTagListed(t *testing.T) {
	need(t, needRegistry, needBusybox)
	ref := env.busybox.ref(tagLatest)
	short := shortID(env.busybox.ids[tagLatest])
	// The registry has no such repository, so only the tag can resolve it.
	const repo, tag = "kist-e2e/tagged", "v1"
	newName := env.registry + "/" + repo + ":" + tag
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		pulled(t, id, ref)
		r := mustSucceed(t, id, "tag", ref, newName)
		expect(t, r, 0, "")
		expectQuiet(t, r)

		want := [][]string{
			{env.registry + "/busybox", tagLatest, short},
			{env.registry + "/" + repo, tag, short},
		}
		if diff := cmp.Diff(want, imageRows(t, id)); diff != "" {
			t.Errorf("kist images rows: REPOSITORY, TAG, IMAGE ID (-want +got):\n%s", diff)
		}
		r = runKist(t, id, "run", "--rm", newName, "echo", "ok")
		expect(t, r, 0, "ok\n")
		expectQuiet(t, r)

		mustSucceed(t, id, "rmi", newName)
		if diff := cmp.Diff(want[:1], imageRows(t, id)); diff != "" {
			t.Errorf("kist images rows after kist rmi %s (-want +got):\n%s", newName, diff)
		}
		expectNoLeftovers(t, id.store())
	})
}

// expectLayers checks, for each layer of want, that its unpacked
// directory exists in id's store if the value is true and is absent if
// it is false.
func expectLayers(t *testing.T, id *identity, want map[v1.Layer]bool) {
	t.Helper()
	for layer, present := range want {
		diffID, err := layer.DiffID()
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(id.store(), "layers", diffID.Algorithm, diffID.Hex)
		_, err = os.Lstat(dir)
		switch {
		case present && err != nil:
			t.Errorf("layer %s: %v, want it unpacked", diffID.Hex[:12], err)
		case !present && err == nil:
			t.Errorf("layer %s is still at %s, want it removed", diffID.Hex[:12], dir)
		case !present && !errors.Is(err, fs.ErrNotExist):
			t.Errorf("layer %s: %v, want it removed", diffID.Hex[:12], err)
		}
	}
}

// imageRows returns the REPOSITORY, TAG and IMAGE ID columns of each row
// of `kist images`, sorted.
func imageRows(t *testing.T, id *identity) [][]string {
	t.Helper()
	r := mustSucceed(t, id, "images")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	var rows [][]string
	for _, line := range lines[1:] {
		fields := columnGap.Split(strings.TrimSpace(line), -1)
		if len(fields) != len(imagesHeader) {
			t.Errorf("row %q has %d columns, want %d", line, len(fields), len(imagesHeader))
			continue
		}
		rows = append(rows, fields[:3])
	}
	sortRows(rows)
	return rows
}
