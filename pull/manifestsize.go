package pull

import (
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxManifestSize caps the size of a manifest or index that kist reads:
// 4 MiB, the largest manifest that the distribution registry accepts in
// a push (maxManifestBodySize in its registry/handlers/manifests.go).
// go-containerregistry's own cap (v0.22.1) is 100 MiB, and a hostile
// registry could make kist hold that much.
const maxManifestSize = 4 << 20

// manifestLimit fails a manifest download larger than maxManifestSize:
// at once when the Content-Length header says so, and otherwise when the
// body grows past it, so no more than the cap is read.
type manifestLimit struct {
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *manifestLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || !isManifestRequest(req) {
		return resp, err
	}
	tooLarge := &ManifestTooLargeError{Registry: firstRequest(req).URL.Host, Path: firstRequest(req).URL.Path, Size: resp.ContentLength}
	if resp.ContentLength > maxManifestSize {
		resp.Body.Close()
		return nil, tooLarge
	}
	resp.Body = &cappedBody{body: resp.Body, left: maxManifestSize, err: tooLarge}
	return resp, nil
}

// isManifestRequest reports whether req, or the request that redirected
// to it, has the /v2/NAME/manifests/REFERENCE form.
func isManifestRequest(req *http.Request) bool {
	path := firstRequest(req).URL.Path
	return strings.HasPrefix(path, "/v2/") && strings.Contains(path, "/manifests/")
}

// firstRequest returns the request that a chain of redirects began with.
func firstRequest(req *http.Request) *http.Request {
	for req.Response != nil && req.Response.Request != nil {
		req = req.Response.Request
	}
	return req
}

// cappedBody reads a response body up to left bytes, and fails with err
// when the body has more.
type cappedBody struct {
	body io.ReadCloser
	left int64
	err  error
}

// Read implements io.Reader.
func (b *cappedBody) Read(p []byte) (int, error) {
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.body.Read(p)
	if int64(n) > b.left {
		return 0, b.err
	}
	b.left -= int64(n)
	return n, err
}

// Close implements io.Closer.
func (b *cappedBody) Close() error {
	return b.body.Close()
}

// ManifestTooLargeError reports a manifest or index above
// maxManifestSize.
type ManifestTooLargeError struct {
	// Registry is the host[:port] that the request went to.
	Registry string
	// Path is the path of the request.
	Path string
	// Size is the Content-Length of the response, or -1 when the
	// registry sent none.
	Size int64
}

func (e *ManifestTooLargeError) Error() string {
	size := fmt.Sprintf("more than %s", formatMiB(maxManifestSize))
	if e.Size > maxManifestSize {
		size = fmt.Sprintf("%s (%d bytes)", formatMiB(e.Size), e.Size)
	}
	return fmt.Sprintf("registry %s sent a manifest of %s for %s, above kist's limit of %s; "+
		"no normal image has a manifest that large, so the registry is misconfigured or hostile: pull from another registry",
		e.Registry, size, e.Path, formatMiB(maxManifestSize))
}

// formatMiB formats a byte count in MiB with one decimal.
func formatMiB(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
