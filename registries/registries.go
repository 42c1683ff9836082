// Package registries reads kist's registry configuration: the mirrors to
// try before a registry, and the registries that may be reached over
// plain HTTP or without TLS verification, or not at all.
//
// The file is a subset of podman's containers-registries.conf version 2
// (TOML): [[registry]] tables with prefix, location, insecure and
// blocked, each with [[registry.mirror]] tables with location and
// insecure. Any other key is an error, so that a setting kist does not
// implement is not silently ignored.
package registries

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Config is a parsed registries.toml.
type Config struct {
	// Path is the file the configuration came from.
	Path       string
	Registries []Registry
}

// Registry configures the repositories under one prefix.
type Registry struct {
	// Prefix is the repository namespace this entry applies to, such as
	// docker.io or registry.example.com/team. It matches a repository
	// equal to it or below it. Parse stores the host in lowercase and
	// Docker Hub's other host names as docker.io.
	Prefix string
	// Location is the registry and namespace that the repositories under
	// Prefix are pulled from. It replaces Prefix in the reference.
	Location string
	// Insecure allows plain HTTP and unverified TLS to Location.
	Insecure bool
	// Blocked rejects every pull under Prefix.
	Blocked bool
	Mirrors []Mirror
	// Line is the line number of the entry's table header in the file.
	Line int
}

// Mirror is a location tried before the registry itself.
type Mirror struct {
	Location string
	// Insecure allows plain HTTP and unverified TLS to Location.
	Insecure bool
}

// DefaultPath returns $XDG_CONFIG_HOME/kist/registries.toml, with
// XDG_CONFIG_HOME defaulting to ~/.config as the XDG base directory
// specification requires.
func DefaultPath() (string, error) {
	if dir := os.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "kist", "registries.toml"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the registry configuration: %w; set HOME or XDG_CONFIG_HOME", err)
	}
	return filepath.Join(home, ".config", "kist", "registries.toml"), nil
}

// Load reads and checks the configuration at path. A missing file is an
// empty configuration.
func Load(path string) (*Config, error) {
	text, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{Path: path}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read registry configuration: %w", err)
	}
	return Parse(path, text)
}

// Find returns the entry whose prefix matches repository (such as
// docker.io/library/busybox) most closely.
func (c *Config) Find(repository string) (Registry, bool) {
	repository = canonical(repository)
	var best Registry
	found := false
	for _, r := range c.Registries {
		if matches(r.Prefix, repository) && (!found || len(r.Prefix) > len(best.Prefix)) {
			best, found = r, true
		}
	}
	return best, found
}

// matches reports whether repository is prefix or lies below it. A
// prefix ends at a path separator, so example.com/app does not match
// example.com/apple.
func matches(prefix, repository string) bool {
	rest, ok := strings.CutPrefix(repository, prefix)
	return ok && (rest == "" || rest[0] == '/')
}

// Source is one place to pull a repository from.
type Source struct {
	// Repository is the repository at that place, with the prefix
	// replaced by the location.
	Repository string
	Insecure   bool
	Mirror     bool
}

// Sources returns where to pull repository from, in order: the mirrors
// of its entry, then the entry's location. Without an entry the only
// source is repository itself. A blocked entry is an error.
func (c *Config) Sources(repository string) ([]Source, error) {
	r, ok := c.Find(repository)
	if !ok {
		return []Source{{Repository: repository}}, nil
	}
	if r.Blocked {
		return nil, fmt.Errorf("pulls from %s are blocked by %s, line %d; remove blocked = true there to allow them",
			r.Prefix, c.Path, r.Line)
	}

	rest := strings.TrimPrefix(canonical(repository), r.Prefix)
	var sources []Source
	for _, m := range r.Mirrors {
		sources = append(sources, Source{Repository: m.Location + rest, Insecure: m.Insecure, Mirror: true})
	}
	return append(sources, Source{Repository: r.Location + rest, Insecure: r.Insecure}), nil
}

// canonical spells the registry host of a repository or prefix the way
// prefixes are compared. The host is lowercase, because host names are
// not case sensitive. Docker Hub's other host names become docker.io,
// the name that image references use for it.
func canonical(repository string) string {
	host, path, hasPath := strings.Cut(repository, "/")
	host = strings.ToLower(host)
	if hubHosts[host] {
		host = hubHost
	}
	if !hasPath {
		return host
	}
	return host + "/" + path
}

// hubHost is Docker Hub as prefixes name it.
const hubHost = "docker.io"

// hubHosts are the other names of Docker Hub's registry: index.docker.io,
// which go-containerregistry puts in references to Hub images,
// registry-1.docker.io, the host that serves its API, and each of the
// three with HTTPS's default port.
var hubHosts = map[string]bool{
	"index.docker.io": true, "registry-1.docker.io": true,
	"docker.io:443": true, "index.docker.io:443": true, "registry-1.docker.io:443": true,
}
