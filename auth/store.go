package auth

import (
	"errors"
	"strings"
)

// Store saves cred for registry where docker login would, in the file
// that WritePath(authFile) names: in the credential helper that the file
// configures for the registry (credHelpers, then credsStore), else in
// the file's auths. It returns where the credentials went.
//
// Credentials scoped to a repository (registry/path) always go to auths,
// because credential helpers store one secret per registry host.
func Store(registry string, cred Credential, authFile string) (string, error) {
	path, err := WritePath(authFile)
	if err != nil {
		return "", err
	}
	unlock, err := lockDir(path, true)
	if err != nil {
		return "", err
	}
	defer unlock()

	c, err := readConfig(credentialFile{path: path})
	if err != nil {
		return "", err
	}

	if helper := c.helperFor(registry); helper != "" && !strings.Contains(registry, "/") {
		if err := helperStore(helper, serverURL(registry), cred); err != nil {
			return "", err
		}
		// Docker records each login kept by a helper as an empty auths
		// entry, which lists the registry for logout --all.
		c.removeAuth(registry)
		c.auths[serverURL(registry)] = []byte("{}")
		return describe(path, helper), c.write()
	}
	if err := c.setAuth(registry, cred); err != nil {
		return "", err
	}
	return path, c.write()
}

// Erase removes the credentials for registry from every file that
// searchFiles(authFile) lists and from the credential helpers those files
// configure for it, so that no file kist reads still logs it in. It
// returns where credentials were removed, which is empty when there were
// none.
func Erase(registry, authFile string) ([]string, error) {
	var removed []string
	for _, file := range searchFiles(authFile) {
		from, err := eraseFrom(file, registry)
		removed = append(removed, from...)
		if err != nil {
			return removed, err
		}
	}
	return removed, nil
}

// eraseFrom removes registry's credentials from file and from the
// credential helper it configures, holding the file's lock.
func eraseFrom(file credentialFile, registry string) ([]string, error) {
	path := file.path
	c, unlock, err := readLocked(file)
	if err != nil {
		return nil, err
	}
	defer unlock()

	var removed []string
	if c.removeAuth(registry) {
		if err := c.write(); err != nil {
			return removed, err
		}
		removed = append(removed, path)
	}
	if helper := c.helperFor(registry); helper != "" && !strings.Contains(registry, "/") {
		erased, err := eraseFromHelper(helper, serverURL(registry))
		if err != nil {
			return removed, err
		}
		if erased {
			removed = append(removed, describe(path, helper))
		}
	}
	return removed, nil
}

// EraseAll removes every registry's credentials from the files that
// searchFiles(authFile) lists: the auths entries, and in the credential
// helpers the entries for the registries that the file names. The files'
// other keys stay. It returns where credentials were removed.
func EraseAll(authFile string) ([]string, error) {
	var removed []string
	for _, file := range searchFiles(authFile) {
		from, err := eraseAllFrom(file)
		removed = append(removed, from...)
		if err != nil {
			return removed, err
		}
	}
	return removed, nil
}

// eraseAllFrom removes every registry's credentials from file and from
// the credential helpers it configures, holding the file's lock.
func eraseAllFrom(file credentialFile) ([]string, error) {
	path := file.path
	c, unlock, err := readLocked(file)
	if err != nil {
		return nil, err
	}
	defer unlock()

	var removed []string
	registries := c.helperRegistries()
	if c.removeAllAuths() {
		if err := c.write(); err != nil {
			return removed, err
		}
		removed = append(removed, path)
	}
	for _, registry := range registries {
		helper := c.helperFor(registry)
		erased, err := eraseFromHelper(helper, serverURL(registry))
		if err != nil {
			return removed, err
		}
		if erased {
			removed = append(removed, describe(path, helper))
		}
	}
	return removed, nil
}

// helperRegistries returns the registries whose credentials a helper of
// this file may hold: those named in credHelpers and, when credsStore is
// set, those with an auths entry, which docker writes empty beside each
// login that it stores in credsStore.
func (c *configFile) helperRegistries() []string {
	seen := map[string]bool{}
	var registries []string
	add := func(key string) {
		registry := normalizeKey(key)
		if !seen[registry] && !strings.Contains(registry, "/") {
			seen[registry] = true
			registries = append(registries, registry)
		}
	}
	for key := range c.credHelpers {
		add(key)
	}
	if c.credsStore != "" {
		for key := range c.auths {
			add(key)
		}
	}
	return registries
}

// eraseFromHelper erases server's credentials from helper and reports
// whether there were any.
func eraseFromHelper(helper, server string) (bool, error) {
	if _, err := helperGet(helper, server); errors.Is(err, errHelperNotFound) {
		return false, nil
	}
	if err := helperErase(helper, server); err != nil {
		return false, err
	}
	return true, nil
}

// readLocked takes the lock of file's directory and reads file. The
// caller releases the lock with unlock once it has written any change.
func readLocked(file credentialFile) (c *configFile, unlock func(), err error) {
	unlock, err = lockDir(file.path, false)
	if err != nil {
		return nil, nil, err
	}
	c, err = readConfig(file)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return c, unlock, nil
}
