package pull

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/kist-project/kist/store"
)

// fastResilience keeps the retry waits short, so the tests that spend
// every attempt finish quickly.
var fastResilience = resilience{
	retry: retryPolicy{attempts: 4, delay: time.Millisecond, maxDelay: 5 * time.Second},
	stall: 500 * time.Millisecond,
	// The in-memory registry responds in milliseconds, so two seconds
	// without headers is a fault that a test has set up.
	headers: 2 * time.Second,
}

// pullVia pulls ref with the resilience r, from registries that
// registries.toml in a fresh XDG_CONFIG_HOME names, or directly.
func pullVia(t *testing.T, st *store.Store, ref string, r resilience) (store.Image, error) {
	t.Helper()
	// A pull that hangs fails the test instead of the test binary.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	parsed := mustParse(t, ref)
	img, err := fetchImage(ctx, parsed, Options{Platform: HostPlatform()}, r)
	if err != nil {
		return store.Image{}, err
	}
	return Add(ctx, st, img, Target{Display: parsed.Name, Tag: parsed.Name, Ref: parsed}, Options{})
}

// faultImage pushes a two-layer image of about 200 KiB to a fresh
// registry behind a fault proxy, and returns the proxy, the reference,
// the image and the digest of its first layer.
func faultImage(t *testing.T) (*faultProxy, string, v1.Image, string) {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	proxy, host := newFaultProxy(t)
	img, err := random.Image(100_000, 2)
	if err != nil {
		t.Fatal(err)
	}
	ref := host + "/test/faults:v1"
	push(t, ref, img)
	layers, _ := img.Layers()
	digest, _ := layers[0].Digest()
	return proxy, ref, img, digest.String()
}

// expectPulled checks that got is img and that its layers are stored.
func expectPulled(t *testing.T, st *store.Store, got store.Image, img v1.Image) {
	t.Helper()
	wantID, _ := img.ConfigName()
	if got.ID != wantID {
		t.Errorf("image ID = %s, want %s", got.ID, wantID)
	}
	for _, diffID := range got.Layers {
		if _, err := st.Layer(diffID); err != nil {
			t.Errorf("layer %s: %v", diffID, err)
		}
	}
}

func TestResumeAfterBreak(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name  string
		fault func(*faultProxy, http.ResponseWriter, *http.Request)
	}{
		{"unexpected EOF", cutAfter(1000, false)},
		{"connection reset", cutAfter(1000, true)},
		{"stall", stallAfter(1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy, ref, img, layer := faultImage(t)
			proxy.add(layer, 1, tt.fault)
			st := openStore(t)

			got, err := pullVia(t, st, ref, fastResilience)
			if err != nil {
				t.Fatalf("pull: %v", err)
			}
			expectPulled(t, st, got, img)
			requests := proxy.gets(layer)
			if len(requests) != 2 || !strings.HasSuffix(requests[1], "bytes=1000-") {
				t.Errorf("layer requests = %q, want the first and one for bytes=1000-", requests)
			}
		})
	}
}

func TestResumeBreaksRepeatedly(t *testing.T) {
	requireRoot(t)
	proxy, ref, img, layer := faultImage(t)
	// Every response breaks after 30000 bytes, but each delivers some.
	proxy.add(layer, -1, cutAfter(30000, true))
	st := openStore(t)

	got, err := pullVia(t, st, ref, fastResilience)
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	expectPulled(t, st, got, img)
	if n := len(proxy.gets(layer)); n < 4 {
		t.Errorf("layer was requested %d times, want at least 4 for a blob over 100000 bytes", n)
	}
}

