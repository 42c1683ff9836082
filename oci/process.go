package oci

import (
	"errors"
	"fmt"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// DefaultPath is the PATH a container gets when its image sets none, the
// same as docker's.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ErrNoCommand is returned when neither the image nor the flags give a
// command to run.
var ErrNoCommand = errors.New("no command specified")

// Command returns the container's argv from the image config and the
// run flags, by docker's rules: --entrypoint replaces the image's
// entrypoint and drops its Cmd, and arguments after the image replace Cmd.
func Command(config v1.Config, entrypoint *string, args []string) ([]string, error) {
	ep := config.Entrypoint
	cmd := config.Cmd
	if entrypoint != nil {
		ep, cmd = nil, nil
		if *entrypoint != "" {
			ep = []string{*entrypoint}
		}
	}
	if len(args) > 0 {
		cmd = args
	}

	argv := append(append([]string{}, ep...), cmd...)
	if len(argv) == 0 {
		return nil, fmt.Errorf("%w: the image has no Entrypoint or Cmd; give a command after the image name", ErrNoCommand)
	}
	return argv, nil
}

// Env merges the image's environment with -e flags, later values winning.
// A flag of the form KEY, without "=", copies KEY from kist's own
// environment through lookup, and is dropped when kist's environment
// lacks it, as docker does. PATH falls back to DefaultPath.
func Env(imageEnv, flags []string, lookup func(string) (string, bool)) ([]string, error) {
	var keys []string
	values := map[string]string{}
	set := func(k, v string) {
		if _, ok := values[k]; !ok {
			keys = append(keys, k)
		}
		values[k] = v
	}

	for _, kv := range imageEnv {
		k, v, _ := strings.Cut(kv, "=")
		set(k, v)
	}
	for _, kv := range flags {
		k, v, hasValue := strings.Cut(kv, "=")
		if k == "" {
			return nil, fmt.Errorf("invalid environment variable %q: the name is empty; use -e NAME=VALUE", kv)
		}
		if !hasValue {
			var ok bool
			if v, ok = lookup(k); !ok {
				continue
			}
		}
		set(k, v)
	}
	if _, ok := values["PATH"]; !ok {
		set("PATH", DefaultPath)
	}

	env := make([]string, 0, len(keys))
	for _, k := range keys {
		env = append(env, k+"="+values[k])
	}
	return env, nil
}

// SetDefault adds KEY=value to env unless env already sets KEY.
func SetDefault(env []string, key, value string) []string {
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			return env
		}
	}
	return append(env, key+"="+value)
}

// LookupEnv returns the value of key in env.
func LookupEnv(env []string, key string) string {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// WorkingDir returns the container's working directory: the -w flag,
// else the image's WorkingDir, else /. It must be absolute.
func WorkingDir(config v1.Config, flag string) (string, error) {
	dir := config.WorkingDir
	if flag != "" {
		dir = flag
	}
	if dir == "" {
		return "/", nil
	}
	if !path.IsAbs(dir) {
		return "", fmt.Errorf("invalid working directory %q: it must be an absolute path, such as /app", dir)
	}
	return path.Clean(dir), nil
}
