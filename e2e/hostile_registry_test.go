package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// hostileProxy forwards to the suite's registry, except for the
// requests that its fault handles, and counts the requests it receives.
type hostileProxy struct {
	addr     string
	requests atomic.Int64
	// faulted counts the requests that fault handled.
	faulted atomic.Int64
}

// startHostileProxy starts a hostileProxy whose fault handles a request
// when it returns true.
func startHostileProxy(t *testing.T, fault func(w http.ResponseWriter, r *http.Request) bool) *hostileProxy {
	t.Helper()
	target, err := url.Parse("http://" + env.registry)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(target)
	p := &hostileProxy{}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		if fault != nil && fault(w, r) {
			p.faulted.Add(1)
			return
		}
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(server.Close)
	p.addr = strings.TrimPrefix(server.URL, "http://")
	return p
}

// redirectBlobsToSelf responds to every blob GET with a redirect to itself.
func redirectBlobsToSelf(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/blobs/") {
		return false
	}
	http.Redirect(w, r, r.URL.String(), http.StatusTemporaryRedirect)
	return true
}

func TestPullRedirectLoop(t *testing.T) {
	need(t, needRegistry, needBusybox)
	proxy := startHostileProxy(t, redirectBlobsToSelf)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		before := proxy.faulted.Load()

		r := runKist(t, id, "pull", proxy.addr+"/busybox:latest")
		expect(t, r, 125, "")
		expectOneLine(t, r, "pull "+proxy.addr+"/busybox:latest: registry "+proxy.addr+" redirected the request for /v2/busybox/blobs/")
		if !strings.Contains(r.stderr, "10 times") {
			t.Errorf("error does not name the limit of 10 redirects: %q", r.stderr)
		}
		if n := proxy.faulted.Load() - before; n != 10 {
			t.Errorf("the registry sent %d redirects, want 10", n)
		}
	})
}

func TestPullRedirectLoopMirror(t *testing.T) {
	need(t, needRegistry, needBusybox)
	proxy := startHostileProxy(t, redirectBlobsToSelf)
	root := env.identities[0].fresh(t)
	// Nothing listens on port 1, so the mirror serves the manifest.
	writeRegistriesConf(t, root, "[[registry]]\nprefix = \"127.0.0.1:1\"\n\n[[registry.mirror]]\nlocation = \""+proxy.addr+"\"\n")

	r := runKist(t, root, "pull", "127.0.0.1:1/busybox:latest")
	expect(t, r, 125, "")
	expectOneLine(t, r, "pull 127.0.0.1:1/busybox:latest: registry "+proxy.addr+" redirected the request for /v2/busybox/blobs/")
	if n := proxy.faulted.Load(); n != 10 {
		t.Errorf("the mirror sent %d redirects, want 10", n)
	}
}

// hugeManifest responds to manifest GETs with size bytes of JSON, with a
// Content-Length header or, when chunked, without one, and adds the
// bytes it managed to send to sent.
func hugeManifest(size int, chunked bool, sent *atomic.Int64) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/manifests/") {
			return false
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		if !chunked {
			w.Header().Set("Content-Length", fmt.Sprint(size))
		}
		w.WriteHeader(http.StatusOK)
		chunk := []byte(strings.Repeat(" ", 64<<10))
		for written := 0; written < size; written += len(chunk) {
			n, err := w.Write(chunk[:min(len(chunk), size-written)])
			sent.Add(int64(n))
			if err != nil {
				break
			}
		}
		return true
	}
}

func TestPullManifestTooLarge(t *testing.T) {
	need(t, needRegistry)
	root := env.identities[0].fresh(t)
	tests := []struct {
		name    string
		size    int
		chunked bool
		want    string
	}{
		{"Content-Length", 5 << 20, false, "sent a manifest of 5.0 MiB (5242880 bytes) for /v2/busybox/manifests/latest"},
		{"chunked", 99 << 20, true, "sent a manifest of more than 4.0 MiB for /v2/busybox/manifests/latest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent atomic.Int64
			proxy := startHostileProxy(t, hugeManifest(tt.size, tt.chunked, &sent))

			r := runKist(t, root, "pull", proxy.addr+"/busybox:latest")
			expect(t, r, 125, "")
			expectOneLine(t, r, "pull "+proxy.addr+"/busybox:latest: registry "+proxy.addr+" "+tt.want)
			if !strings.Contains(r.stderr, "limit of 4.0 MiB") {
				t.Errorf("error does not name the limit: %q", r.stderr)
			}
			// kist reads at most 4 MiB and one byte. The rest of what the
			// registry could send sits in socket buffers.
			if tt.chunked && sent.Load() > 32<<20 {
				t.Errorf("the registry sent %d bytes of the manifest, want kist to stop reading near 4 MiB", sent.Load())
			}
		})
	}
}

