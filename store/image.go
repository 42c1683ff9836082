package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Image is one image in the store. Its ID is the digest of its config,
// as in docker and podman.
type Image struct {
	ID        v1.Hash `json:"id"`
	Manifest  v1.Hash `json:"manifest"`
	MediaType string  `json:"mediaType"`
	// Layers lists the diff IDs of the image's layers, bottom first.
	Layers []v1.Hash `json:"layers"`
	// Size is the unpacked size of all layers, in bytes.
	Size    int64     `json:"size"`
	Created time.Time `json:"created"`
	// Names are the references that point at the image, such as
	// docker.io/library/busybox:latest.
	Names []string `json:"names,omitempty"`
	// Digests are repository@digest references of the image's manifest
	// and of the index it was pulled through.
	Digests []string `json:"digests,omitempty"`
}

// imageIndex is the content of images.json.
type imageIndex struct {
	Images map[string]*Image `json:"images"`
}

func (s *Store) indexPath() string { return s.path("images.json") }

func (s *Store) readIndex() (*imageIndex, error) {
	idx := &imageIndex{Images: map[string]*Image{}}
	data, err := os.ReadFile(s.indexPath())
	if errors.Is(err, fs.ErrNotExist) {
		return idx, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read image index: %w", err)
	}
	if err := json.Unmarshal(data, idx); err != nil {
		return nil, fmt.Errorf("read image index %s: %w; the file is damaged: "+
			"move it away to start with no images (unpacked layers stay and are reused)", s.indexPath(), err)
	}
	if idx.Images == nil {
		idx.Images = map[string]*Image{}
	}
	return idx, nil
}

// updateIndex applies change to images.json under the index lock.
func (s *Store) updateIndex(change func(*imageIndex) error) error {
	l, err := s.lock("images")
	if err != nil {
		return err
	}
	defer l.Unlock()

	idx, err := s.readIndex()
	if err != nil {
		return err
	}
	if err := change(idx); err != nil {
		return err
	}
	data, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	if err := s.writeFileAtomic(s.indexPath(), data, true); err != nil {
		return fmt.Errorf("write image index: %w", err)
	}
	return nil
}

// AddImage records img, whose blobs and layers must already be in the
// store, and points name (which may be empty) and digests at it. A name
// or digest that pointed at another image moves, leaving that image
// untagged. An index digest names one image per platform, so it stays
// on the image pulled last.
func (s *Store) AddImage(img Image, name string, digests ...string) error {
	return s.updateIndex(func(idx *imageIndex) error {
		for _, other := range idx.Images {
			other.Names = without(other.Names, name)
			for _, digest := range digests {
				other.Digests = without(other.Digests, digest)
			}
		}
		rec, ok := idx.Images[img.ID.String()]
		if !ok {
			copied := img
			copied.Names, copied.Digests = nil, nil
			rec = &copied
			idx.Images[img.ID.String()] = rec
		}
		if name != "" {
			rec.Names = appendUnique(rec.Names, name)
		}
		for _, digest := range digests {
			if digest != "" {
				rec.Digests = appendUnique(rec.Digests, digest)
			}
		}
		return nil
	})
}

// Images returns every image, newest first.
func (s *Store) Images() ([]Image, error) {
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	images := make([]Image, 0, len(idx.Images))
	for _, img := range idx.Images {
		images = append(images, *img)
	}
	sort.Slice(images, func(i, j int) bool {
		if !images[i].Created.Equal(images[j].Created) {
			return images[i].Created.After(images[j].Created)
		}
		return images[i].ID.Hex < images[j].ID.Hex
	})
	return images, nil
}

// LookupImage finds an image by a full name (as AddImage recorded it), a
// repository@digest reference, or an ID or unique ID prefix of at least
// four hex digits.
func (s *Store) LookupImage(ref string) (Image, error) {
	idx, err := s.readIndex()
	if err != nil {
		return Image{}, err
	}
	for _, img := range idx.Images {
		if contains(img.Names, ref) || contains(img.Digests, ref) {
			return *img, nil
		}
	}

	id := strings.TrimPrefix(ref, "sha256:")
	if len(id) < 4 || strings.Trim(id, "0123456789abcdef") != "" {
		return Image{}, fmt.Errorf("image %s: %w", ref, ErrNotFound)
	}
	var found []*Image
	for _, img := range idx.Images {
		if strings.HasPrefix(img.ID.Hex, id) {
			found = append(found, img)
		}
	}
	switch len(found) {
	case 0:
		return Image{}, fmt.Errorf("image %s: %w", ref, ErrNotFound)
	case 1:
		return *found[0], nil
	default:
		return Image{}, fmt.Errorf("image ID prefix %s matches %d images; give more digits", ref, len(found))
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func without(list []string, s string) []string {
	out := list[:0]
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}

func appendUnique(list []string, s string) []string {
	if contains(list, s) {
		return list
	}
	return append(list, s)
}