func TestResumeRangeIgnored(t *testing.T) {
	proxy, ref, _, layer := faultImage(t)
	proxy.add(layer, 1, cutAfter(1000, false))
	proxy.add(layer, -1, ignoreRange)

	_, err := pullVia(t, openStore(t), ref, fastResilience)
	if err == nil {
		t.Fatal("pull succeeded, want an error because the registry ignored Range")
	}
	for _, want := range []string{layer, "ignored", "HTTP 200", "byte 1000 of"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	// The readers between the download and the unpacker add nothing.
	if strings.Contains(err.Error(), "unpack entry") {
		t.Errorf("error %q names the unpacked entry", err)
	}
}

func TestResumeAttemptsSpent(t *testing.T) {
	proxy, ref, _, layer := faultImage(t)
	// The first response breaks after 1000 bytes, every later one at once.
	proxy.add(layer, 1, cutAfter(1000, true))
	proxy.add(layer, -1, cutAfter(0, true))

	_, err := pullVia(t, openStore(t), ref, fastResilience)
	if err == nil {
		t.Fatal("pull succeeded, want an error once the attempts are spent")
	}
	for _, want := range []string{layer, "(4 attempts)", "byte 1000 of", "pull again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestRetryStatuses(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name   string
		suffix string
		fault  func(*faultProxy, http.ResponseWriter, *http.Request)
	}{
		{"manifest 503", "/manifests/v1", status(http.StatusServiceUnavailable)},
		{"manifest 429", "/manifests/v1", status(http.StatusTooManyRequests)},
		{"manifest reset", "/manifests/v1", resetConnection},
		{"blob 502", "", status(http.StatusBadGateway)},
		{"blob reset", "", resetConnection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy, ref, img, layer := faultImage(t)
			suffix := tt.suffix
			if suffix == "" {
				suffix = layer
			}
			proxy.add(suffix, 2, tt.fault)
			st := openStore(t)

			got, err := pullVia(t, st, ref, fastResilience)
			if err != nil {
				t.Fatalf("pull: %v", err)
			}
			expectPulled(t, st, got, img)
			if n := len(proxy.gets(suffix)); n < 3 {
				t.Errorf("%s was requested %d times, want at least 3", suffix, n)
			}
		})
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	proxy, ref, _, _ := faultImage(t)
	proxy.add("/manifests/v1", 1, status(http.StatusTooManyRequests, "Retry-After", "1"))

	start := time.Now()
	if _, err := fetchImage(context.Background(), mustParse(t, ref), Options{Platform: HostPlatform()}, fastResilience); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	// The policy's own first wait is a millisecond, so only Retry-After
	// explains a wait of a second.
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("retry came after %v, want at least the 1s of Retry-After", waited)
	}
}

func TestRetrySpentNamesStatus(t *testing.T) {
	proxy, ref, _, _ := faultImage(t)
	proxy.add("/manifests/v1", -1, status(http.StatusServiceUnavailable))

	_, err := fetchImage(context.Background(), mustParse(t, ref), Options{Platform: HostPlatform()}, fastResilience)
	if err == nil {
		t.Fatal("fetch succeeded from a registry that always returns 503")
	}
	host := strings.Split(ref, "/")[0]
	for _, want := range []string{"registry " + host, "HTTP 503", "every attempt"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if n := len(proxy.gets("/manifests/v1")); n != 4 {
		t.Errorf("manifest was requested %d times, want 4", n)
	}
}

func TestRetryNotForClientErrors(t *testing.T) {
	proxy, ref, _, _ := faultImage(t)
	proxy.add("/manifests/v1", -1, status(http.StatusForbidden))

	_, err := fetchImage(context.Background(), mustParse(t, ref), Options{Platform: HostPlatform()}, fastResilience)
	if err == nil || !strings.Contains(err.Error(), "HTTP 403") {
		t.Fatalf("fetch: got %v, want an error naming HTTP 403", err)
	}
	if n := len(proxy.gets("/manifests/v1")); n != 1 {
		t.Errorf("manifest was requested %d times, want 1", n)
	}
}

// resetConnection closes the connection with a TCP reset before any
// response.
func resetConnection(p *faultProxy, w http.ResponseWriter, r *http.Request) {
	conn := hijack(p.t, w)
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	conn.Close()
}

func TestResumeStopsOnClose(t *testing.T) {
	proxy, ref, _, layer := faultImage(t)
	proxy.add(layer, -1, stallAfter(1000))
	slow := resilience{retry: fastResilience.retry, stall: time.Hour}
	client := &http.Client{Transport: slow.wrap(http.DefaultTransport, nil)}
	host := strings.Split(ref, "/")[0]

	resp, err := client.Get("http://" + host + "/v2/test/faults/blobs/" + layer)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1000)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatalf("read the first 1000 bytes: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := resp.Body.Read(buf)
		done <- err
	}()

	// Closing the body ends the stalled read, as the pull does when it
	// stops early, and starts no resume.
	resp.Body.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Error("read after close returned no error")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("read still blocked 30s after the body was closed")
	}
	if requests := proxy.gets(layer); len(requests) != 1 {
		t.Errorf("layer requests = %q, want only the first", requests)
	}
}
