// Package imageref checks image names against docker's reference grammar
// and spells them the way kist records them.
package imageref

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Patterns of docker's name grammar, as the package comment of
// github.com/distribution/reference v0.5.0 states it. go-containerregistry
// checks only which characters a repository uses, so it accepts names
// such as "../../etc:passwd" (registry "..") and "a//b" that docker
// rejects.
var (
	domainPattern = regexp.MustCompile(
		`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$`)
	pathComponentPattern = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	tagPattern           = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

// maxNameLength is docker's limit on a name, registry included, without
// its tag or digest.
const maxNameLength = 255

// Check rejects a reference that docker's grammar rejects.
func Check(ref name.Reference) error {
	registry := displayRegistry(ref)
	repository := ref.Context().RepositoryStr()
	if !domainPattern.MatchString(registry) {
		return fmt.Errorf("the registry %q is invalid", registry)
	}
	if n := len(registry) + 1 + len(repository); n > maxNameLength {
		return fmt.Errorf("the name is %d characters long without its tag, over the limit of %d", n, maxNameLength)
	}
	for _, component := range strings.Split(repository, "/") {
		if !pathComponentPattern.MatchString(component) {
			return fmt.Errorf("the path component %q is invalid: use lowercase letters and digits, separated by '.', '_', '__' or dashes", component)
		}
	}
	if tag, ok := ref.(name.Tag); ok && !tagPattern.MatchString(tag.TagStr()) {
		return fmt.Errorf("the tag %q is invalid: use up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'", tag.TagStr())
	}
	return nil
}

// Canonical spells a reference the way docker and podman print it:
// registry and repository in full, with index.docker.io shortened to
// docker.io.
func Canonical(ref name.Reference) string {
	full := displayRegistry(ref) + "/" + ref.Context().RepositoryStr()
	if d, ok := ref.(name.Digest); ok {
		return full + "@" + d.DigestStr()
	}
	return full + ":" + ref.Identifier()
}

// displayRegistry returns the registry of ref, with index.docker.io
// shortened to docker.io.
func displayRegistry(ref name.Reference) string {
	registry := ref.Context().RegistryStr()
	if registry == name.DefaultRegistry {
		return "docker.io"
	}
	return registry
}
