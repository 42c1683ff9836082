package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	ti "github.com/kist-project/kist/internal/testimage"
)

// bulkSize is the size of the random file in the middle layer of
// TestPullParallelLayersHardlinkToLower: large enough that the layer is
// still unpacking when the small top layer starts.
const bulkSize = 32 << 20

// randomContent returns n bytes from a fixed seed, so that the layer
// they go into has the same digest in every run, and gzip cannot shrink
// them.
func randomContent(seed int64, n int) string {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return string(b)
}

// chainIDOf returns the OCI chain ID of the top of a stack of diff IDs.
func chainIDOf(diffIDs ...v1.Hash) v1.Hash {
	chain := diffIDs[0]
	for _, d := range diffIDs[1:] {
		sum := sha256.Sum256([]byte(chain.String() + " " + d.String()))
		chain = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
	}
	return chain
}

func diffIDOf(t *testing.T, l v1.Layer) v1.Hash {
	t.Helper()
	d, err := l.DiffID()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// parallelImage is a busybox image with a large middle layer and a top
// layer with a hardlink to a file of the middle layer, in a directory
// that only the middle layer has an entry for.
type parallelImage struct {
	ref     string
	diffIDs []v1.Hash // bottom first
}

func pushParallelImage(t *testing.T) parallelImage {
	t.Helper()
	base := busyboxLayer(t)
	bulk := newLayer(t,
		ti.Dir("data", 0o750),
		ti.File("data/tool", "tool\n", 0o755),
		ti.File("data/random", randomContent(1, bulkSize), 0o644),
	)
	top := newLayer(t,
		ti.Hardlink("data/tool-alias", "data/tool"),
		ti.File("data/new", "new\n", 0o644),
	)
	img := newImage(t, busyboxConfig(), base, bulk, top)
	return parallelImage{
		ref:     pushTestImage(t, "kist-e2e/parallel-layers", img),
		diffIDs: []v1.Hash{diffIDOf(t, base), diffIDOf(t, bulk), diffIDOf(t, top)},
	}
}

// TestPullParallelLayersHardlinkToLower pulls an image whose top layer
// links to a file of the layer below it and has no entry for that file's
// directory. The top layer starts at once, alongside the others, and must
// wait for the layers below only at those entries. The debug log shows
// the order: the top layer starts before the middle one is committed.
func TestPullParallelLayersHardlinkToLower(t *testing.T) {
	need(t, needRegistry, needBusybox)
	img := pushParallelImage(t)
	bulk, top := img.diffIDs[1], img.diffIDs[2]
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		r := mustSucceed(t, id, "--debug", "pull", "-q", img.ref)

		topStart := strings.Index(r.stderr, "unpack layer "+top.String())
		bulkCommit := strings.Index(r.stderr, "committed layer "+bulk.String())
		if topStart < 0 || bulkCommit < 0 {
			t.Fatalf("debug log lacks the start of layer %s or the commit of layer %s:\n%s", top, bulk, clip(r.stderr))
		}
		if topStart > bulkCommit {
			t.Errorf("top layer started after the layer below it was committed, want the layers unpacked in parallel:\n%s", clip(r.stderr))
		}
		if !strings.Contains(r.stderr, "layer "+top.String()+" waits for the 2 layers below it") {
			t.Errorf("debug log lacks the top layer's wait for the layers below:\n%s", clip(r.stderr))
		}

		chain := chainIDOf(img.diffIDs...)
		info, err := readLayerInfo(filepath.Join(id.store(), "layers", "sha256", chain.Hex))
		if err != nil {
			t.Errorf("top layer, which copies from the layers below, is not under its chain ID %s: %v", chain, err)
		} else if info.Key != chain.String() {
			t.Errorf("top layer's layer.json has key %s, want its chain ID %s", info.Key, chain)
		}

		r = runKist(t, id, "run", "--rm", img.ref, "sh", "-c", "cat /data/tool-alias /data/new && stat -c %a /data")
		expect(t, r, 0, "tool\nnew\n750\n")
		expectNoLeftovers(t, id.store())
	})
}

// TestPullProgressNotTerminal checks the progress kist pull prints when
// stderr is not a terminal. It must be a header and one line per layer,
// with no terminal control sequences. An image already present and a
// pull with -q print nothing.
func TestPullProgressNotTerminal(t *testing.T) {
	need(t, needRegistry, needBusybox)
	img := pushParallelImage(t)
	id := currentIdentity().fresh(t)

	r := mustSucceed(t, id, "pull", "-q", img.ref)
	if r.stderr != "" {
		t.Errorf("pull -q stderr = %q, want none", r.stderr)
	}

	id = id.fresh(t)
	r = mustSucceed(t, id, "pull", img.ref)
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if len(lines) != 1+len(img.diffIDs) {
		t.Fatalf("pull stderr has %d lines, want a header and one per layer (%d):\n%s", len(lines), len(img.diffIDs), r.stderr)
	}
	if want := "Pulling " + img.ref + ": image "; !strings.HasPrefix(lines[0], want) {
		t.Errorf("header = %q, want it to start with %q", lines[0], want)
	}
	for _, d := range img.diffIDs {
		prefix := "Layer " + d.Hex[:12] + ": unpacked "
		if n := countPrefix(lines[1:], prefix); n != 1 {
			t.Errorf("%d lines start with %q, want 1:\n%s", n, prefix, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "\x1b") {
		t.Errorf("stderr contains an escape sequence, want plain lines: %q", r.stderr)
	}

	r = mustSucceed(t, id, "pull", img.ref)
	if r.stderr != "" {
		t.Errorf("pull of a present image printed %q on stderr, want nothing", r.stderr)
	}
}

func countPrefix(lines []string, prefix string) int {
	n := 0
	for _, line := range lines {
		if strings.HasPrefix(line, prefix) {
			n++
		}
	}
	return n
}
