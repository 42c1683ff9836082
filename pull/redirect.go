package pull

import (
	"fmt"
	"net/http"
)

// maxRedirects is how many redirects one registry request may follow,
// the limit of Go's default http.Client.
const maxRedirects = 10

// redirectLimit fails a registry request that has been redirected
// maxRedirects times. go-containerregistry (v0.22.1) gives its
// http.Client a CheckRedirect that guards against redirects to private
// addresses but counts nothing, so without this a registry that
// redirects a request to itself is requested without end.
type redirectLimit struct {
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *redirectLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	hops := 0
	for r := req; r.Response != nil && r.Response.Request != nil; r = r.Response.Request {
		hops++
	}
	if hops >= maxRedirects {
		first := firstRequest(req)
		return nil, &RedirectLoopError{Registry: first.URL.Host, Path: first.URL.Path, LastHost: req.URL.Host}
	}
	return t.next.RoundTrip(req)
}

// RedirectLoopError reports a registry request that was still being
// redirected after maxRedirects redirects.
type RedirectLoopError struct {
	// Registry is the host[:port] that the first request went to.
	Registry string
	// Path is the path of the first request.
	Path string
	// LastHost is the host[:port] of the last redirect. Its URL is left
	// out, because a redirect to storage often carries a signed token.
	LastHost string
}

func (e *RedirectLoopError) Error() string {
	return fmt.Sprintf("registry %s redirected the request for %s %d times, the last time to %s, so kist stopped; "+
		"the registry or a proxy in front of it is misconfigured, so ask its operator to fix the redirects or use another registry",
		e.Registry, e.Path, maxRedirects, e.LastHost)
}
