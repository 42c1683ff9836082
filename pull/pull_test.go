package pull

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/kist-project/kist/store"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("unpacking with image ownership needs root or a user namespace; run as root")
	}
}

// startRegistry serves go-containerregistry's in-memory registry on
// 127.0.0.1, optionally through wrap, and returns its host:port.
func startRegistry(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	var h http.Handler = registry.New(registry.Logger(nilLogger()))
	if wrap != nil {
		h = wrap(h)
	}
	server := httptest.NewServer(h)
	t.Cleanup(server.Close)
	return strings.TrimPrefix(server.URL, "http://")
}

func push(t *testing.T, ref string, img v1.Image) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

func randomImage(t *testing.T, layers int64) v1.Image {
	t.Helper()
	img, err := random.Image(512, layers)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func mustParse(t *testing.T, s string) Reference {
	t.Helper()
	ref, err := ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestPullFromRegistry(t *testing.T) {
	requireRoot(t)
	host := startRegistry(t, nil)
	img := randomImage(t, 3)
	push(t, host+"/test/app:v1", img)
	st := openStore(t)

	var events []LayerEvent
	got, err := Image(context.Background(), st, mustParse(t, host+"/test/app:v1"), Options{OnLayer: func(e LayerEvent) { events = append(events, e) }})
	if err != nil {
		t.Fatalf("pull: %v", err)
	}

	wantID, _ := img.ConfigName()
	if got.ID != wantID {
		t.Errorf("image ID = %s, want %s", got.ID, wantID)
	}
	if len(got.Layers) != 3 {
		t.Fatalf("image has %d layers, want 3", len(got.Layers))
	}
	for i, e := range events {
		if e.Present {
			t.Errorf("layer %d reported present on the first pull", i)
		}
	}
	for _, diffID := range got.Layers {
		if _, err := st.Layer(diffID); err != nil {
			t.Errorf("layer %s: %v", diffID, err)
		}
	}
	if len(got.Names) != 1 || got.Names[0] != host+"/test/app:v1" {
		t.Errorf("names = %v", got.Names)
	}

	events = nil
	if _, err := Image(context.Background(), st, mustParse(t, host+"/test/app:v1"), Options{OnLayer: func(e LayerEvent) { events = append(events, e) }}); err != nil {
		t.Fatalf("second pull: %v", err)
	}
	for i, e := range events {
		if !e.Present {
			t.Errorf("layer %d unpacked again on the second pull", i)
		}
	}
}

func TestPullCorruptBlob(t *testing.T) {
	requireRoot(t)
	img := randomImage(t, 1)
	layers, _ := img.Layers()
	layerDigest, _ := layers[0].Digest()

	// The registry flips one byte of the layer blob it serves.
	host := startRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/blobs/"+layerDigest.String()) && r.Method == http.MethodGet {
				rec := httptest.NewRecorder()
				next.ServeHTTP(rec, r)
				body := rec.Body.Bytes()
				body[len(body)/2] ^= 0xff
				w.WriteHeader(rec.Code)
				_, _ = w.Write(body)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	push(t, host+"/test/corrupt:v1", img)
	st := openStore(t)

	_, err := Image(context.Background(), st, mustParse(t, host+"/test/corrupt:v1"), Options{})
	if err == nil {
		t.Fatal("pull of a corrupted layer succeeded")
	}
	if st.HasBlob(layerDigest) {
		t.Error("corrupted blob was stored")
	}
	diffIDs, _ := img.ConfigFile()
	if _, err := st.Layer(diffIDs.RootFS.DiffIDs[0]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("corrupted layer is in the store: %v", err)
	}
	if images, _ := st.Images(); len(images) != 0 {
		t.Errorf("store lists %d images after a failed pull", len(images))
	}
	entries, _ := os.ReadDir(filepath.Join(st.Root(), "tmp"))
	if len(entries) != 0 {
		t.Errorf("tmp/ holds %d entries after a failed pull", len(entries))
	}
}

func TestPullNotFound(t *testing.T) {
	host := startRegistry(t, nil)
	_, err := Image(context.Background(), openStore(t), mustParse(t, host+"/nosuch:latest"), Options{})
	if err == nil || !strings.Contains(err.Error(), "not found") || !strings.Contains(err.Error(), host+"/nosuch:latest") {
		t.Fatalf("pull of a missing image: got %v, want an error naming the image and saying not found", err)
	}
}

func TestPullUnreachable(t *testing.T) {
	_, err := Image(context.Background(), openStore(t), mustParse(t, "127.0.0.1:1/x:latest"), Options{})
	if err == nil || !strings.Contains(err.Error(), "unreachable") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("pull from a closed port: got %v, want an error naming the registry as unreachable", err)
	}
}

func TestPullIndexPlatform(t *testing.T) {
	requireRoot(t)
	host := startRegistry(t, nil)
	amd, arm := randomImage(t, 1), randomImage(t, 1)
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
	)
	r, _ := name.ParseReference(host + "/multi:v1")
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	st := openStore(t)

	got, err := Image(context.Background(), st, mustParse(t, host+"/multi:v1"), Options{Platform: v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}})
	if err != nil {
		t.Fatalf("pull arm64: %v", err)
	}
	armID, _ := arm.ConfigName()
	if got.ID != armID {
		t.Errorf("pulled %s, want the arm64 image %s", got.ID, armID)
	}

	_, err = Image(context.Background(), st, mustParse(t, host+"/multi:v1"), Options{Platform: v1.Platform{OS: "linux", Architecture: "s390x"}})
	if err == nil || !strings.Contains(err.Error(), "linux/amd64") || !strings.Contains(err.Error(), "linux/arm64/v8") {
		t.Fatalf("pull of a missing platform: got %v, want an error listing linux/amd64 and linux/arm64/v8", err)
	}
}

