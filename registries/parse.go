package registries

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/pelletier/go-toml/v2"
)

// file is the TOML layout of registries.toml.
type file struct {
	Registry []struct {
		Prefix   string `toml:"prefix"`
		Location string `toml:"location"`
		Insecure bool   `toml:"insecure"`
		Blocked  bool   `toml:"blocked"`
		Mirror   []struct {
			Location string `toml:"location"`
			Insecure bool   `toml:"insecure"`
		} `toml:"mirror"`
	} `toml:"registry"`
}

// knownKeys is the documented subset, for the error about another key.
const knownKeys = "[[registry]] with prefix, location, insecure and blocked, and [[registry.mirror]] with location and insecure"

// Parse checks and returns the configuration in text, read from path.
func Parse(path string, text []byte) (*Config, error) {
	var f file
	decoder := toml.NewDecoder(bytes.NewReader(text)).DisallowUnknownFields()
	if err := decoder.Decode(&f); err != nil {
		return nil, decodeError(path, err)
	}

	lines := tableLines(text)
	c := &Config{Path: path}
	seen := map[string]int{}
	for i, fr := range f.Registry {
		r := Registry{Prefix: fr.Prefix, Location: fr.Location, Insecure: fr.Insecure, Blocked: fr.Blocked}
		if i < len(lines) {
			r.Line = lines[i]
		}
		for _, fm := range fr.Mirror {
			r.Mirrors = append(r.Mirrors, Mirror{Location: fm.Location, Insecure: fm.Insecure})
		}
		if err := r.normalize(); err != nil {
			return nil, fmt.Errorf("registry configuration %s, line %d: %w", path, r.Line, err)
		}
		if first, dup := seen[r.Prefix]; dup {
			return nil, fmt.Errorf("registry configuration %s, line %d: prefix %s is already configured at line %d; merge the two entries",
				path, r.Line, r.Prefix, first)
		}
		seen[r.Prefix] = r.Line
		c.Registries = append(c.Registries, r)
	}
	return c, nil
}

// normalize fills an empty prefix or location from the other, as podman
// does, and checks both.
func (r *Registry) normalize() error {
	if r.Prefix == "" && r.Location == "" {
		return errors.New("the entry has neither prefix nor location; set at least one, such as prefix = \"docker.io\"")
	}
	if r.Prefix == "" {
		r.Prefix = r.Location
	}
	if err := checkLocation("prefix", r.Prefix); err != nil {
		return err
	}
	r.Prefix = canonical(r.Prefix)
	if r.Location == "" {
		r.Location = r.Prefix
	}
	if err := checkLocation("location", r.Location); err != nil {
		return err
	}
	for _, m := range r.Mirrors {
		if err := checkLocation("mirror location", m.Location); err != nil {
			return err
		}
	}
	return nil
}

// checkLocation checks that value is a registry host, optionally with a
// port and a repository namespace, as kist spells references.
func checkLocation(key, value string) error {
	switch {
	case value == "":
		return fmt.Errorf("%s is empty; set it to a registry such as mirror.example.com:5000", key)
	case strings.Contains(value, "://"):
		return fmt.Errorf("%s %q has a URL scheme; write only the host, port and path, such as mirror.example.com:5000", key, value)
	case strings.HasPrefix(value, "*"):
		return fmt.Errorf("%s %q is a wildcard, which kist does not support; name the registry in full", key, value)
	}

	if strings.HasSuffix(value, "/") {
		return fmt.Errorf("%s %q ends with /; remove the trailing slash, as in %q", key, value, strings.TrimRight(value, "/"))
	}
	host, path, _ := strings.Cut(value, "/")
	if _, err := name.NewRegistry(host, name.StrictValidation); err != nil {
		return fmt.Errorf("%s %q does not start with a registry host: %w", key, value, err)
	}
	if path == "" {
		return nil
	}
	// The namespace is checked under a neutral host, because
	// go-containerregistry rejects docker.io/NAME with one component
	// (such as docker.io/library), which podman accepts as a prefix.
	_, err := name.NewRepository(neutralHost+"/"+path, name.StrictValidation)
	if err != nil || strings.Contains(value, "//") {
		return fmt.Errorf("%s %q is not a registry host followed by a repository namespace; write it as HOST[:PORT][/NAMESPACE] "+
			"with a lowercase namespace", key, value)
	}
	return nil
}

// neutralHost is a registry host with no special rules in image names,
// used to check a namespace on its own. The .invalid top-level domain is
// reserved for names that never resolve.
const neutralHost = "kist.invalid"

// registryHeader matches a [[registry]] table header, or [registry],
// which the decoder reads as a list of one.
var registryHeader = regexp.MustCompile(`^\s*\[\[?\s*"?registry"?\s*\]\]?\s*(#.*)?$`)

// tableLines returns the line numbers of the [[registry]] headers, in
// order, because the decoder keeps no positions of the values.
func tableLines(text []byte) []int {
	var lines []int
	for i, line := range strings.Split(string(text), "\n") {
		if registryHeader.MatchString(line) {
			lines = append(lines, i+1)
		}
	}
	return lines
}

// decodeError names the file, the line and the fix for a TOML error.
func decodeError(path string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) && len(strict.Errors) > 0 {
		first := strict.Errors[0]
		row, _ := first.Position()
		return fmt.Errorf("registry configuration %s, line %d: unknown key %s; kist supports only %s",
			path, row, strings.Join(first.Key(), "."), knownKeys)
	}
	var decodeErr *toml.DecodeError
	if errors.As(err, &decodeErr) && strings.Contains(decodeErr.Error(), "cannot decode") {
		row, _ := decodeErr.Position()
		return fmt.Errorf("registry configuration %s, line %d: %s has the wrong type; "+
			"prefix and location are strings in quotes, insecure and blocked are true or false",
			path, row, strings.Join(decodeErr.Key(), "."))
	}
	if errors.As(err, &decodeErr) {
		row, _ := decodeErr.Position()
		return fmt.Errorf("registry configuration %s, line %d: %s; fix the TOML syntax there", path, row, decodeErr.Error())
	}
	return fmt.Errorf("registry configuration %s: %w; kist supports only %s", path, err, knownKeys)
}
