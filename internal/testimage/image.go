package testimage

import (
	"fmt"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// HostPlatform returns the platform of the running test binary, which is
// the one kist picks from an index on this machine.
func HostPlatform() v1.Platform {
	return platformOf(runtime.GOARCH)
}

// OtherPlatform returns a Linux platform that is not the host's: arm64 on
// every host except arm64, where it is amd64.
func OtherPlatform() v1.Platform {
	if runtime.GOARCH == "arm64" {
		return platformOf("amd64")
	}
	return platformOf("arm64")
}

func platformOf(arch string) v1.Platform {
	p := v1.Platform{OS: "linux", Architecture: arch}
	if arch == "arm64" {
		p.Variant = "v8"
	}
	return p
}

// Image returns an image for platform with the given runtime config and
// layers, bottom first. The manifest, config and layer media types follow
// format, and a layer built for the other format is rejected. The creation
// time is FixedTime, so the same input always gives the same digest.
func Image(format Format, platform v1.Platform, cfg v1.Config, layers ...v1.Layer) (v1.Image, error) {
	if err := checkLayers(format, layers); err != nil {
		return nil, err
	}
	base := empty.Image
	if format == OCI {
		base = mutate.MediaType(base, types.OCIManifestSchema1)
		base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	}
	base, err := mutate.ConfigFile(base, &v1.ConfigFile{
		Architecture: platform.Architecture,
		OS:           platform.OS,
		Variant:      platform.Variant,
		Created:      v1.Time{Time: FixedTime()},
		Config:       cfg,
		RootFS:       v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, fmt.Errorf("set image config: %w", err)
	}
	adds := make([]mutate.Addendum, 0, len(layers))
	for _, l := range layers {
		adds = append(adds, mutate.Addendum{
			Layer:   l,
			History: v1.History{Created: v1.Time{Time: FixedTime()}},
		})
	}
	img, err := mutate.Append(base, adds...)
	if err != nil {
		return nil, fmt.Errorf("append layers: %w", err)
	}
	return img, nil
}

// checkLayers rejects layers whose media type belongs to the other format,
// because registries and runtimes may refuse such a mix.
func checkLayers(format Format, layers []v1.Layer) error {
	for i, l := range layers {
		mt, err := l.MediaType()
		if err != nil {
			return fmt.Errorf("layer %d media type: %w", i, err)
		}
		if isOCI(mt) != (format == OCI) {
			return fmt.Errorf("layer %d has media type %s, not a %s layer", i, mt, format)
		}
	}
	return nil
}

func isOCI(mt types.MediaType) bool {
	return strings.Contains(string(mt), types.OCIVendorPrefix)
}

// Placeholder returns a small image for platform whose only layer contains
// /platform, a text file naming the platform. It fills the entries of
// other architectures in an index.
func Placeholder(format Format, platform v1.Platform, opts LayerOptions) (v1.Image, error) {
	opts.Format = format
	layer, err := LayerFromEntries([]Entry{
		File("platform", platform.String()+"\n", 0o644),
	}, opts)
	if err != nil {
		return nil, err
	}
	return Image(format, platform, v1.Config{Cmd: []string{"/platform"}}, layer)
}

// Index returns an image index (OCI) or manifest list (Docker) of images,
// each described with the platform from its config, in the order given.
func Index(format Format, images ...v1.Image) (v1.ImageIndex, error) {
	var idx v1.ImageIndex = empty.Index
	if format == Docker {
		idx = mutate.IndexMediaType(idx, types.DockerManifestList)
	}
	adds := make([]mutate.IndexAddendum, 0, len(images))
	for i, img := range images {
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("image %d config: %w", i, err)
		}
		mt, err := img.MediaType()
		if err != nil {
			return nil, fmt.Errorf("image %d media type: %w", i, err)
		}
		if isOCI(mt) != (format == OCI) {
			return nil, fmt.Errorf("image %d has media type %s, not a %s manifest", i, mt, format)
		}
		adds = append(adds, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{MediaType: mt, Platform: cf.Platform()},
		})
	}
	return mutate.AppendManifests(idx, adds...), nil
}