// Each spelling of a prefix for the host of an image blocks its pull
// before kist sends any request.
func TestRegistriesBlockedPrefixForms(t *testing.T) {
	need(t, needRegistry, needBusybox)
	proxy := startHostileProxy(t, nil)
	_, port, _ := strings.Cut(proxy.addr, ":")
	ref := "localhost:" + port + "/busybox:latest"
	root := env.identities[0].fresh(t)

	for _, prefix := range []string{
		"localhost:" + port, "LOCALHOST:" + port, "LocalHost:" + port + "/busybox", "localhost:" + port + "/busybox",
	} {
		t.Run(prefix, func(t *testing.T) {
			path := writeRegistriesConf(t, root, "[[registry]]\nprefix = \""+prefix+"\"\nblocked = true\n")
			before := proxy.requests.Load()

			r := runKist(t, root, "pull", ref)
			expect(t, r, 125, "")
			expectOneLine(t, r, "are blocked by "+path+", line 1")
			if n := proxy.requests.Load() - before; n != 0 {
				t.Errorf("the registry received %d requests for a blocked pull, want 0", n)
			}
		})
	}

	t.Run("trailing slash", func(t *testing.T) {
		path := writeRegistriesConf(t, root, "[[registry]]\nprefix = \"localhost:"+port+"/\"\nblocked = true\n")
		before := proxy.requests.Load()

		r := runKist(t, root, "pull", ref)
		expect(t, r, 125, "")
		expectOneLine(t, r, path+", line 1: prefix \"localhost:"+port+"/\" ends with /")
		if n := proxy.requests.Load() - before; n != 0 {
			t.Errorf("the registry received %d requests, want 0", n)
		}
	})

	// The same pull goes through with a prefix that names another
	// namespace, so the requests above would have been counted.
	t.Run("other namespace", func(t *testing.T) {
		writeRegistriesConf(t, root, "[[registry]]\nprefix = \"localhost:"+port+"/library\"\nblocked = true\n\n"+
			"[[registry]]\nprefix = \"docker.io/library\"\nblocked = true\n")
		before := proxy.requests.Load()

		r := runKist(t, root, "pull", ref)
		expect(t, r, 0, env.busybox.ids[tagLatest]+"\n")
		if proxy.requests.Load() == before {
			t.Error("the registry received no request for an allowed pull")
		}
	})
}

// insecure = true in registries.toml lets push reach a registry whose
// certificate kist cannot verify, as it does for pull.
func TestRegistriesInsecurePush(t *testing.T) {
	need(t, needRegistry, needBusybox)
	reg := startAuthRegistry(t)
	root := env.identities[0].fresh(t)
	authFile := filepath.Join(root.home, "auth.json")
	writeUserFile(t, root, "auth.json", authsJSON(reg.addr, reg), 0o600)
	mustSucceed(t, root, "pull", "-q", env.busybox.ref(tagLatest))
	target := reg.addr + "/insecure/pushed:1"

	r := runKist(t, root, "push", "-q", "--authfile", authFile, env.busybox.ref(tagLatest), target)
	expect(t, r, 125, "")
	expectOneLine(t, r, "registry "+reg.addr+" failed TLS certificate verification")

	writeRegistriesConf(t, root, "[[registry]]\nprefix = \""+reg.addr+"/insecure\"\ninsecure = true\n")
	r = runKist(t, root, "push", "-q", "--authfile", authFile, env.busybox.ref(tagLatest), target)
	if r.code != 0 || !strings.HasPrefix(r.stdout, reg.addr+"/insecure/pushed@sha256:") {
		t.Errorf("push with insecure = true: exit status %d, want 0 and NAME@DIGEST\n%s", r.code, r)
	}

	// The entry covers only its own prefix.
	r = runKist(t, root, "push", "-q", "--authfile", authFile, env.busybox.ref(tagLatest), reg.addr+"/other/pushed:1")
	expect(t, r, 125, "")
	expectOneLine(t, r, "failed TLS certificate verification")
}
