package auth

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/kist-project/kist/rootless"
)

// AuthFileEnv names the environment variable that podman, skopeo and
// kist read as the default of --authfile.
const AuthFileEnv = "REGISTRY_AUTH_FILE"

// credentialFile is one file of the lookup order.
type credentialFile struct {
	path string
	// legacy marks docker's ~/.dockercfg, which contains the entries of
	// "auths" without the wrapping object.
	legacy bool
}

// searchFiles returns the credential files in lookup order, which is
// podman's (containers-auth.json(5)): the primary file, podman's file
// under XDG_CONFIG_HOME, docker's config.json, then ~/.dockercfg. A
// non-empty authFile, or else $REGISTRY_AUTH_FILE, is the only file, as
// in podman. Files that do not exist are listed too, since they may
// appear later, except ~/.dockercfg, which docker's CLI reads only when
// its config.json does not exist.
func searchFiles(authFile string) []credentialFile {
	if authFile == "" {
		authFile = os.Getenv(AuthFileEnv)
	}
	if authFile != "" {
		return []credentialFile{{path: authFile}}
	}

	files := []credentialFile{{path: primaryPath()}}
	if config, err := configHome(); err == nil {
		files = append(files, credentialFile{path: filepath.Join(config, "containers", "auth.json")})
	}
	docker, err := dockerConfigPath()
	if err != nil {
		return files
	}
	files = append(files, credentialFile{path: docker})
	if _, err := os.Stat(docker); errors.Is(err, fs.ErrNotExist) {
		if home, err := homeDir(); err == nil {
			files = append(files, credentialFile{path: filepath.Join(home, ".dockercfg"), legacy: true})
		}
	}
	return files
}

// primaryPath returns podman's primary credential file on Linux:
// $XDG_RUNTIME_DIR/containers/auth.json, or /run/containers/UID/auth.json
// when XDG_RUNTIME_DIR is unset, as for root outside a login session.
// UID is the caller's uid outside kist's user namespace.
func primaryPath() string {
	if runtime := os.Getenv("XDG_RUNTIME_DIR"); runtime != "" {
		return filepath.Join(runtime, "containers", "auth.json")
	}
	return filepath.Join(runContainersDir, strconv.Itoa(rootless.HostUID()), "auth.json")
}

// runContainersDir contains podman's per-user directories for callers
// without XDG_RUNTIME_DIR. Tests point it elsewhere.
var runContainersDir = "/run/containers"

// WritePath returns the file that login writes to and logout removes
// from first: authFile, else $REGISTRY_AUTH_FILE, else docker's
// config.json, where docker login writes.
func WritePath(authFile string) (string, error) {
	if authFile == "" {
		authFile = os.Getenv(AuthFileEnv)
	}
	if authFile != "" {
		return filepath.Abs(authFile)
	}
	return dockerConfigPath()
}

// dockerConfigPath returns $DOCKER_CONFIG/config.json, or
// ~/.docker/config.json when DOCKER_CONFIG is unset.
func dockerConfigPath() (string, error) {
	if dir := os.Getenv("DOCKER_CONFIG"); dir != "" {
		return filepath.Join(dir, "config.json"), nil
	}
	home, err := homeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".docker", "config.json"), nil
}

// configHome returns $XDG_CONFIG_HOME, or ~/.config when it is unset.
func configHome() (string, error) {
	if dir := os.Getenv("XDG_CONFIG_HOME"); dir != "" {
		return dir, nil
	}
	home, err := homeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".config"), nil
}

// homeDir returns $HOME. kist runs unprivileged pulls in a user
// namespace where the caller is uid 0, so the password database would
// name root's home, not the caller's; HOME survives the re-execution.
func homeDir() (string, error) {
	home := os.Getenv("HOME")
	if home == "" {
		return "", errors.New("HOME is not set; set it, or name a credential file with --authfile")
	}
	return home, nil
}
