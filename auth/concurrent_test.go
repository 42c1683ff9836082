package auth

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
)

func TestStoreConcurrentKeepsEntries(t *testing.T) {
	home(t)
	path := filepath.Join(t.TempDir(), "auth.json")
	const logins = 24

	var wg sync.WaitGroup
	errs := make(chan error, logins)
	for i := range logins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cred := Credential{Username: fmt.Sprintf("u%d", i), Password: "pw"}
			if _, err := Store(fmt.Sprintf("reg.example/r%d", i), cred, path); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Store: %v", err)
	}
	if n := len(readAuths(t, path)); n != logins {
		t.Fatalf("%s has %d entries after %d concurrent logins, want %d", path, n, logins, logins)
	}

	// Half log out while the other half log in again.
	errs = make(chan error, logins)
	for i := range logins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			registry := fmt.Sprintf("reg.example/r%d", i)
			var err error
			if i%2 == 0 {
				_, err = Erase(registry, path)
			} else {
				_, err = Store(registry, Credential{Username: "again", Password: "pw"}, path)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Store or Erase: %v", err)
	}
	if n := len(readAuths(t, path)); n != logins/2 {
		t.Errorf("%s has %d entries after %d logouts, want %d", path, n, logins/2, logins/2)
	}
}

func readAuths(t *testing.T, path string) map[string]json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Auths map[string]json.RawMessage `json:"auths"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return doc.Auths
}

func TestLookupSkipsMalformedFile(t *testing.T) {
	dir := home(t)
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(dir, "run"))
	broken := filepath.Join(dir, "run/containers/auth.json")
	writeFile(t, broken, `{"auths": [`)
	writeFile(t, filepath.Join(dir, ".docker/config.json"),
		`{"auths": {"reg.example": {"auth": "`+basic("user", "pw")+`"}}}`)
	hook := test.NewGlobal()
	t.Cleanup(hook.Reset)

	cred, found, err := Lookup("reg.example", "", "")
	if err != nil {
		t.Fatalf("Lookup with a malformed file first: %v", err)
	}
	if !found || cred.Username != "user" {
		t.Errorf("Lookup = %+v, %v, want the credentials of the next file", cred, found)
	}
	if _, found, err := Lookup("other.example", "", ""); err != nil || found {
		t.Errorf("Lookup of a registry without credentials = %v, %v, want anonymous access", found, err)
	}

	var warnings []string
	for _, e := range hook.AllEntries() {
		if e.Level == logrus.WarnLevel {
			warnings = append(warnings, e.Message)
		}
	}
	if len(warnings) != 1 {
		t.Fatalf("warnings = %q, want one", warnings)
	}
	if !strings.Contains(warnings[0], broken) {
		t.Errorf("warning %q does not name %s", warnings[0], broken)
	}
}

func TestStoreRejectsMalformedFile(t *testing.T) {
	home(t)
	path := filepath.Join(t.TempDir(), "auth.json")
	const content = `{"auths": [`
	writeFile(t, path, content)

	_, err := Store("reg.example", Credential{Username: "u", Password: "p"}, path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Store into a malformed file: error %v, want one naming %s", err, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != content {
		t.Errorf("Store changed the malformed file to %q", data)
	}
}
