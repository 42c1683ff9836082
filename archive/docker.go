package archive

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/kist-project/kist/blobimage"
)

// dockerManifest is one entry of a docker-archive's manifest.json.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

func (a *Archive) dockerImages() ([]Entry, error) {
	data, err := a.idx.readDocument("manifest.json")
	if err != nil {
		return nil, err
	}
	var manifests []dockerManifest
	if err := json.Unmarshal(data, &manifests); err != nil {
		return nil, fmt.Errorf("manifest.json is invalid: %w", err)
	}
	if len(manifests) == 0 {
		return nil, fmt.Errorf("manifest.json: %w", errNoImages)
	}

	entries := make([]Entry, 0, len(manifests))
	for i, m := range manifests {
		entry, err := a.dockerImage(m)
		if err != nil {
			return nil, fmt.Errorf("image %d of manifest.json: %w", i+1, err)
		}
		entries = append(entries, entry)
	}
	return entries, nil
}

func (a *Archive) dockerImage(m dockerManifest) (Entry, error) {
	config, err := a.idx.readDocument(m.Config)
	if err != nil {
		return Entry{}, err
	}
	parsed, err := v1.ParseConfigFile(bytes.NewReader(config))
	if err != nil {
		return Entry{}, fmt.Errorf("config %s is invalid: %w", m.Config, err)
	}
	if len(parsed.RootFS.DiffIDs) != len(m.Layers) {
		return Entry{}, fmt.Errorf("manifest.json lists %d layers but config %s has %d diff IDs",
			len(m.Layers), m.Config, len(parsed.RootFS.DiffIDs))
	}

	var layers []blobimage.Layer
	manifestType := types.DockerManifestSchema2
	for i, file := range m.Layers {
		l, err := a.dockerLayer(file, parsed.RootFS.DiffIDs[i])
		if err != nil {
			return Entry{}, err
		}
		if blobimage.CompressionOf(l.Descriptor.MediaType) == "zstd" {
			manifestType = types.OCIManifestSchema1
		}
		layers = append(layers, l)
	}
	for i := range layers {
		d := &layers[i].Descriptor
		if d.MediaType, err = blobimage.MediaTypeFor(d.MediaType, manifestType); err != nil {
			return Entry{}, err
		}
	}
	img, err := blobimage.New(config, layers, manifestType)
	if err != nil {
		return Entry{}, err
	}

	entry := Entry{Image: img}
	for _, tag := range m.RepoTags {
		canonical, err := canonicalName(tag)
		if err != nil {
			return Entry{}, fmt.Errorf("RepoTags entry %q is not a valid image name: %w", tag, err)
		}
		entry.Names = append(entry.Names, canonical)
	}
	if len(m.RepoTags) > 0 {
		entry.Ref = m.RepoTags[0]
	}
	return entry, nil
}

// dockerLayer describes one layer file. A docker-archive names no layer
// digest, so a compressed layer is hashed here once. A plain tar layer's
// digest must be its diff ID, which the consumer checks as it reads.
func (a *Archive) dockerLayer(file string, diffID v1.Hash) (blobimage.Layer, error) {
	// Images in one archive share layer files, and a hostile
	// manifest.json may name one file many times: hash it once.
	key := file + "\x00" + diffID.String()
	if l, ok := a.layers[key]; ok {
		return l, nil
	}
	l, err := a.describeLayer(file, diffID)
	if err != nil {
		return blobimage.Layer{}, err
	}
	if a.layers == nil {
		a.layers = map[string]blobimage.Layer{}
	}
	a.layers[key] = l
	return l, nil
}

func (a *Archive) describeLayer(file string, diffID v1.Hash) (blobimage.Layer, error) {
	r, err := a.idx.open(file)
	if err != nil {
		return blobimage.Layer{}, err
	}
	magic, _ := bufio.NewReader(io.NewSectionReader(r, 0, 4)).Peek(4)
	compression := blobimage.Compression("")
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		compression = "gzip"
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		compression = "zstd"
	}
	mediaType, _ := blobimage.LayerMediaType(compression, types.OCIManifestSchema1)

	digest := diffID
	if compression != "" {
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(r, 0, r.Size())); err != nil {
			return blobimage.Layer{}, fmt.Errorf("read layer %s: %w", file, err)
		}
		digest = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
	}
	return blobimage.Layer{
		Descriptor: v1.Descriptor{Digest: digest, Size: r.Size(), MediaType: mediaType},
		DiffID:     diffID,
		Open: func() (io.ReadCloser, error) {
			return io.NopCloser(io.NewSectionReader(r, 0, r.Size())), nil
		},
	}, nil
}
