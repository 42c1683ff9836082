// Package auth finds and stores registry credentials in the files that
// docker and podman use, so that a login with either tool also serves
// kist, and a login with kist also serves them.
//
// Credentials are read from, in podman's order (containers-auth.json(5)):
//
//   - the file that --authfile or REGISTRY_AUTH_FILE names, and no other
//     file, as podman does;
//   - podman's $XDG_RUNTIME_DIR/containers/auth.json, or
//     /run/containers/UID/auth.json when XDG_RUNTIME_DIR is unset;
//   - podman's $XDG_CONFIG_HOME/containers/auth.json (default
//     ~/.config/containers/auth.json);
//   - docker's $DOCKER_CONFIG/config.json (default ~/.docker/config.json);
//   - docker's legacy ~/.dockercfg, only when config.json does not exist.
//
// The first file that has credentials for a registry wins. Within a file,
// a credential helper named in credHelpers for the registry comes first,
// then the credsStore helper, then the auths entries. Podman lets auths
// contain a key per repository, such as quay.io/team/app, beside one for
// the whole registry, so the most specific key is tried first.
//
// Keys are compared as docker and podman compare them: a scheme and, for
// a key with a scheme, the path are dropped, so https://host:5000/v2/
// matches host:5000; Docker Hub is stored under https://index.docker.io/v1/
// and matches docker.io, index.docker.io and registry-1.docker.io.
package auth
