package pull

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// resizeBlob returns a registry wrapper that serves the blob with digest
// d with one byte more, or with its last byte cut when cut is set. The
// longer blob has a Content-Length header, the shorter one none.
func resizeBlob(d v1.Hash, cut bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+d.String()) {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			body := append(rec.Body.Bytes(), '!')
			if cut {
				body = body[:len(body)-2]
			} else {
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			}
			w.WriteHeader(rec.Code)
			if cut {
				w.(http.Flusher).Flush()
			}
			_, _ = w.Write(body)
		})
	}
}

// rewriteManifest returns a registry wrapper that serves GETs of the
// manifest v1 with edit applied.
func rewriteManifest(t *testing.T, img v1.Image, edit func(*v1.Manifest)) func(http.Handler) http.Handler {
	manifest, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	edit(manifest)
	body, err := json.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	return serveManifest(body, string(manifest.MediaType), false)
}

// go-containerregistry reports digest and size mismatches in text that
// mismatch recognises. Each case makes it report one for real.
func TestMismatchTexts(t *testing.T) {
	img := randomImage(t, 1)
	config, _ := img.ConfigName()
	digest, _ := img.Digest()
	layers, _ := img.Layers()
	layer, _ := layers[0].Digest()
	other := randomImage(t, 1)
	otherManifest, _ := other.RawManifest()
	otherType, _ := other.MediaType()
	tests := []struct {
		name, ref     string
		wrap          func(http.Handler) http.Handler
		object, field string
	}{
		{"config digest", "/test/app:v1", corruptBlob(config), "config", "digest"},
		{"config Content-Length", "/test/app:v1", resizeBlob(config, false), "config", "size"},
		{"config size", "/test/app:v1", resizeBlob(config, true), "config", "size"},
		{"layer Content-Length", "/test/app:v1", resizeBlob(layer, false), "layer " + layer.String(), "size"},
		{"manifest digest", "/test/app@" + digest.String(),
			serveManifestDigest(digest, otherManifest, string(otherType)), "manifest", "digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_CONFIG_HOME", t.TempDir())
			host := startRegistry(t, tt.wrap)
			push(t, host+"/test/app:v1", img)

			_, err := Image(context.Background(), openStore(t), mustParse(t, host+tt.ref), Options{})
			var content *ContentMismatchError
			if !errors.As(err, &content) {
				t.Fatalf("got %v, want a ContentMismatchError", err)
			}
			if content.Object != tt.object || content.Field != tt.field {
				t.Errorf("mismatch of the %s's %s, want of the %s's %s", content.Object, content.Field, tt.object, tt.field)
			}
			expectOneLine(t, err, "registry "+host+" sent a "+tt.object+" whose "+tt.field+" does not match",
				"the registry is corrupt or misconfigured")
		})
	}
}

// serveManifestDigest returns a registry wrapper that responds to a GET of
// the manifest digest with body.
func serveManifestDigest(digest v1.Hash, body []byte, mediaType string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/manifests/"+digest.String()) {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", mediaType)
			_, _ = w.Write(body)
		})
	}
}

func TestMismatchNamesMirror(t *testing.T) {
	img := randomImage(t, 1)
	config, _ := img.ConfigName()
	mirror := startRegistry(t, corruptBlob(config))
	push(t, mirror+"/cache/app:v1", img)
	// Nothing listens on port 1, so the mirror serves the manifest.
	writeRegistries(t, "[[registry]]\nprefix = \"127.0.0.1:1/team\"\n[[registry.mirror]]\nlocation = \""+mirror+"/cache\"\n")

	_, err := Image(context.Background(), openStore(t), mustParse(t, "127.0.0.1:1/team/app:v1"), Options{})
	expectOneLine(t, err, "pull 127.0.0.1:1/team/app:v1: mirror "+mirror+"/cache/app sent a config whose digest does not match the manifest",
		"expected "+config.String(), "remove it from registries.toml")
}

func TestNegativeSizeRejected(t *testing.T) {
	img := randomImage(t, 2)
	tests := []struct {
		name string
		edit func(*v1.Manifest)
		want string
	}{
		{"layer", func(m *v1.Manifest) { m.Layers[1].Size = -1 }, "layer 2 ("},
		{"config", func(m *v1.Manifest) { m.Config.Size = -5 }, "the config sha256:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_CONFIG_HOME", t.TempDir())
			host := startRegistry(t, rewriteManifest(t, img, tt.edit))
			push(t, host+"/test/app:v1", img)

			_, err := Image(context.Background(), openStore(t), mustParse(t, host+"/test/app:v1"), Options{})
			expectOneLine(t, err, "pull "+host+"/test/app:v1: registry "+host+" sent an invalid manifest", tt.want, "negative size")
		})
	}
}

// An error about the content of an image that a mirror served names the
// mirror, whatever the error is.
func TestLayerErrorNamesMirror(t *testing.T) {
	requireRoot(t)
	img := randomImage(t, 1)
	layers, _ := img.Layers()
	layer, _ := layers[0].Digest()
	mirror := startRegistry(t, corruptBlob(layer))
	push(t, mirror+"/cache/app:v1", img)
	writeRegistries(t, "[[registry]]\nprefix = \"127.0.0.1:1/team\"\n[[registry.mirror]]\nlocation = \""+mirror+"/cache\"\n")

	_, err := Image(context.Background(), openStore(t), mustParse(t, "127.0.0.1:1/team/app:v1"), Options{})
	expectOneLine(t, err, "pull 127.0.0.1:1/team/app:v1 from mirror "+mirror+"/cache/app: ", layer.String())
}
