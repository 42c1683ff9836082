package pull

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kist-project/kist/archive"
	"github.com/kist-project/kist/store"
)

// Transport prefixes of archive files.
const (
	dockerArchivePrefix = "docker-archive:"
	ociArchivePrefix    = "oci-archive:"
)

// parseArchiveReference parses docker-archive:PATH[:REF] and
// oci-archive:PATH[:TAG]. REF and TAG may contain colons themselves, so
// PATH is the shortest prefix that names an existing file, or the whole
// rest when none does.
func parseArchiveReference(s string) (Reference, error) {
	format, rest := archive.DockerArchive, strings.TrimPrefix(s, dockerArchivePrefix)
	if strings.HasPrefix(s, ociArchivePrefix) {
		format, rest = archive.OCIArchive, strings.TrimPrefix(s, ociArchivePrefix)
	}
	path, selector := rest, ""
	if _, err := os.Stat(rest); err != nil {
		for i := range len(rest) {
			if rest[i] != ':' {
				continue
			}
			if _, err := os.Stat(rest[:i]); err == nil {
				path, selector = rest[:i], rest[i+1:]
				break
			}
		}
	}
	if path == "" {
		return Reference{}, fmt.Errorf("invalid image reference %q: the archive path is empty; use %s:PATH[:NAME]", s, format)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Reference{}, fmt.Errorf("invalid image reference %q: %w", s, err)
	}
	name := string(format) + ":" + abs
	if selector != "" {
		name += ":" + selector
	}
	return Reference{Name: name, ArchivePath: abs, ArchiveFormat: string(format), ArchiveSelector: selector}, nil
}

// archiveImage copies the image that an archive reference names into st.
func archiveImage(ctx context.Context, st *store.Store, ref Reference, opts Options) (store.Image, error) {
	a, err := archive.Open(ref.ArchivePath)
	if err != nil {
		return store.Image{}, err
	}
	defer a.Close()
	if string(a.Format) != ref.ArchiveFormat {
		return store.Image{}, fmt.Errorf("%s is in %s format, not %s; use %s:%s", ref.ArchivePath, a.Format, ref.ArchiveFormat, a.Format, ref.ArchivePath)
	}
	entries, err := a.Images(opts.Platform)
	if err != nil {
		return store.Image{}, err
	}
	entry, err := selectEntry(ref, entries)
	if err != nil {
		return store.Image{}, err
	}
	if opts.RequirePlatform {
		if err := checkPlatform(ref.Name, entry.Image, opts.Platform); err != nil {
			return store.Image{}, err
		}
	}

	return Add(ctx, st, entry.Image, Target{Display: ref.Name, Tag: archiveTag(ref, entry)}, opts)
}

// archiveTag returns the name to record an archive image under: the
// name the selector matched, else the image's first name. An oci-archive
// image named only by a bare tag, such as "latest", is recorded as
// localhost/BASENAME:TAG, as an oci: layout image is.
func archiveTag(ref Reference, entry archive.Entry) string {
	if want := selectorName(ref.ArchiveSelector); want != "" && slices.Contains(entry.Names, want) {
		return want
	}
	if len(entry.Names) > 0 {
		return entry.Names[0]
	}
	if ref.ArchiveFormat != string(archive.OCIArchive) || entry.Ref == "" {
		return ""
	}
	base := strings.TrimSuffix(filepath.Base(ref.ArchivePath), filepath.Ext(ref.ArchivePath))
	tagged, err := ParseReference("localhost/" + strings.ToLower(base) + ":" + entry.Ref)
	if err != nil {
		return ""
	}
	return tagged.Name
}

// selectorName returns the canonical form of a selector that is an
// image reference, or "".
func selectorName(selector string) string {
	if selector == "" {
		return ""
	}
	parsed, err := ParseReference(selector)
	if err != nil || parsed.Remote == nil {
		return ""
	}
	return parsed.Name
}

// selectEntry picks the image a reference names: the one whose name or
// archive reference matches the selector, or the only one without one.
func selectEntry(ref Reference, entries []archive.Entry) (archive.Entry, error) {
	var offered []string
	for _, e := range entries {
		offered = append(offered, e.Names...)
	}
	if ref.ArchiveSelector == "" {
		if len(entries) == 1 {
			return entries[0], nil
		}
		return archive.Entry{}, fmt.Errorf("archive %s contains %d images; name one as %s:%s:NAME (names: %s)",
			ref.ArchivePath, len(entries), ref.ArchiveFormat, ref.ArchivePath, strings.Join(offered, ", "))
	}

	want := selectorName(ref.ArchiveSelector)
	for _, e := range entries {
		if e.Ref == ref.ArchiveSelector || want != "" && slices.Contains(e.Names, want) {
			return e, nil
		}
	}
	return archive.Entry{}, fmt.Errorf("archive %s has no image named %s (names: %s)", ref.ArchivePath, ref.ArchiveSelector, strings.Join(offered, ", "))
}
