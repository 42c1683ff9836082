package pull

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// writeRegistries writes registries.toml into a fresh XDG_CONFIG_HOME.
func writeRegistries(t *testing.T, text string) string {
	t.Helper()
	config := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", config)
	path := filepath.Join(config, "kist", "registries.toml")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fetch resolves ref with the registry configuration in force.
func fetch(t *testing.T, ref string) error {
	t.Helper()
	_, err := fetchImage(context.Background(), mustParse(t, ref), Options{Platform: HostPlatform()}, fastResilience)
	return err
}

func TestMirrorServesImage(t *testing.T) {
	requireRoot(t)
	origin, originHost := newFaultProxy(t)
	mirrorHost := startRegistry(t, nil)
	img := randomImage(t, 2)
	push(t, originHost+"/team/app:v1", img)
	push(t, mirrorHost+"/cache/team/app:v1", img)
	writeRegistries(t, `
[[registry]]
prefix = "`+originHost+`"

[[registry.mirror]]
location = "`+mirrorHost+`/cache"
`)
	st := openStore(t)

	got, err := pullVia(t, st, originHost+"/team/app:v1", fastResilience)
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	expectPulled(t, st, got, img)
	if requests := origin.gets("/manifests/v1"); len(requests) != 0 {
		t.Errorf("the registry served %q, want the mirror to serve everything", requests)
	}
	if len(got.Names) != 1 || got.Names[0] != originHost+"/team/app:v1" {
		t.Errorf("names = %v, want the name that was pulled", got.Names)
	}
}

func TestMirrorFallsBack(t *testing.T) {
	emptyMirror := startRegistry(t, nil)
	tests := []struct{ name, mirror string }{
		{"mirror down", "127.0.0.1:1"},
		{"image missing", emptyMirror},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			origin, originHost := newFaultProxy(t)
			push(t, originHost+"/team/app:v1", randomImage(t, 1))
			writeRegistries(t, `
[[registry]]
prefix = "`+originHost+`"
[[registry.mirror]]
location = "`+tt.mirror+`"
`)
			if err := fetch(t, originHost+"/team/app:v1"); err != nil {
				t.Fatalf("fetch: %v", err)
			}
			if n := len(origin.gets("/manifests/v1")); n != 1 {
				t.Errorf("the registry served the manifest %d times, want 1", n)
			}
		})
	}
}

func TestMirrorAndRegistryFail(t *testing.T) {
	writeRegistries(t, `
[[registry]]
prefix = "127.0.0.1:2"
[[registry.mirror]]
location = "127.0.0.1:1"
`)
	err := fetch(t, "127.0.0.1:2/team/app:v1")
	if err == nil || !strings.Contains(err.Error(), "registry 127.0.0.1:2 is unreachable") {
		t.Fatalf("fetch: got %v, want the registry's own error", err)
	}
}

func TestRegistryBlocked(t *testing.T) {
	host := startRegistry(t, nil)
	push(t, host+"/team/app:v1", randomImage(t, 1))
	path := writeRegistries(t, "[[registry]]\nprefix = \""+host+"/team\"\nblocked = true\n")

	err := fetch(t, host+"/team/app:v1")
	if err == nil {
		t.Fatal("fetch from a blocked registry succeeded")
	}
	for _, want := range []string{host + "/team/app:v1", "blocked", path + ", line 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

// A blocked Docker Hub prefix must stop a pull of a short Hub name
// before any request. sourcesOf runs before the first request, so the
// test sends none, also when the prefix fails to match.
func TestHubPrefixBlocksShortName(t *testing.T) {
	for _, prefix := range []string{"docker.io", "index.docker.io", "DOCKER.IO", "registry-1.docker.io", "docker.io/library"} {
		path := writeRegistries(t, "[[registry]]\nprefix = \""+prefix+"\"\nblocked = true\n")
		for _, ref := range []string{"busybox:1", "library/busybox:1", "index.docker.io/library/busybox:1"} {
			_, err := sourcesOf(mustParse(t, ref))
			if err == nil || !strings.Contains(err.Error(), "blocked by "+path) {
				t.Errorf("prefix %q, pull %s: got %v, want the blocked error", prefix, ref, err)
			}
		}
	}
}

func TestRegistriesFileInvalid(t *testing.T) {
	path := writeRegistries(t, "[[registry]]\nprefix = \"docker.io\"\nmirrors = []\n")
	err := fetch(t, "docker.io/library/busybox:latest")
	if err == nil || !strings.Contains(err.Error(), path+", line 3") || !strings.Contains(err.Error(), "unknown key registry.mirrors") {
		t.Fatalf("fetch: got %v, want an error naming %s, line 3 and the key", err, path)
	}
}

func TestInsecureLocation(t *testing.T) {
	// A registry with a certificate no one trusts.
	server := httptest.NewUnstartedServer(registry.New(registry.Logger(nilLogger())))
	server.Config.ErrorLog = nilLogger()
	server.StartTLS()
	t.Cleanup(server.Close)
	host := strings.TrimPrefix(server.URL, "https://")
	pushTLS(t, server, host+"/team/app:v1")

	// go-containerregistry falls back to plain HTTP for a loopback
	// registry when TLS fails, so the error is that HTTP request's.
	writeRegistries(t, "")
	if err := fetch(t, host+"/team/app:v1"); err == nil {
		t.Fatal("fetch from a registry with an untrusted certificate succeeded")
	}

	writeRegistries(t, "[[registry]]\nlocation = \""+host+"\"\ninsecure = true\n")
	if err := fetch(t, host+"/team/app:v1"); err != nil {
		t.Fatalf("fetch with insecure = true: %v", err)
	}
}

func TestSchema1Rejected(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	host := startRegistry(t, nil)
	manifest := `{"schemaVersion": 1, "name": "team/old", "tag": "v1", "architecture": "amd64",
		"fsLayers": [], "history": []}`
	for _, mediaType := range []string{
		"application/vnd.docker.distribution.manifest.v1+prettyjws",
		"application/vnd.docker.distribution.manifest.v1+json",
		// Some registries send schema 1 with a generic type.
		"application/json",
	} {
		req, err := http.NewRequest(http.MethodPut, "http://"+host+"/v2/team/old/manifests/v1", bytes.NewBufferString(manifest))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", mediaType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("put schema 1 manifest as %s: %s", mediaType, resp.Status)
		}

		err = fetch(t, host+"/team/old:v1")
		if err == nil {
			t.Fatalf("fetch of a schema 1 image (%s) succeeded", mediaType)
		}
		for _, want := range []string{host + "/team/old:v1", "schema 1", "push it again"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not contain %q", mediaType, err, want)
			}
		}
	}
}

// pushTLS pushes a random image to the TLS server, trusting its
// certificate.
func pushTLS(t *testing.T, server *httptest.Server, ref string) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, randomImage(t, 1), remote.WithTransport(server.Client().Transport)); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}
