package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// configFile is one docker config.json or podman auth.json. It keeps the
// whole document, so that writing it back preserves every key that kist
// does not use, such as docker's proxies or psFormat.
type configFile struct {
	path string
	// legacy marks a file in docker's old ~/.dockercfg format, which is
	// the "auths" object alone, keyed by registry host.
	legacy bool
	// doc holds every top-level key, raw.
	doc map[string]json.RawMessage
	// auths holds each entry of "auths", raw, so that an entry's own
	// unknown keys survive too.
	auths       map[string]json.RawMessage
	credHelpers map[string]string
	credsStore  string
}

// authEntry is one entry of "auths". Docker writes auth, the base64 of
// "user:password", and identitytoken; some tools write username and
// password instead.
type authEntry struct {
	Auth          string `json:"auth,omitempty"`
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
}

// readConfig reads file. A missing file reads as an empty one.
func readConfig(file credentialFile) (*configFile, error) {
	path := file.path
	c := &configFile{path: path, legacy: file.legacy, doc: map[string]json.RawMessage{}, auths: map[string]json.RawMessage{}}
	data, err := readRegular(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return c, nil
	}

	if c.legacy {
		if err := json.Unmarshal(data, &c.auths); err != nil {
			return nil, fmt.Errorf("parse credential file %s: %w; fix or remove the file", path, err)
		}
		if c.auths == nil {
			c.auths = map[string]json.RawMessage{}
		}
		return c, nil
	}
	if err := json.Unmarshal(data, &c.doc); err != nil {
		return nil, fmt.Errorf("parse credential file %s: %w; fix or remove the file", path, err)
	}
	fields := []struct {
		key  string
		into any
	}{{"auths", &c.auths}, {"credHelpers", &c.credHelpers}, {"credsStore", &c.credsStore}}
	for _, f := range fields {
		raw, ok := c.doc[f.key]
		if !ok || string(raw) == "null" {
			continue
		}
		if err := json.Unmarshal(raw, f.into); err != nil {
			return nil, fmt.Errorf("parse credential file %s: key %q: %w; fix or remove the file", path, f.key, err)
		}
	}
	if c.auths == nil {
		c.auths = map[string]json.RawMessage{}
	}
	return c, nil
}

// normalize returns the registry, or registry/repository, that an auths
// key names. Keys of a legacy file name a registry alone, as podman reads
// them, so any path in them is dropped.
func (c *configFile) normalize(key string) string {
	normalized := normalizeKey(key)
	if c.legacy {
		return Host(normalized)
	}
	return normalized
}

// helperFor returns the credential helper that stores credentials for
// registry in this file: its credHelpers entry for the registry's host,
// else credsStore, else "".
func (c *configFile) helperFor(registry string) string {
	host := Host(registry)
	for key, helper := range c.credHelpers {
		if normalizeKey(key) == host && helper != "" {
			return helper
		}
	}
	return c.credsStore
}

// lookupAuth returns the auths entry for the first of keys that the file
// has, comparing normalized keys. It reports false when none matches.
func (c *configFile) lookupAuth(keys []string) (Credential, string, bool, error) {
	for _, want := range keys {
		for key, raw := range c.auths {
			if c.normalize(key) != want {
				continue
			}
			cred, err := decodeEntry(raw)
			if err != nil {
				return Credential{}, "", false, fmt.Errorf("credential file %s: entry %q: %w; log in again with kist login %s", c.path, key, err, Host(want))
			}
			if cred.empty() {
				// Docker leaves an entry without credentials when a
				// credential helper holds them, so look further.
				continue
			}
			return cred, key, true, nil
		}
	}
	return Credential{}, "", false, nil
}

func decodeEntry(raw json.RawMessage) (Credential, error) {
	var e authEntry
	if err := json.Unmarshal(raw, &e); err != nil {
		return Credential{}, fmt.Errorf("invalid entry: %w", err)
	}
	cred := Credential{Username: e.Username, Password: e.Password, IdentityToken: e.IdentityToken}
	if e.Auth == "" {
		return cred, nil
	}
	// The decoded value is never put into an error: it holds the password.
	decoded, err := base64.StdEncoding.DecodeString(e.Auth)
	if err != nil {
		return Credential{}, errors.New(`"auth" is not valid base64`)
	}
	user, password, ok := strings.Cut(string(decoded), ":")
	if !ok {
		return Credential{}, errors.New(`"auth" does not decode to user:password`)
	}
	cred.Username, cred.Password = user, password
	return cred, nil
}

// setAuth replaces every entry for registry with one that holds cred,
// under the key docker writes.
func (c *configFile) setAuth(registry string, cred Credential) error {
	c.removeAuth(registry)
	e := authEntry{IdentityToken: cred.IdentityToken}
	if cred.IdentityToken == "" {
		e.Auth = base64.StdEncoding.EncodeToString([]byte(cred.Username + ":" + cred.Password))
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return err
	}
	c.auths[serverURL(registry)] = raw
	return nil
}

// removeAuth removes every auths entry whose key normalizes to registry,
// such as both host:5000 and https://host:5000, and reports whether there
// was one.
func (c *configFile) removeAuth(registry string) bool {
	removed := false
	for key := range c.auths {
		if c.normalize(key) == registry {
			delete(c.auths, key)
			removed = true
		}
	}
	return removed
}

// removeAllAuths removes every auths entry and reports whether there was
// one.
func (c *configFile) removeAllAuths() bool {
	removed := len(c.auths) > 0
	c.auths = map[string]json.RawMessage{}
	return removed
}

// write replaces the file atomically with the document, mode 0600, so
// that a reader never sees half a file and other users never see the
// secrets. A symbolic link is followed and its target replaced, as
// docker does, so that a linked config stays linked.
func (c *configFile) write() error {
	path := c.path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		path = resolved
	}
	data, err := c.marshal()
	if err != nil {
		return err
	}

	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create directory of credential file: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write credential file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed

	// CreateTemp makes the file with mode 0600 already; the explicit
	// Chmod keeps that true whatever it does in a later Go release.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write credential file %s: %w", path, err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write credential file %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write credential file %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write credential file %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write credential file %s: %w", path, err)
	}
	return nil
}

// marshal returns the document to write: the whole document with the new
// auths, or for a legacy file the auths object alone.
func (c *configFile) marshal() ([]byte, error) {
	if c.legacy {
		return json.MarshalIndent(c.auths, "", "\t")
	}
	auths, err := json.Marshal(c.auths)
	if err != nil {
		return nil, err
	}
	c.doc["auths"] = auths
	return json.MarshalIndent(c.doc, "", "\t")
}
