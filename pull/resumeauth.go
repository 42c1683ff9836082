package pull

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// reauthenticate builds go-containerregistry's authenticating transport
// over t.next anew for the registry of the blob request req, which
// fetches a fresh bearer token. resumeTransport sits below the transport
// that added the first request's token, so it cannot refresh that one.
func (t *resumeTransport) reauthenticate(ctx context.Context, req *http.Request) (http.RoundTripper, error) {
	repository, err := blobRepository(req)
	if err != nil {
		return nil, err
	}
	authenticator, err := authn.Resolve(ctx, t.keychain, repository)
	if err != nil {
		return nil, fmt.Errorf("find credentials for %s: %w", repository, err)
	}
	scopes := []string{repository.Scope(transport.PullScope)}
	rt, err := transport.NewWithContext(ctx, repository.Registry, authenticator, t.next, scopes)
	if err != nil {
		return nil, fmt.Errorf("authenticate to %s again: %w", repository.RegistryStr(), err)
	}
	return rt, nil
}

// blobRepository returns the repository of a request for
// /v2/NAME/blobs/DIGEST, on the registry that req was sent to.
func blobRepository(req *http.Request) (name.Repository, error) {
	path, ok := strings.CutPrefix(req.URL.Path, "/v2/")
	repo, _, found := strings.Cut(path, "/blobs/")
	if !ok || !found {
		return name.Repository{}, fmt.Errorf("request for %s is not a blob request of a registry", req.URL.Redacted())
	}
	var options []name.Option
	if req.URL.Scheme == "http" {
		options = append(options, name.Insecure)
	}
	return name.NewRepository(req.URL.Host+"/"+repo, options...)
}

// sentToRegistry reports whether req went to a registry's blob endpoint
// itself, not to a storage host that the registry redirected to, whose
// URL carries credentials of its own.
func sentToRegistry(req *http.Request) bool {
	_, err := blobRepository(req)
	return err == nil
}
