package pull

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// redirectToSelf returns a registry wrapper that responds to every GET
// whose path contains part with a redirect to the same URL, and counts
// them.
func redirectToSelf(part string, count *atomic.Int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, part) {
				next.ServeHTTP(w, r)
				return
			}
			count.Add(1)
			http.Redirect(w, r, r.URL.String(), http.StatusTemporaryRedirect)
		})
	}
}

func TestRedirectLoopStops(t *testing.T) {
	for _, part := range []string{"/manifests/", "/blobs/"} {
		t.Run(strings.Trim(part, "/"), func(t *testing.T) {
			t.Setenv("XDG_CONFIG_HOME", t.TempDir())
			var count atomic.Int64
			host := startRegistry(t, redirectToSelf(part, &count))
			push(t, host+"/test/loop:v1", randomImage(t, 1))
			// Without the limit the pull never ends; the deadline turns
			// that into a failure.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			_, err := Image(ctx, openStore(t), mustParse(t, host+"/test/loop:v1"), Options{})
			expectOneLine(t, err, "registry "+host+" redirected the request for /v2/test/loop/", "10 times", "fix the redirects")
			var loop *RedirectLoopError
			if !errors.As(err, &loop) {
				t.Errorf("error %q is not a RedirectLoopError", err)
			}
			if n := count.Load(); n != maxRedirects {
				t.Errorf("the registry redirected %d requests, want %d", n, maxRedirects)
			}
		})
	}
}

// A redirect chain of fewer than maxRedirects redirects is followed.
func TestRedirectChainFollowed(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	host := startRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hops := len(r.URL.Query().Get("hop"))
			if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/blobs/") || hops == maxRedirects-1 {
				next.ServeHTTP(w, r)
				return
			}
			http.Redirect(w, r, r.URL.Path+"?hop="+strings.Repeat("x", hops+1), http.StatusFound)
		})
	})
	push(t, host+"/test/chain:v1", randomImage(t, 1))

	img, err := fetchImage(context.Background(), mustParse(t, host+"/test/chain:v1"), Options{Platform: HostPlatform()}, fastResilience)
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if _, err := img.RawConfigFile(); err != nil {
		t.Errorf("read the config through %d redirects: %v", maxRedirects-1, err)
	}
}
