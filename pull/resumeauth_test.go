package pull

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"
)

// tokenAuth demands a bearer token for every registry request, as a
// registry with a token server does, and issues tokens itself at /token
// to anyone. A token stays valid until expire is called.
type tokenAuth struct {
	next http.Handler

	mu     sync.Mutex
	issued int
	valid  map[string]bool
	// rejected lists "METHOD PATH RANGE" of the requests it rejected.
	rejected []string
}

func (a *tokenAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		a.issue(w)
		return
	}
	if !a.authorized(r) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="kist-test"`, r.Host))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	a.next.ServeHTTP(w, r)
}

func (a *tokenAuth) issue(w http.ResponseWriter) {
	a.mu.Lock()
	a.issued++
	token := "token-" + strconv.Itoa(a.issued)
	a.valid[token] = true
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"token": token, "expires_in": 300})
}

// authorized reports whether r carries a valid token, and records it
// when not.
func (a *tokenAuth) authorized(r *http.Request) bool {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.valid[token] {
		return true
	}
	if r.URL.Path != "/v2/" {
		a.rejected = append(a.rejected, strings.TrimSpace(r.Method+" "+r.URL.Path+" "+r.Header.Get("Range")))
	}
	return false
}

// expire invalidates every token issued so far.
func (a *tokenAuth) expire() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.valid = map[string]bool{}
}

func (a *tokenAuth) counts() (issued int, rejected []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.issued, append([]string(nil), a.rejected...)
}

func TestResumeAfterTokenExpired(t *testing.T) {
	requireRoot(t)
	isolate(t)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())

	proxy := &faultProxy{t: t, release: make(chan struct{})}
	t.Cleanup(func() { close(proxy.release) })
	tokens := &tokenAuth{next: proxy, valid: map[string]bool{}}
	host := startRegistry(t, func(next http.Handler) http.Handler {
		proxy.next = next
		return tokens
	})
	img, err := random.Image(100_000, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref := host + "/test/token:v1"
	push(t, ref, img)
	layers, _ := img.Layers()
	digest, _ := layers[0].Digest()
	layer := digest.String()

	// The connection breaks after 1000 bytes, and by then the token that
	// the pull fetched has expired.
	proxy.add(layer, 1, func(p *faultProxy, w http.ResponseWriter, r *http.Request) {
		tokens.expire()
		cutAfter(1000, true)(p, w, r)
	})
	issuedBefore, _ := tokens.counts()
	st := openStore(t)

	got, err := pullVia(t, st, ref, fastResilience)
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	expectPulled(t, st, got, img)

	wantGets := []string{"GET /v2/test/token/blobs/" + layer, "GET /v2/test/token/blobs/" + layer + " bytes=1000-"}
	gets := proxy.gets(layer)
	if strings.Join(gets, "\n") != strings.Join(wantGets, "\n") {
		t.Errorf("layer requests that passed authentication = %q, want %q", gets, wantGets)
	}
	issued, rejected := tokens.counts()
	wantRejected := "GET /v2/test/token/blobs/" + layer + " bytes=1000-"
	if len(rejected) != 1 || rejected[0] != wantRejected {
		t.Errorf("rejected requests = %q, want only %q", rejected, wantRejected)
	}
	if issued-issuedBefore < 2 {
		t.Errorf("the pull fetched %d tokens, want at least 2: the first and one after the expiry", issued-issuedBefore)
	}
}
