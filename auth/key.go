package auth

import (
	"fmt"
	"strings"
)

// DockerHub is the name kist and podman use for Docker Hub, and
// dockerHubKey the key docker writes for it in config.json and passes to
// credential helpers.
const (
	DockerHub    = "docker.io"
	dockerHubKey = "https://index.docker.io/v1/"
)

// normalizeKey turns a key of an auths or credHelpers map into the form
// that Registry returns. A key with a scheme is a URL, whose path (such as
// /v1/) is not a repository, so only its host is kept.
func normalizeKey(key string) string {
	stripped := strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://")
	if stripped != key {
		stripped, _, _ = strings.Cut(stripped, "/")
	}
	stripped = strings.TrimSuffix(stripped, "/")
	host, path, hasPath := strings.Cut(stripped, "/")
	host = canonicalHost(host)
	if hasPath {
		return host + "/" + path
	}
	return host
}

// canonicalHost names Docker Hub one way. Its API lives on
// registry-1.docker.io and docker's config key on index.docker.io.
func canonicalHost(host string) string {
	switch strings.ToLower(host) {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return DockerHub
	}
	return host
}

// Registry parses the REGISTRY argument of login and logout: a host with
// an optional port, optionally followed by a repository path (which
// scopes the credentials to that repository, as in podman), or a URL such
// as https://host:5000/v2/.
func Registry(arg string) (string, error) {
	key := normalizeKey(strings.TrimSpace(arg))
	if key == "" || strings.HasPrefix(key, "/") || strings.ContainsAny(key, " \t@") {
		return "", fmt.Errorf("invalid registry %q: use HOST[:PORT], such as registry.example.com:5000", arg)
	}
	return key, nil
}

// Host returns the host[:port] part of a registry key.
func Host(registry string) string {
	host, _, _ := strings.Cut(registry, "/")
	return host
}

// serverURL returns the key docker writes to auths and passes to a
// credential helper for registry: https://index.docker.io/v1/ for Docker
// Hub and the key itself for any other registry.
func serverURL(registry string) string {
	if registry == DockerHub {
		return dockerHubKey
	}
	return registry
}

// candidates returns the keys that may hold credentials for a repository
// of registry, the most specific first: host/a/b, host/a, host. An empty
// repository gives host alone.
func candidates(registry, repository string) []string {
	keys := []string{registry}
	if repository == "" {
		return keys
	}
	parts := strings.Split(repository, "/")
	for i := 1; i <= len(parts); i++ {
		keys = append(keys, registry+"/"+strings.Join(parts[:i], "/"))
	}
	for i, j := 0, len(keys)-1; i < j; i, j = i+1, j-1 {
		keys[i], keys[j] = keys[j], keys[i]
	}
	return keys
}
