package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// writeRegistriesConf writes text as id's registries.toml, owned by id,
// and returns its path.
func writeRegistriesConf(t *testing.T, id *identity, text string) string {
	t.Helper()
	dir := filepath.Join(id.home, ".config", "kist")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "registries.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Dir(dir), dir, path} {
		if err := os.Chown(p, int(id.uid), int(id.gid)); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// startMirror starts a second registry that holds the busybox image as
// hub/busybox:latest, and returns its host:port.
func startMirror(t *testing.T) string {
	t.Helper()
	stop, addr, err := startRegistry(t.TempDir())
	if err != nil {
		t.Fatalf("start the mirror registry: %v", err)
	}
	t.Cleanup(stop)

	src, err := name.ParseReference(env.busybox.ref(tagLatest))
	if err != nil {
		t.Fatal(err)
	}
	dst, err := name.ParseReference(addr + "/hub/busybox:latest")
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(src)
	if err != nil {
		t.Fatalf("read %s: %v", src, err)
	}
	if err := remote.Write(dst, img); err != nil {
		t.Fatalf("copy busybox to the mirror: %v", err)
	}
	return addr
}

func TestRegistriesMirrorServes(t *testing.T) {
	need(t, needRegistry, needBusybox)
	mirror := startMirror(t)
	// Nothing listens on port 1, so only the mirror can serve the pull.
	conf := "[[registry]]\nprefix = \"127.0.0.1:1\"\n\n[[registry.mirror]]\nlocation = \"" + mirror + "/hub\"\n"
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		writeRegistriesConf(t, id, conf)

		r := runKist(t, id, "--debug", "pull", "127.0.0.1:1/busybox:latest")
		expect(t, r, 0, env.busybox.ids[tagLatest]+"\n")
		if want := "manifest served by " + mirror + "/hub/busybox"; !strings.Contains(r.stderr, want) {
			t.Errorf("debug log does not contain %q", want)
		}

		r = runKist(t, id, "run", "--rm", "127.0.0.1:1/busybox:latest", "echo", "from the mirror")
		expect(t, r, 0, "from the mirror\n")
	})
}

func TestRegistriesMirrorDown(t *testing.T) {
	need(t, needRegistry, needBusybox)
	conf := "[[registry]]\nprefix = \"" + env.registry + "\"\n\n[[registry.mirror]]\nlocation = \"127.0.0.1:1\"\n"
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		writeRegistriesConf(t, id, conf)

		r := runKist(t, id, "--debug", "pull", env.busybox.ref(tagLatest))
		expect(t, r, 0, env.busybox.ids[tagLatest]+"\n")
		if want := "manifest served by " + env.registry + "/busybox"; !strings.Contains(r.stderr, want) {
			t.Errorf("debug log does not contain %q", want)
		}
	})
}

func TestRegistriesBlocked(t *testing.T) {
	need(t, needRegistry, needBusybox)
	conf := "# No busybox from here.\n[[registry]]\nprefix = \"" + env.registry + "/busybox\"\nblocked = true\n"
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		path := writeRegistriesConf(t, id, conf)

		r := runKist(t, id, "pull", env.busybox.ref(tagLatest))
		expect(t, r, 125, "")
		expectOneLine(t, r, "are blocked by "+path+", line 2")
	})
}

func TestRegistriesFileInvalid(t *testing.T) {
	need(t, needRegistry, needBusybox)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		path := writeRegistriesConf(t, id, "[[registry]]\nprefix = \""+env.registry+"\"\nmirrors = [\"x\"]\n")

		r := runKist(t, id, "pull", env.busybox.ref(tagLatest))
		expect(t, r, 125, "")
		expectOneLine(t, r, path+", line 3: unknown key registry.mirrors")
	})
}

func TestPullResumesThroughCuttingProxy(t *testing.T) {
	need(t, needRegistry, needBusybox)
	proxy := startCuttingProxy(t, env.registry, 100_000)
	ref := proxy.addr + "/busybox:latest"
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)

		r := runKist(t, id, "pull", ref)
		expect(t, r, 0, env.busybox.ids[tagLatest]+"\n")
		r = runKist(t, id, "run", "--rm", ref, "echo", "resumed")
		expect(t, r, 0, "resumed\n")
	})
	if proxy.cuts() == 0 || proxy.resumes() == 0 {
		t.Errorf("the proxy cut %d responses and served %d range requests, want both above 0",
			proxy.cuts(), proxy.resumes())
	}
}

// cuttingProxy forwards to a registry, but cuts every blob download that
// starts at byte 0 after a fixed number of bytes with a TCP reset, so a
// pull completes only when it resumes with a range request.
type cuttingProxy struct {
	addr     string
	upstream string
	after    int64

	mu               sync.Mutex
	cutCount, ranges int
	forward          http.Handler
}

func startCuttingProxy(t *testing.T, upstream string, after int64) *cuttingProxy {
	t.Helper()
	target, err := url.Parse("http://" + upstream)
	if err != nil {
		t.Fatal(err)
	}
	p := &cuttingProxy{upstream: upstream, after: after, forward: httputil.NewSingleHostReverseProxy(target)}
	server := httptest.NewServer(p)
	t.Cleanup(server.Close)
	p.addr = strings.TrimPrefix(server.URL, "http://")
	return p
}

func (p *cuttingProxy) cuts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cutCount
}

func (p *cuttingProxy) resumes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ranges
}

func (p *cuttingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	blob := r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/")
	if !blob || r.Header.Get("Range") != "" {
		if blob {
			p.mu.Lock()
			p.ranges++
			p.mu.Unlock()
		}
		p.forward.ServeHTTP(w, r)
		return
	}

	resp, err := http.Get("http://" + p.upstream + r.URL.Path)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ContentLength <= p.after {
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		return
	}

	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: %s\r\n\r\n",
		resp.ContentLength, resp.Header.Get("Content-Type"))
	_, _ = io.CopyN(conn, resp.Body, p.after)
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	p.mu.Lock()
	p.cutCount++
	p.mu.Unlock()
}