func TestPullLayout(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	img := randomImage(t, 2)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	st := openStore(t)

	got, err := Image(context.Background(), st, mustParse(t, "oci:"+dir), Options{})
	if err != nil {
		t.Fatalf("pull from layout: %v", err)
	}
	wantID, _ := img.ConfigName()
	if got.ID != wantID {
		t.Errorf("image ID = %s, want %s", got.ID, wantID)
	}
}

func TestPullRequirePlatform(t *testing.T) {
	requireRoot(t)
	host := startRegistry(t, nil)
	img := randomImage(t, 1)
	config, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	config.OS, config.Architecture = "linux", "amd64"
	img, err = mutate.ConfigFile(img, config)
	if err != nil {
		t.Fatal(err)
	}
	push(t, host+"/single:v1", img)
	st := openStore(t)

	_, err = Image(context.Background(), st, mustParse(t, host+"/single:v1"),
		Options{Platform: v1.Platform{OS: "linux", Architecture: "arm64"}, RequirePlatform: true})
	if err == nil || !strings.Contains(err.Error(), "linux/amd64") {
		t.Fatalf("pull of an amd64 image for arm64: got %v, want an error naming linux/amd64", err)
	}
	if _, err := Image(context.Background(), st, mustParse(t, host+"/single:v1"),
		Options{Platform: v1.Platform{OS: "linux", Architecture: "amd64"}, RequirePlatform: true}); err != nil {
		t.Fatalf("pull of an amd64 image for amd64: %v", err)
	}
}

func TestPullByDigestAddsNoTag(t *testing.T) {
	requireRoot(t)
	host := startRegistry(t, nil)
	img := randomImage(t, 1)
	push(t, host+"/bydigest:v1", img)
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}

	got, err := Image(context.Background(), openStore(t), mustParse(t, host+"/bydigest@"+digest.String()), Options{})
	if err != nil {
		t.Fatalf("pull by digest: %v", err)
	}
	if len(got.Names) != 0 {
		t.Errorf("names = %v, want none for a pull by digest", got.Names)
	}
	if len(got.Digests) != 1 || got.Digests[0] != host+"/bydigest@"+digest.String() {
		t.Errorf("digests = %v, want the digest reference", got.Digests)
	}
}

// unreadableLayer is a layer whose blob cannot be read.
type unreadableLayer struct{ v1.Layer }

func (unreadableLayer) Compressed() (io.ReadCloser, error) {
	return nil, errors.New("blob is unreadable")
}

func (unreadableLayer) Uncompressed() (io.ReadCloser, error) {
	return nil, errors.New("blob is unreadable")
}

func TestAddErrorNamesAction(t *testing.T) {
	layer, err := random.Layer(512, types.DockerLayer)
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, unreadableLayer{layer})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ action, want string }{
		{"", "pull x:1 from f.tar: "},
		{"load", "load x:1 from f.tar: "},
		{"import", "import x:1 from f.tar: "},
	} {
		_, err := Add(context.Background(), openStore(t), img, Target{Action: tc.action, Display: "x:1 from f.tar"}, Options{})
		if err == nil {
			t.Fatalf("Add with action %q of an unreadable layer succeeded", tc.action)
		}
		if !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Add with action %q: error %q does not begin with %q", tc.action, err, tc.want)
		}
	}
}
