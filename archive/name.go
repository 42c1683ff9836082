package archive

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Patterns of the name grammar that docker uses, as the package comment
// of github.com/distribution/reference v0.5.0 states it. go-containerregistry
// checks only which characters a repository uses, so it accepts names
// such as "../../etc:passwd" that docker rejects.
var (
	domainPattern = regexp.MustCompile(
		`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$`)
	pathComponentPattern = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
)

// maxNameLength is docker's limit on a name, registry included, without
// its tag or digest.
const maxNameLength = 255

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
	repo := ref.Context()
	registry := repo.RegistryStr()
	if registry == name.DefaultRegistry {
		registry = "docker.io"
	}
	full := registry + "/" + repo.RepositoryStr()
	if err := checkName(registry, repo.RepositoryStr()); err != nil {
		return "", err
	}
	if d, ok := ref.(name.Digest); ok {
		return full + "@" + d.DigestStr(), nil
	}
	return full + ":" + ref.Identifier(), nil
}

// checkName applies docker's grammar to the registry and the repository
// path that go-containerregistry parsed from a name.
func checkName(registry, repository string) error {
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
	return nil
}
