package pull

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// corruptBlob returns a registry wrapper that flips one byte of the blob
// with digest d.
func corruptBlob(d v1.Hash) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+d.String()) {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			body[len(body)/2] ^= 0xff
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body)
		})
	}
}

// One corrupt layer among several pulled in parallel fails the pull with
// that layer's error, and leaves nothing half-written behind.
func TestPullParallelOneLayerCorrupt(t *testing.T) {
	requireRoot(t)
	img := randomImage(t, 5)
	layers, _ := img.Layers()
	bad, _ := layers[2].Digest()
	host := startRegistry(t, corruptBlob(bad))
	push(t, host+"/test/parallel:v1", img)
	st := openStore(t)

	_, err := Image(context.Background(), st, mustParse(t, host+"/test/parallel:v1"), Options{ConcurrentLayers: 3})
	if err == nil {
		t.Fatal("pull with a corrupted layer succeeded")
	}
	if !strings.Contains(err.Error(), bad.String()) {
		t.Errorf("error %q does not name the corrupted blob %s", err, bad)
	}
	if errors.Is(err, context.Canceled) {
		t.Errorf("error %q is the cancellation of another layer, want the corrupted layer's", err)
	}
	if st.HasBlob(bad) {
		t.Error("corrupted blob was stored")
	}
	if images, _ := st.Images(); len(images) != 0 {
		t.Errorf("store lists %d images after a failed pull", len(images))
	}
	entries, _ := os.ReadDir(filepath.Join(st.Root(), "tmp"))
	if len(entries) != 0 {
		t.Errorf("tmp/ holds %d entries after a failed pull", len(entries))
	}
}

// Every layer reports byte progress that ends at its blob size, and every
// layer is unpacked once.
func TestPullParallelProgress(t *testing.T) {
	requireRoot(t)
	img := randomImage(t, 4)
	host := startRegistry(t, nil)
	push(t, host+"/test/progress:v1", img)
	st := openStore(t)

	last := map[v1.Hash]LayerProgress{}
	unpacked := map[v1.Hash]int{}
	opts := Options{
		OnProgress: func(p LayerProgress) { last[p.DiffID] = p },
		OnLayer:    func(e LayerEvent) { unpacked[e.DiffID]++ },
	}
	if _, err := Image(context.Background(), st, mustParse(t, host+"/test/progress:v1"), opts); err != nil {
		t.Fatal(err)
	}

	layers, _ := img.Layers()
	for _, l := range layers {
		diffID, _ := l.DiffID()
		size, _ := l.Size()
		p := last[diffID]
		if p.Done != size || p.Total != size {
			t.Errorf("layer %s: last progress %d of %d bytes, want %d of %d", diffID, p.Done, p.Total, size, size)
		}
		if unpacked[diffID] != 1 {
			t.Errorf("layer %s reported ready %d times, want 1", diffID, unpacked[diffID])
		}
	}
}

// The layer lock is taken for missing layers only, so a pull of present
// layers does not wait for another pull's lock.
func TestLockMissingSkipsPresentLayers(t *testing.T) {
	requireRoot(t)
	img := randomImage(t, 2)
	host := startRegistry(t, nil)
	push(t, host+"/test/locks:v1", img)
	st := openStore(t)
	if _, err := Image(context.Background(), st, mustParse(t, host+"/test/locks:v1"), Options{}); err != nil {
		t.Fatal(err)
	}

	config, _ := img.ConfigFile()
	layers, _ := img.Layers()
	locks, err := lockMissing(st, newLayerJobs(layers, config.RootFS.DiffIDs))
	if err != nil {
		t.Fatal(err)
	}
	defer unlockAll(locks)
	if len(locks) != 0 {
		t.Errorf("lockMissing took %d locks for layers already in the store, want 0", len(locks))
	}
}
