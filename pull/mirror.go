package pull

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sirupsen/logrus"

	"github.com/kist-project/kist/registries"
)

// fetchImage fetches the image that ref names from the first source that
// has it, as fetchServed does.
func fetchImage(ctx context.Context, ref Reference, opts Options, r resilience) (v1.Image, error) {
	img, _, err := fetchServed(ctx, ref, opts, r)
	return img, err
}

// sender is the registry or mirror that served an image's manifest, as
// errors about the image's content name it.
type sender struct {
	// name is "registry HOST[:PORT]" or "mirror HOST[:PORT]/REPOSITORY".
	name   string
	mirror bool
}

// fetchServed fetches the image that ref names from the first source
// that has it: the mirrors of the registry configuration in order, then
// the registry itself. A mirror's failure is logged and the next source
// tried, but the registry's own failure is the error. It returns the
// image and the source that served its manifest.
func fetchServed(ctx context.Context, ref Reference, opts Options, r resilience) (v1.Image, sender, error) {
	sources, err := sourcesOf(ref)
	if err != nil {
		return nil, sender{}, err
	}

	for _, source := range sources {
		sourceRef, sourceOpts, err := at(ref, source, opts)
		if err != nil {
			return nil, sender{}, err
		}
		img, err := getImage(ctx, sourceRef, sourceOpts, r)
		if err == nil {
			logrus.Debugf("pull %s: manifest served by %s", ref.Name, sourceRef.Remote.Context().Name())
			served := sender{name: "registry " + sourceRef.Remote.Context().RegistryStr()}
			if source.Mirror {
				served = sender{name: "mirror " + sourceRef.Remote.Context().Name(), mirror: true}
			}
			return img, served, nil
		}
		if !source.Mirror || ctx.Err() != nil {
			return nil, sender{}, err
		}
		logrus.Debugf("pull %s: mirror %s failed, trying the next source: %v", ref.Name, source.Repository, err)
	}
	// Sources always ends with the registry itself, so this is not reached.
	return nil, sender{}, fmt.Errorf("pull %s: no source to pull from", ref.Name)
}

// sourcesOf reads the registry configuration and returns where to pull
// ref from.
func sourcesOf(ref Reference) ([]registries.Source, error) {
	config, err := loadRegistries()
	if err != nil {
		return nil, err
	}
	sources, err := config.Sources(repositoryName(ref.Remote))
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref.Name, err)
	}
	return sources, nil
}

// loadRegistries reads the registry configuration, which is empty when
// there is no home directory to find it in.
func loadRegistries() (*registries.Config, error) {
	path, err := registries.DefaultPath()
	if err != nil {
		logrus.Debugf("no registry configuration: %v", err)
		return &registries.Config{}, nil
	}
	return registries.Load(path)
}

// PushInsecure reports whether the registry configuration sets insecure
// = true on the entry for the repository of ref, which then allows plain
// HTTP and unverified TLS for a push there, as podman allows. Mirrors,
// location and blocked apply to pulls only.
func PushInsecure(ref name.Reference) (bool, error) {
	config, err := loadRegistries()
	if err != nil {
		return false, err
	}
	entry, found := config.Find(repositoryName(ref))
	return found && entry.Insecure, nil
}

// repositoryName spells the repository of r as registries.toml prefixes
// do: with docker.io, not index.docker.io.
func repositoryName(r name.Reference) string {
	registry := r.Context().RegistryStr()
	if registry == name.DefaultRegistry {
		registry = "docker.io"
	}
	return registry + "/" + r.Context().RepositoryStr()
}

// at returns ref and opts for pulling from source: the reference moved to
// the source's repository, and TLS verification off when the source is
// insecure.
func at(ref Reference, source registries.Source, opts Options) (Reference, Options, error) {
	if source.Insecure {
		opts.Insecure = true
	}
	var nameOpts []name.Option
	if opts.Insecure {
		// Lets go-containerregistry fall back to plain HTTP for any host,
		// not only for loopback and private addresses.
		nameOpts = append(nameOpts, name.Insecure)
	}

	separator := ":"
	if _, byDigest := ref.Remote.(name.Digest); byDigest {
		separator = "@"
	}
	text := source.Repository + separator + ref.Remote.Identifier()
	moved, err := name.ParseReference(text, nameOpts...)
	if err != nil {
		return Reference{}, Options{}, fmt.Errorf("pull %s: source %s from the registry configuration is invalid: %w",
			ref.Name, strings.TrimSuffix(text, separator+ref.Remote.Identifier()), err)
	}
	return Reference{Name: ref.Name, Remote: moved}, opts, nil
}
