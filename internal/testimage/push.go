package testimage

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Push uploads an image or index, with every blob it refers to, and tags
// it as ref, such as "127.0.0.1:5000/busybox:latest". Registries on
// loopback addresses are reached over plain HTTP.
func Push(ctx context.Context, ref string, t remote.Taggable) error {
	r, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		return fmt.Errorf("parse reference %q: %w", ref, err)
	}
	if err := remote.Push(r, t, remote.WithContext(ctx)); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return nil
}
