package pull

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/kist-project/kist/platforms"
	"github.com/kist-project/kist/store"
)

// Options tune a pull.
type Options struct {
	// Platform selects the image from a multi-platform index.
	Platform v1.Platform
	// RequirePlatform rejects an image whose config names another
	// platform, as a single-platform manifest may.
	RequirePlatform bool
	// Insecure turns off TLS verification and allows plain HTTP to any
	// registry, as --tls-verify=false does.
	Insecure bool
	// CertDir, when set, holds the CA certificates (*.crt) and client
	// certificates (*.cert with *.key) for every registry, in place of
	// the registry's certs.d directory, as --cert-dir does.
	CertDir string
	// AuthFile, when set, is the only credential file read, as
	// --authfile does; see package auth.
	AuthFile string
	// ConcurrentLayers is how many layers are downloaded and unpacked at
	// once; 0 means DefaultConcurrentLayers.
	ConcurrentLayers int

	// The callbacks below run one at a time, but not always on the
	// goroutine that called Image or Add.

	// OnLayer, when set, is called once for each layer when it is ready.
	OnLayer func(LayerEvent)
	// OnFetch, when set, is called before a layer that is not in the
	// store is downloaded.
	OnFetch func(diffID v1.Hash)
	// OnStart, when set, is called once the image is resolved, before any
	// layer is fetched.
	OnStart func(id v1.Hash, layers int)
	// OnProgress, when set, is called as each layer blob downloads,
	// after every read from the registry.
	OnProgress func(LayerProgress)
}

// LayerEvent reports one layer of a pull.
type LayerEvent struct {
	DiffID v1.Hash
	// Present is set when the layer was already in the store.
	Present bool
	// Size is the layer's unpacked size in bytes.
	Size int64
	// Duration is how long downloading and unpacking took.
	Duration time.Duration
}

// Image copies the image that ref names into st, unless st already has
// every layer, and records it under ref.Name. It returns the stored image.
func Image(ctx context.Context, st *store.Store, ref Reference, opts Options) (store.Image, error) {
	if opts.Platform.OS == "" {
		opts.Platform = HostPlatform()
	}
	if ref.ArchivePath != "" {
		return archiveImage(ctx, st, ref, opts)
	}
	img, served, err := resolveImage(ctx, ref, opts)
	if err != nil {
		return store.Image{}, err
	}
	tag := ref.Name
	if _, byDigest := ref.Remote.(name.Digest); byDigest {
		tag = ""
	}
	to := Target{Display: ref.Name, Tag: tag, Ref: ref, sender: served}

	if opts.RequirePlatform {
		err := checkPlatform(ref.Name, img, opts.Platform)
		if err != nil && (registryFault(err) != nil || to.sender.mirror) {
			return store.Image{}, to.fail("pull", err)
		}
		if err != nil {
			return store.Image{}, err
		}
	}
	return Add(ctx, st, img, to, opts)
}

// Target is the record that Add makes of an image: its name, tag and
// the verb of its errors.
type Target struct {
	// Action is the verb that begins Add's errors, such as "load" or
	// "import"; "pull" when empty.
	Action string
	// Display names the image in errors and progress.
	Display string
	// Tag, when set, is the name the image is recorded under.
	Tag string
	// Ref, when it names a registry image, adds a repository@digest.
	Ref Reference
	// sender is the registry or mirror that served the manifest, which
	// errors about the config or a layer name.
	sender sender
}

// fail returns err, from adding the image, with the action and the image
// in front. An error of a misbehaving registry replaces the steps that
// led to it, and names the registry or mirror that sent the content.
// Any other error names the mirror, when one served the image.
func (to Target) fail(action string, err error) error {
	fault := registryFault(err)
	if fault == nil && to.sender.mirror {
		return fmt.Errorf("%s %s from %s: %w", action, to.Display, to.sender.name, err)
	}
	if fault == nil {
		return fmt.Errorf("%s %s: %w", action, to.Display, err)
	}
	var content *ContentMismatchError
	if errors.As(fault, &content) && content.Source == "" {
		content.Source, content.Mirror = to.sender.name, to.sender.mirror
	}
	return fmt.Errorf("%s %s: %w", action, to.Display, fault)
}

