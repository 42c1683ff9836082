package pull

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/kist-project/kist/auth"
)

// remoteImage fetches the manifest that a registry reference names and
// resolves an index to opts.Platform. It tries the mirrors that the
// registry configuration names first, and returns the source that
// served the manifest.
func remoteImage(ctx context.Context, ref Reference, opts Options) (v1.Image, sender, error) {
	return fetchServed(ctx, ref, opts, defaultResilience)
}

// RemoteOptions returns what every request to a registry needs: the
// context, credentials from the files of package auth and the HTTP
// transport with the registry's TLS trust, retries and resumed blob
// downloads. Push uses them too.
func RemoteOptions(ctx context.Context, opts Options) []remote.Option {
	return remoteOptions(ctx, opts, defaultResilience)
}

// remoteOptions returns RemoteOptions with the retries and stall timeout
// of r.
func remoteOptions(ctx context.Context, opts Options, r resilience) []remote.Option {
	keychain := auth.Keychain{AuthFile: opts.AuthFile}
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(keychain),
		remote.WithTransport(&redirectLimit{next: &manifestLimit{next: r.wrap(newTransport(opts, r.headers), keychain)}}),
		// retryTransport retries instead, honouring Retry-After.
		remote.WithRetryStatusCodes(),
		remote.WithRetryPredicate(retryOutside),
	}
}

// getImage fetches the manifest at one source.
func getImage(ctx context.Context, ref Reference, opts Options, r resilience) (v1.Image, error) {
	remoteOpts := append(remoteOptions(ctx, opts, r), remote.WithPlatform(opts.Platform))
	desc, err := remote.Get(ref.Remote, remoteOpts...)
	if err != nil {
		return nil, registryError(ref, mismatch("manifest", err))
	}
	if isSchema1(desc) {
		return nil, fmt.Errorf("image %s uses Docker's deprecated schema 1 manifest format, which kist cannot run; "+
			"push it again with a current docker or skopeo to convert it", ref.Name)
	}
	if desc.MediaType.IsIndex() {
		img, err := imageFromIndex(ref, desc, opts.Platform)
		if fault := registryFault(mismatch("manifest", err)); fault != nil {
			return nil, registryError(ref, fault)
		}
		if err != nil {
			return nil, err
		}
		return checkedImage(ref, img)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, registryError(ref, err)
	}
	return checkedImage(ref, img)
}

// checkedImage returns img once its manifest has passed checkSizes.
func checkedImage(ref Reference, img v1.Image) (v1.Image, error) {
	manifest, err := img.Manifest()
	if err != nil {
		return nil, registryError(ref, mismatch("manifest", err))
	}
	if err := checkSizes(manifest); err != nil {
		return nil, fmt.Errorf("pull %s: registry %s sent an invalid manifest: %w; the registry is corrupt or misconfigured, "+
			"so ask its operator to fix the image or pull from another registry", ref.Name, ref.Remote.Context().RegistryStr(), err)
	}
	return img, nil
}

// isSchema1 reports whether desc is a Docker schema 1 manifest, by its
// media type or, when a registry sends a generic one, by its
// schemaVersion field.
func isSchema1(desc *remote.Descriptor) bool {
	if desc.MediaType == types.DockerManifestSchema1 || desc.MediaType == types.DockerManifestSchema1Signed {
		return true
	}
	var version struct {
		SchemaVersion int `json:"schemaVersion"`
	}
	return json.Unmarshal(desc.Manifest, &version) == nil && version.SchemaVersion == 1
}

// imageFromIndex picks the platform's image from an index and names the
// platforms on offer when none matches.
func imageFromIndex(ref Reference, desc *remote.Descriptor, platform v1.Platform) (v1.Image, error) {
	idx, err := desc.ImageIndex()
	if err != nil {
		return nil, registryError(ref, err)
	}
	return pickPlatform(ref.Name, idx, platform)
}

// registryError turns a failed pull of ref into one line that names the
// image or registry and what to do about it.
func registryError(ref Reference, err error) error {
	op := operation{
		action:   "pull " + ref.Name,
		verb:     "pull",
		image:    ref.Name,
		registry: ref.Remote.Context().RegistryStr(),
	}
	var content *ContentMismatchError
	if errors.As(err, &content) && content.Source == "" {
		content.Source = "registry " + op.registry
	}
	return op.describe(err)
}
