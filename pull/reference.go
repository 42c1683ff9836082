package pull

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/kist-project/kist/imageref"
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
		err = imageref.Check(ref)
	} else {
		err = parseReason(s)
	}
	if err != nil {
		return Reference{}, fmt.Errorf("invalid image reference %q: %w; "+
			"use NAME[:TAG] or NAME@sha256:DIGEST, such as docker.io/library/busybox:latest", s, err)
	}
	return Reference{Name: imageref.Canonical(ref), Remote: ref}, nil
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
