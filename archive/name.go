package archive

import (
	"errors"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/kist-project/kist/imageref"
)

// canonicalName spells a reference the way kist records it: registry
// and repository in full, docker.io for Docker Hub. It rejects a name
// that docker's reference grammar rejects.
func canonicalName(s string) (string, error) {
	ref, err := name.ParseReference(s)
	if err != nil {
		// go-containerregistry's error repeats s unquoted, which would
		// put the control characters of a crafted name on a terminal.
		return "", errors.New("it is not in the form NAME[:TAG] or NAME@DIGEST")
	}
	if err := imageref.Check(ref); err != nil {
		return "", err
	}
	return imageref.Canonical(ref), nil
}
