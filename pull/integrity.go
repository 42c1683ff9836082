package pull

import (
	"errors"
	"fmt"
	"regexp"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ContentMismatchError reports a manifest, config or layer whose digest
// or size differs from the one that names it.
type ContentMismatchError struct {
	// Source names who sent the content, such as "registry
	// example.com" or "mirror mirror.example.com/hub/app". It is empty
	// when the content did not come from a registry.
	Source string
	// Mirror is set when Source is a mirror from registries.toml.
	Mirror bool
	// Object is "manifest", "config" or "layer sha256:...".
	Object string
	// Field is "digest" or "size".
	Field string
	// Expected is what the reference or manifest gives, Got what the
	// content has.
	Expected, Got string
}

func (e *ContentMismatchError) Error() string {
	named := "the manifest"
	if e.Object == "manifest" {
		named = "the image reference"
	}
	mismatch := fmt.Sprintf("a %s whose %s does not match %s (expected %s, got %s)", e.Object, e.Field, named, e.Expected, e.Got)
	switch {
	case e.Source == "":
		return fmt.Sprintf("read %s; the image is corrupt, so get a new copy of it", mismatch)
	case e.Mirror:
		return fmt.Sprintf("%s sent %s; the mirror is corrupt or misconfigured, so remove it from registries.toml "+
			"or ask its operator to fix it", e.Source, mismatch)
	default:
		return fmt.Sprintf("%s sent %s; the registry is corrupt or misconfigured, so ask its operator to fix it "+
			"or pull from another registry", e.Source, mismatch)
	}
}

// go-containerregistry (v0.22.1) reports these mismatches with errors
// of unexported types or plain text, so kist recognises them by their
// text. TestMismatchTexts fails when a new version words them otherwise.
var (
	// verify.Error, from reading a blob to its end.
	blobDigestText = regexp.MustCompile(`error verifying \S+ checksum after reading \d+ bytes; got "([^"]+)", want "([^"]+)"`)
	// Also from reading a blob to its end.
	blobSizeText = regexp.MustCompile(`error verifying size; got (-?\d+), want (-?\d+)`)
	// From the response headers of a blob download.
	contentLengthText = regexp.MustCompile(`Content-Length header (-?\d+) does not match expected size (-?\d+)`)
	// From a manifest pulled by digest.
	manifestDigestText = regexp.MustCompile(`manifest digest: "([^"]+)" does not match requested digest: "([^"]+)"`)
)

// mismatch returns err as a *ContentMismatchError about object when it
// is a digest or size mismatch of go-containerregistry, and err
// otherwise.
func mismatch(object string, err error) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	for _, m := range []struct {
		pattern *regexp.Regexp
		object  string
		field   string
	}{
		{blobDigestText, object, "digest"},
		{blobSizeText, object, "size"},
		{contentLengthText, object, "size"},
		{manifestDigestText, "manifest", "digest"},
	} {
		if found := m.pattern.FindStringSubmatch(text); found != nil {
			return &ContentMismatchError{Object: m.object, Field: m.field, Got: found[1], Expected: found[2]}
		}
	}
	return err
}

// registryFault returns the error within err that a misbehaving
// registry caused and that explains itself in one line, or nil.
func registryFault(err error) error {
	var loop *RedirectLoopError
	var tooLarge *ManifestTooLargeError
	var content *ContentMismatchError
	switch {
	case errors.As(err, &loop):
		return loop
	case errors.As(err, &tooLarge):
		return tooLarge
	case errors.As(err, &content):
		return content
	}
	return nil
}

// checkSizes rejects a manifest that gives its config or a layer a
// negative size. go-containerregistry reads a size of -1 as "unknown"
// and then skips the size check, so a registry could send an endless
// blob.
func checkSizes(manifest *v1.Manifest) error {
	if manifest.Config.Size < 0 {
		return fmt.Errorf("the manifest gives the config %s the negative size %d", manifest.Config.Digest, manifest.Config.Size)
	}
	for i, layer := range manifest.Layers {
		if layer.Size < 0 {
			return fmt.Errorf("the manifest gives layer %d (%s) the negative size %d", i+1, layer.Digest, layer.Size)
		}
	}
	return nil
}
