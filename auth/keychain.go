package auth

import (
	"errors"
	"fmt"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sirupsen/logrus"
)

// Credential is a registry's proof of identity: a user name and
// password, or an identity token, which is the OAuth2 refresh token that
// some registries issue at login.
type Credential struct {
	Username      string
	Password      string
	IdentityToken string
}

func (c Credential) empty() bool {
	return c.Username == "" && c.Password == "" && c.IdentityToken == ""
}

// Authenticator returns cred in go-containerregistry's form.
func (c Credential) Authenticator() authn.Authenticator {
	return authn.FromConfig(authn.AuthConfig{
		Username:      c.Username,
		Password:      c.Password,
		IdentityToken: c.IdentityToken,
	})
}

// Keychain finds credentials in the files that searchFiles lists. It
// implements go-containerregistry's authn.Keychain.
type Keychain struct {
	// AuthFile, when set, is the only file read, as --authfile makes it.
	AuthFile string
}

var _ authn.Keychain = Keychain{}

// Resolve implements authn.Keychain. A registry without credentials gets
// anonymous access.
func (k Keychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	repository := ""
	if repo, ok := target.(name.Repository); ok {
		repository = repo.RepositoryStr()
	}
	cred, found, err := Lookup(canonicalHost(target.RegistryStr()), repository, k.AuthFile)
	if err != nil {
		return nil, err
	}
	if !found {
		return authn.Anonymous, nil
	}
	return cred.Authenticator(), nil
}

// Lookup returns the credentials for a repository of registry, or for
// the whole registry when repository is empty, from the first file of
// searchFiles(authFile) that has them. It reports false when no file has
// any. A file that cannot be read or parsed is skipped with a warning.
func Lookup(registry, repository, authFile string) (Credential, bool, error) {
	keys := candidates(registry, repository)
	for _, file := range searchFiles(authFile) {
		c, err := readConfig(file)
		if err != nil {
			// As docker does, a damaged file must not block pulls from
			// registries that need no login. Login still fails on it.
			warnOnce(file.path, err)
			continue
		}
		cred, found, err := c.lookup(registry, keys)
		if err != nil {
			return Credential{}, false, err
		}
		if found {
			return cred, true, nil
		}
	}
	logrus.WithField("registry", registry).Debug("no credentials found, using anonymous access")
	return Credential{}, false, nil
}

// warnedFiles holds the credential files that warnOnce has warned about
// in this process, because a pull resolves credentials many times.
var warnedFiles sync.Map

// warnOnce warns that the credential file path cannot be used, once per
// process.
func warnOnce(path string, err error) {
	if _, seen := warnedFiles.LoadOrStore(path, true); seen {
		return
	}
	logrus.Warnf("%v; continuing without the credentials in it", err)
}

// lookup returns the credentials this file holds for keys, asking its
// credential helper first.
func (c *configFile) lookup(registry string, keys []string) (Credential, bool, error) {
	log := logrus.WithFields(logrus.Fields{"registry": registry, "file": c.path})
	if helper := c.helperFor(registry); helper != "" {
		cred, err := helperGet(helper, serverURL(Host(registry)))
		switch {
		case err == nil && !cred.empty():
			log.WithField("helper", helper).Debug("using credentials from credential helper")
			return cred, true, nil
		case err != nil && !errors.Is(err, errHelperNotFound):
			// A broken helper must not break pulls of public images, and
			// the auths entries may still hold credentials.
			log.Warnf("%v", err)
		}
	}

	cred, key, found, err := c.lookupAuth(keys)
	if err != nil {
		return Credential{}, false, err
	}
	if found {
		log.WithField("key", key).Debug("using credentials from credential file")
	}
	return cred, found, nil
}

// describe names where credentials are stored, for messages.
func describe(path, helper string) string {
	if helper != "" {
		return fmt.Sprintf("credential helper docker-credential-%s (configured in %s)", helper, path)
	}
	return path
}
