package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPushCompressesPlainLayers loads a docker-archive, whose layers
// skopeo writes as plain tar, and pushes it. Each layer in the registry
// must be gzip and decompress to its diff ID, and a second push must
// send the same manifest.
func TestPushCompressesPlainLayers(t *testing.T) {
	need(t, needBusybox)
	dir := shareDir(t)
	archive := filepath.Join(dir, "docker.tar")
	skopeoRun(t, "copy", "--src-tls-verify=false", "docker://"+env.busybox.ref(tagConfig), "docker-archive:"+archive+":plain:1")
	makeReadable(t, dir)
	diffIDs := skopeoDiffIDs(t, "docker-archive:"+archive)
	expectPlainTarLayers(t, archive)

	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		mustSucceed(t, id, "load", "-i", archive)

		for _, tc := range []struct{ format, manifestType, layerType string }{
			{"", "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.image.rootfs.diff.tar.gzip"},
			{"oci", "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.layer.v1.tar+gzip"},
		} {
			repo := "compressed/" + id.name
			dest := env.registry + "/" + repo + ":" + tc.format + "x"
			args := []string{"push", "-q"}
			if tc.format != "" {
				args = append(args, "--format", tc.format)
			}
			first := pushedDigest(t, mustSucceed(t, id, append(args, "plain:1", dest)...))

			m := registryManifest(t, dest)
			if m.MediaType != tc.manifestType {
				t.Errorf("manifest media type %s, want %s", m.MediaType, tc.manifestType)
			}
			if len(m.Layers) != len(diffIDs) {
				t.Fatalf("manifest lists %d layers, want %d", len(m.Layers), len(diffIDs))
			}
			for i, l := range m.Layers {
				if l.MediaType != tc.layerType {
					t.Errorf("layer %d media type %s, want %s", i+1, l.MediaType, tc.layerType)
				}
				expectGzipBlob(t, repo, l.Digest, diffIDs[i])
			}
			if got := skopeoDiffIDs(t, "docker://"+dest); !slices.Equal(got, diffIDs) {
				t.Errorf("pushed diff IDs %v, want the archive's %v", got, diffIDs)
			}

			// The compressed blobs stay in the store, so a second push,
			// here under another tag, sends the same manifest.
			second := pushedDigest(t, mustSucceed(t, id, append(args, "plain:1", dest+"again")...))
			if second != first {
				t.Errorf("second push sent manifest %s, want %s as the first", second, first)
			}

			fresh := id.fresh(t)
			mustSucceed(t, fresh, "pull", "-q", dest)
			expectInspectDiffIDs(t, fresh, dest, diffIDs)
			r := runKist(t, fresh, "run", "--rm", dest, "ok")
			expect(t, r, 0, "entry ok\n")
		}
	})
}

// TestPushCompressionFormat pushes a loaded docker-archive with
// --compression-format zstd, which makes the manifest OCI, and checks the
// flag errors.
func TestPushCompressionFormat(t *testing.T) {
	need(t, needBusybox)
	dir := shareDir(t)
	archive := filepath.Join(dir, "docker.tar")
	skopeoRun(t, "copy", "--src-tls-verify=false", "docker://"+env.busybox.ref(tagLatest), "docker-archive:"+archive+":plain:1")
	makeReadable(t, dir)
	expectPlainTarLayers(t, archive)
	id := env.identities[0].fresh(t)
	mustSucceed(t, id, "load", "-i", archive)

	dest := env.registry + "/compressed/zstd:1"
	r := mustSucceed(t, id, "push", "--compression-format", "zstd", "plain:1", dest)
	if !strings.Contains(r.stderr, "with zstd") {
		t.Errorf("stderr = %q, want a line about compressing a layer with zstd", r.stderr)
	}
	m := registryManifest(t, dest)
	if m.MediaType != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("manifest media type %s, want the OCI one for zstd layers", m.MediaType)
	}
	for i, l := range m.Layers {
		if l.MediaType != "application/vnd.oci.image.layer.v1.tar+zstd" {
			t.Errorf("layer %d media type %s, want zstd", i+1, l.MediaType)
		}
	}
	fresh := id.fresh(t)
	r = runKist(t, fresh, "run", "--rm", dest, "echo", "zstd")
	expect(t, r, 0, "zstd\n")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--compression-format", "xz"}, `invalid --compression-format "xz"`},
		{[]string{"--compression-format", "zstd", "--format", "v2s2"}, "needs an OCI manifest"},
	} {
		r := runKist(t, id, append(append([]string{"push"}, tc.args...), "plain:1", dest)...)
		if r.code != 125 {
			t.Errorf("push %v: exit %d, want 125", tc.args, r.code)
		}
		expectOneLine(t, r, tc.want)
	}
}

