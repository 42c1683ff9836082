package auth

import (
	"errors"
	"os"
	"path/filepath"
)

// AuthFileEnv names the environment variable that podman, skopeo and
// kist read as the default of --authfile.
const AuthFileEnv = "REGISTRY_AUTH_FILE"

// SearchPaths returns the credential files in lookup order. A non-empty
// authFile, or else $REGISTRY_AUTH_FILE, is the only file, as in podman.
// Files that do not exist are listed too, since they may appear later.
func SearchPaths(authFile string) []string {
	if authFile == "" {
		authFile = os.Getenv(AuthFileEnv)
	}
	if authFile != "" {
		return []string{authFile}
	}

	var paths []string
	if runtime := os.Getenv("XDG_RUNTIME_DIR"); runtime != "" {
		paths = append(paths, filepath.Join(runtime, "containers", "auth.json"))
	}
	if config, err := configHome(); err == nil {
		paths = append(paths, filepath.Join(config, "containers", "auth.json"))
	}
	if docker, err := dockerConfigPath(); err == nil {
		paths = append(paths, docker)
	}
	return paths
}

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
