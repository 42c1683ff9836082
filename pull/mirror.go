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
// has it: the mirrors of the registry configuration in order, then the
// registry itself. A mirror's failure is logged and the next source
// tried; the registry's own failure is the error.
func fetchImage(ctx context.Context, ref Reference, opts Options, r resilience) (v1.Image, error) {
	sources, err := sourcesOf(ref)
	if err != nil {
		return nil, err
	}

	for _, source := range sources {
		sourceRef, sourceOpts, err := at(ref, source, opts)
		if err != nil {
			return nil, err
		}
		img, err := getImage(ctx, sourceRef, sourceOpts, r)
		if err == nil {
			logrus.Debugf("pull %s: manifest served by %s", ref.Name, sourceRef.Remote.Context().Name())
			return img, nil
		}
		if !source.Mirror || ctx.Err() != nil {
			return nil, err
		}
		logrus.Debugf("pull %s: mirror %s failed, trying the next source: %v", ref.Name, source.Repository, err)
	}
	// Sources always ends with the registry itself, so this is not reached.
	return nil, fmt.Errorf("pull %s: no source to pull from", ref.Name)
}

// sourcesOf reads the registry configuration and returns where to pull
// ref from.
func sourcesOf(ref Reference) ([]registries.Source, error) {
	path, err := registries.DefaultPath()
	if err != nil {
		// Without a home directory there is no configuration to read.
		logrus.Debugf("no registry configuration: %v", err)
		return []registries.Source{{Repository: repositoryName(ref.Remote)}}, nil
	}
	config, err := registries.Load(path)
	if err != nil {
		return nil, err
	}
	sources, err := config.Sources(repositoryName(ref.Remote))
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref.Name, err)
	}
	return sources, nil
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