// expectPlainTarLayers checks that the layer files of a docker-archive
// are plain tar, so that the test covers the case it is written for.
// skopeo 1.9.3 inspect --raw does not show this, because it lists a
// docker-archive's layers as gzip whatever their content.
func expectPlainTarLayers(t *testing.T, archive string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	heads := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read %s: %v", archive, err)
		}
		var r io.Reader = io.LimitReader(tr, 512)
		if hdr.Name == "manifest.json" {
			r = tr
		}
		head, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("read %s in %s: %v", hdr.Name, archive, err)
		}
		heads[hdr.Name] = head
	}

	var manifest []struct{ Layers []string }
	if err := json.Unmarshal(heads["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("parse manifest.json of %s (%v): %s", archive, err, heads["manifest.json"])
	}
	for _, file := range manifest[0].Layers {
		head := heads[file]
		if len(head) < 512 || bytes.HasPrefix(head, []byte{0x1f, 0x8b}) || bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
			t.Fatalf("layer %s of %s starts with % x, want a plain tar header", file, archive, head[:min(len(head), 4)])
		}
	}
}

type registryManifestJSON struct {
	MediaType string `json:"mediaType"`
	Layers    []struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
	} `json:"layers"`
}

// registryManifest returns the manifest that the registry serves for ref.
func registryManifest(t *testing.T, ref string) registryManifestJSON {
	t.Helper()
	out := skopeoRun(t, "inspect", "--tls-verify=false", "--raw", "docker://"+ref)
	var m registryManifestJSON
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("parse manifest of %s: %v\n%s", ref, err, out)
	}
	return m
}

// pushedDigest returns the digest from kist push's REPOSITORY@DIGEST
// output.
func pushedDigest(t *testing.T, r result) string {
	t.Helper()
	_, digest, ok := strings.Cut(strings.TrimSpace(r.stdout), "@sha256:")
	if !ok {
		t.Fatalf("push printed %q, want REPOSITORY@DIGEST", r.stdout)
	}
	return "sha256:" + digest
}

// expectGzipBlob downloads a blob from the registry and checks that it
// is gzip whose content has the digest diffID.
func expectGzipBlob(t *testing.T, repo, digest, diffID string) {
	t.Helper()
	url := fmt.Sprintf("http://%s/v2/%s/blobs/%s", env.registry, repo, digest)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	blob, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}

	if !bytes.HasPrefix(blob, []byte{0x1f, 0x8b}) {
		t.Errorf("blob %s starts with % x, want the gzip magic 1f 8b", digest, blob[:min(len(blob), 4)])
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		t.Fatalf("blob %s: %v", digest, err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, zr); err != nil {
		t.Fatalf("decompress blob %s: %v", digest, err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != diffID {
		t.Errorf("blob %s decompresses to %s, want diff ID %s", digest, got, diffID)
	}
}

// expectInspectDiffIDs checks the diff IDs that kist image inspect shows
// for an image.
func expectInspectDiffIDs(t *testing.T, id *identity, image string, want []string) {
	t.Helper()
	out := mustSucceed(t, id, "image", "inspect", image).stdout
	var list []struct {
		RootFS struct{ Layers []string }
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 {
		t.Fatalf("parse kist image inspect output (%v):\n%s", err, out)
	}
	if got := list[0].RootFS.Layers; !slices.Equal(got, want) {
		t.Errorf("pulled image has diff IDs %v, want %v", got, want)
	}
}
