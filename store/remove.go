package store

import (
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Removal reports what RemoveImage did.
type Removal struct {
	// Untagged lists the names and digests that no longer point at the image.
	Untagged []string
	// Deleted is the ID of the image whose record was removed, if any.
	Deleted *v1.Hash
}

// ErrImageInUse is returned when a container uses the image to remove.
var ErrImageInUse = errors.New("image is in use by a container")

// RemoveImage removes a reference the way docker rmi does. A name or
// digest reference is untagged, and the image goes when nothing else
// points at it. An ID removes the image; when several names point at it
// that needs force. An image that a container uses needs force too.
// Layers stay until CollectGarbage.
func (s *Store) RemoveImage(ref string, force bool) (Removal, error) {
	img, err := s.LookupImage(ref)
	if err != nil {
		return Removal{}, err
	}
	byName := contains(img.Names, ref) || contains(img.Digests, ref)
	if !byName && len(img.Names) > 1 && !force {
		return Removal{}, fmt.Errorf("image %s has %d names (%s); remove them one at a time, or use --force",
			img.ID.Hex[:12], len(img.Names), strings.Join(img.Names, ", "))
	}

	var removal Removal
	err = s.updateIndex(func(idx *imageIndex) error {
		rec, ok := idx.Images[img.ID.String()]
		if !ok {
			return fmt.Errorf("image %s: %w", ref, ErrNotFound)
		}
		if byName {
			rec.Names = without(rec.Names, ref)
			rec.Digests = without(rec.Digests, ref)
			removal.Untagged = append(removal.Untagged, ref)
			if len(rec.Names) > 0 {
				return nil
			}
		}
		if user, err := s.containerUsing(rec.ID); err != nil {
			return err
		} else if user != "" && !force {
			return fmt.Errorf("%w: container %s uses image %s; remove the container with kist rm, or use --force",
				ErrImageInUse, user[:12], rec.ID.Hex[:12])
		}
		removal.Untagged = append(removal.Untagged, without(append(rec.Names, rec.Digests...), ref)...)
		delete(idx.Images, rec.ID.String())
		id := rec.ID
		removal.Deleted = &id
		return nil
	})
	if err != nil {
		return Removal{}, err
	}
	return removal, nil
}

// containerUsing returns the ID of a container created from image id, or
// "" when there is none.
func (s *Store) containerUsing(id v1.Hash) (string, error) {
	containers, err := s.Containers()
	if err != nil {
		return "", err
	}
	for _, c := range containers {
		if c.ImageID == id.String() {
			return c.ID, nil
		}
	}
	return "", nil
}

// TagImage points name at the image that ref names.
func (s *Store) TagImage(ref, name string) error {
	img, err := s.LookupImage(ref)
	if err != nil {
		return err
	}
	return s.AddImage(img, name, "")
}

// PruneImages removes every image that no container uses and returns
// their IDs. Without all it keeps images that have a name, as docker
// image prune does without --all. Layers stay until CollectGarbage.
func (s *Store) PruneImages(all bool) ([]v1.Hash, error) {
	var pruned []v1.Hash
	err := s.updateIndex(func(idx *imageIndex) error {
		for key, img := range idx.Images {
			if len(img.Names) > 0 && !all {
				continue
			}
			user, err := s.containerUsing(img.ID)
			if err != nil {
				return err
			}
			if user == "" {
				pruned = append(pruned, img.ID)
				delete(idx.Images, key)
			}
		}
		return nil
	})
	return pruned, err
}
