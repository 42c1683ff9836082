package pull

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// paddedManifest returns the manifest of img with an annotation that
// makes it size bytes long or a little more.
func paddedManifest(t *testing.T, img v1.Image, size int) []byte {
	t.Helper()
	manifest, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	manifest.Annotations = map[string]string{"padding": strings.Repeat("x", size)}
	body, err := json.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// serveManifest returns a registry wrapper that responds to GETs of the
// manifest v1 with body, with a Content-Length header or, when
// chunked, without one.
func serveManifest(body []byte, mediaType string, chunked bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/manifests/v1") {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", mediaType)
			if !chunked {
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			}
			w.WriteHeader(http.StatusOK)
			if chunked {
				w.(http.Flusher).Flush()
			}
			_, _ = w.Write(body)
		})
	}
}

func TestManifestTooLarge(t *testing.T) {
	img := randomImage(t, 1)
	mediaType, _ := img.MediaType()
	body := paddedManifest(t, img, 5<<20)
	tests := []struct {
		name    string
		chunked bool
		want    string
	}{
		{"Content-Length", false, "sent a manifest of 5.0 MiB (" + strconv.Itoa(len(body)) + " bytes)"},
		{"chunked", true, "sent a manifest of more than 4.0 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_CONFIG_HOME", t.TempDir())
			host := startRegistry(t, serveManifest(body, string(mediaType), tt.chunked))
			push(t, host+"/test/big:v1", img)

			_, err := Image(context.Background(), openStore(t), mustParse(t, host+"/test/big:v1"), Options{})
			expectOneLine(t, err, "pull "+host+"/test/big:v1: registry "+host+" "+tt.want, "limit of 4.0 MiB")
			var tooLarge *ManifestTooLargeError
			if !errors.As(err, &tooLarge) {
				t.Errorf("error %q is not a ManifestTooLargeError", err)
			}
		})
	}
}

// A manifest of just under the limit is read.
func TestManifestBelowLimit(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	img := randomImage(t, 1)
	mediaType, _ := img.MediaType()
	body := paddedManifest(t, img, maxManifestSize-4096)
	host := startRegistry(t, serveManifest(body, string(mediaType), true))
	push(t, host+"/test/big:v1", img)

	got, err := fetchImage(context.Background(), mustParse(t, host+"/test/big:v1"), Options{Platform: HostPlatform()}, fastResilience)
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if raw, _ := got.RawManifest(); len(raw) != len(body) {
		t.Errorf("manifest has %d bytes, want %d", len(raw), len(body))
	}
}

// countingReader returns zeros without end and counts them.
type countingReader struct{ n int64 }

func (r *countingReader) Read(p []byte) (int, error) {
	clear(p)
	r.n += int64(len(p))
	return len(p), nil
}

func (r *countingReader) Close() error { return nil }

func TestCappedBodyReadsNoMore(t *testing.T) {
	source := &countingReader{}
	limitErr := errors.New("too large")
	_, err := io.ReadAll(&cappedBody{body: source, left: 1000, err: limitErr})
	if !errors.Is(err, limitErr) {
		t.Errorf("ReadAll of an endless body: got %v, want the limit error", err)
	}
	if source.n > 1001 {
		t.Errorf("read %d bytes of the body, want at most 1001", source.n)
	}

	body, err := io.ReadAll(&cappedBody{body: io.NopCloser(strings.NewReader(strings.Repeat("m", 1000))), left: 1000, err: limitErr})
	if err != nil || len(body) != 1000 {
		t.Errorf("ReadAll of a body at the limit: got %d bytes and %v, want 1000 bytes", len(body), err)
	}
}

// The manifest that an index entry names is capped too.
func TestIndexEntryTooLarge(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	img := randomImage(t, 1)
	digest, _ := img.Digest()
	mediaType, _ := img.MediaType()
	body := paddedManifest(t, img, 5<<20)
	host := startRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/manifests/"+digest.String()) {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", string(mediaType))
			_, _ = w.Write(body)
		})
	})
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{
		Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}},
	})
	ref, _ := name.ParseReference(host + "/multi:v1")
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}

	_, err := Image(context.Background(), openStore(t), mustParse(t, host+"/multi:v1"),
		Options{Platform: v1.Platform{OS: "linux", Architecture: "amd64"}})
	expectOneLine(t, err, "pull "+host+"/multi:v1: registry "+host+" sent a manifest of", "/manifests/"+digest.String())
}
