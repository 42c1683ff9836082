package pull

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// layoutPrefix marks a reference to an OCI image layout directory.
const layoutPrefix = "oci:"

// Reference is a parsed image reference.
type Reference struct {
	// Name is the canonical form kist records the image under, such as
	// docker.io/library/busybox:latest or 127.0.0.1:5000/app@sha256:….
	Name string
	// Remote is set for registry references.
	Remote name.Reference
	// LayoutPath and LayoutTag are set for oci:PATH[:TAG] references.
	LayoutPath string
	LayoutTag  string
	// ArchivePath, ArchiveFormat and ArchiveSelector are set for
	// docker-archive:PATH[:REF] and oci-archive:PATH[:TAG] references;
	// the format is "docker-archive" or "oci-archive".
	ArchivePath     string
	ArchiveFormat   string
	ArchiveSelector string
}

// ParseReference parses a docker-style image reference, oci:PATH[:TAG]
// for an OCI image layout directory, or docker-archive:PATH[:REF] or
// oci-archive:PATH[:TAG] for an archive file.
func ParseReference(s string) (Reference, error) {
	if strings.HasPrefix(s, dockerArchivePrefix) || strings.HasPrefix(s, ociArchivePrefix) {
		return parseArchiveReference(s)
	}
	if strings.HasPrefix(s, layoutPrefix) {
		return parseLayoutReference(s)
	}
	ref, err := name.ParseReference(s)
	if err == nil {
		err = checkGrammar(ref)
	} else {
		err = parseReason(s)
	}
	if err != nil {
		return Reference{}, fmt.Errorf("invalid image reference %q: %w; "+
			"use NAME[:TAG] or NAME@sha256:DIGEST, such as docker.io/library/busybox:latest", s, err)
	}
	return Reference{Name: canonicalName(ref), Remote: ref}, nil
}

// Docker's reference grammar, which go-containerregistry checks more
// loosely: it takes ".." for a registry host and "a//b" for a
// repository.
var (
	hostGrammar      = regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$`)
	componentGrammar = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
)

// checkGrammar rejects what docker's reference grammar does not allow.
func checkGrammar(ref name.Reference) error {
	if host := ref.Context().RegistryStr(); !hostGrammar.MatchString(host) {
		return fmt.Errorf("registry %q is not a host name or address", host)
	}
	for _, c := range strings.Split(ref.Context().RepositoryStr(), "/") {
		if !componentGrammar.MatchString(c) {
			return fmt.Errorf("repository path component %q is not lowercase letters and digits separated by . _ __ or -", c)
		}
	}
	return nil
}

func parseLayoutReference(s string) (Reference, error) {
	rest := strings.TrimPrefix(s, layoutPrefix)
	path, tag := rest, ""
	if i := strings.LastIndex(rest, ":"); i >= 0 {
		path, tag = rest[:i], rest[i+1:]
	}
	if path == "" {
		return Reference{}, fmt.Errorf("invalid image reference %q: the OCI layout path is empty; use oci:PATH[:TAG]", s)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Reference{}, fmt.Errorf("invalid image reference %q: %w", s, err)
	}
	ref := Reference{LayoutPath: abs, LayoutTag: tag}
	display := tag
	if display == "" {
		display = "latest"
	}
	ref.Name = "localhost/" + strings.ToLower(filepath.Base(abs)) + ":" + display
	return ref, nil
}

// canonicalName spells a reference the way docker and podman print it:
// registry and repository in full, with index.docker.io shortened to
// docker.io.
func canonicalName(ref name.Reference) string {
	repo := ref.Context()
	registry := repo.RegistryStr()
	if registry == name.DefaultRegistry {
		registry = "docker.io"
	}
	full := registry + "/" + repo.RepositoryStr()
	if d, ok := ref.(name.Digest); ok {
		return full + "@" + d.DigestStr()
	}
	return full + ":" + ref.Identifier()
}

// parseReason returns go-containerregistry's specific complaint about s,
// which its ParseReference replaces with a generic one.
func parseReason(s string) error {
	var err error
	if strings.Contains(s, "@") {
		_, err = name.NewDigest(s)
	} else {
		_, err = name.NewTag(s)
	}
	if err == nil || s == "" {
		return fmt.Errorf("the reference is empty or malformed")
	}
	return err
}