// Add copies img, from any source, into st and records it as to
// describes.
// Layers already in the store are not fetched again.
func Add(ctx context.Context, st *store.Store, img v1.Image, to Target, opts Options) (store.Image, error) {
	opts = opts.withCallbacks()
	action := to.Action
	if action == "" {
		action = "pull"
	}

	// Garbage collection must not remove a layer between its commit and
	// the image record that refers to it.
	hold, err := st.UseLayers()
	if err != nil {
		return store.Image{}, err
	}
	defer hold.Unlock()

	rec, err := describe(to.Display, img)
	if err != nil && (registryFault(err) != nil || to.sender.mirror) {
		return store.Image{}, to.fail(action, err)
	}
	if err != nil {
		return store.Image{}, err
	}
	if opts.OnStart != nil {
		opts.OnStart(rec.ID, len(rec.Layers))
	}

	if err := storeMetadata(st, img, rec); err != nil {
		return store.Image{}, to.fail(action, err)
	}
	size, err := fetchLayers(ctx, st, img, rec.Layers, opts)
	if err != nil {
		return store.Image{}, to.fail(action, err)
	}
	rec.Size = size

	if err := st.AddImage(rec, to.Tag, repoDigests(to.Ref, img, rec.Manifest)...); err != nil {
		return store.Image{}, fmt.Errorf("%s %s: %w", action, to.Display, err)
	}
	return st.LookupImage(rec.ID.String())
}

// describe builds the store record of img from its manifest and config;
// refName names the image in errors.
func describe(refName string, img v1.Image) (store.Image, error) {
	manifestDigest, err := img.Digest()
	if err != nil {
		return store.Image{}, fmt.Errorf("read manifest of %s: %w", refName, err)
	}
	mediaType, err := img.MediaType()
	if err != nil {
		return store.Image{}, fmt.Errorf("read manifest of %s: %w", refName, err)
	}
	if !mediaType.IsImage() {
		return store.Image{}, fmt.Errorf("%s has media type %s, which is not an image manifest kist can run", refName, mediaType)
	}
	configDigest, err := img.ConfigName()
	if err != nil {
		return store.Image{}, fmt.Errorf("read config of %s: %w", refName, mismatch("config", err))
	}
	config, err := img.ConfigFile()
	if err != nil {
		return store.Image{}, fmt.Errorf("read config of %s: %w", refName, mismatch("config", err))
	}
	layers, err := img.Layers()
	if err != nil {
		return store.Image{}, fmt.Errorf("read layers of %s: %w", refName, err)
	}
	if len(layers) != len(config.RootFS.DiffIDs) {
		return store.Image{}, fmt.Errorf("image %s is invalid: its manifest lists %d layers but its config %d diff IDs",
			refName, len(layers), len(config.RootFS.DiffIDs))
	}

	return store.Image{
		ID:        configDigest,
		Manifest:  manifestDigest,
		MediaType: string(mediaType),
		Layers:    config.RootFS.DiffIDs,
		Created:   config.Created.Time,
	}, nil
}

// storeMetadata keeps the manifest and config blobs, each checked against
// its digest, so the image can be run and inspected without the registry.
func storeMetadata(st *store.Store, img v1.Image, rec store.Image) error {
	manifest, err := img.RawManifest()
	if err != nil {
		return fmt.Errorf("read manifest: %w", err)
	}
	if err := st.PutBlob(rec.Manifest, manifest); err != nil {
		return err
	}
	config, err := img.RawConfigFile()
	if err != nil {
		return fmt.Errorf("read config: %w", mismatch("config", err))
	}
	return st.PutBlob(rec.ID, config)
}

// repoDigests returns the repository@digest forms of a registry image,
// the way docker lists them under RepoDigests: the index digest first
// when img was picked from an index, then the manifest digest.
func repoDigests(ref Reference, img v1.Image, manifest v1.Hash) []string {
	if ref.Remote == nil {
		return nil
	}
	registry := ref.Remote.Context().RegistryStr()
	if registry == "index.docker.io" {
		registry = "docker.io"
	}
	repository := registry + "/" + ref.Remote.Context().RepositoryStr()

	var digests []string
	if index, ok := indexDigest(img); ok {
		digests = append(digests, repository+"@"+index.String())
	}
	return append(digests, repository+"@"+manifest.String())
}

// checkPlatform rejects an image whose config is for another platform
// than want.
func checkPlatform(refName string, img v1.Image, want v1.Platform) error {
	config, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("read config of %s: %w", refName, mismatch("config", err))
	}
	got := v1.Platform{OS: config.OS, Architecture: config.Architecture, Variant: config.Variant}
	if !platforms.Match(want, got) {
		return fmt.Errorf("image %s is for platform %s, not %s; pull it without --platform or name another image",
			refName, platforms.Format(got), platforms.Format(want))
	}
	return nil
}
