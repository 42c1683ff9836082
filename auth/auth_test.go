package auth

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// home points HOME and /run/containers at fresh directories and clears
// every variable that moves a credential file, so that no test reads the
// real ones.
func home(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	for _, v := range []string{"XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "DOCKER_CONFIG", AuthFileEnv} {
		t.Setenv(v, "")
	}
	saved := runContainersDir
	runContainersDir = filepath.Join(dir, "run-containers")
	t.Cleanup(func() { runContainersDir = saved })
	return dir
}

// paths returns the paths of files, marking legacy ones.
func paths(files []credentialFile) []string {
	var out []string
	for _, f := range files {
		if f.legacy {
			out = append(out, f.path+" (legacy)")
		} else {
			out = append(out, f.path)
		}
	}
	return out
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func basic(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}

func TestSearchFiles(t *testing.T) {
	dir := home(t)
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/1000")
	want := []string{
		"/run/user/1000/containers/auth.json",
		filepath.Join(dir, ".config/containers/auth.json"),
		filepath.Join(dir, ".docker/config.json"),
		filepath.Join(dir, ".dockercfg") + " (legacy)",
	}
	if diff := cmp.Diff(want, paths(searchFiles(""))); diff != "" {
		t.Errorf("default paths (-want +got):\n%s", diff)
	}

	// Docker's CLI reads ~/.dockercfg only when config.json is missing.
	writeFile(t, filepath.Join(dir, ".docker/config.json"), `{}`)
	if diff := cmp.Diff(want[:3], paths(searchFiles(""))); diff != "" {
		t.Errorf("paths with a config.json (-want +got):\n%s", diff)
	}

	t.Setenv("XDG_CONFIG_HOME", "/cfg")
	t.Setenv("DOCKER_CONFIG", "/dockercfg")
	want = []string{"/run/user/1000/containers/auth.json", "/cfg/containers/auth.json", "/dockercfg/config.json",
		filepath.Join(dir, ".dockercfg") + " (legacy)"}
	if diff := cmp.Diff(want, paths(searchFiles(""))); diff != "" {
		t.Errorf("paths with XDG_CONFIG_HOME and DOCKER_CONFIG (-want +got):\n%s", diff)
	}

	t.Setenv(AuthFileEnv, "/env/auth.json")
	if diff := cmp.Diff([]string{"/env/auth.json"}, paths(searchFiles(""))); diff != "" {
		t.Errorf("paths with REGISTRY_AUTH_FILE (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/flag/auth.json"}, paths(searchFiles("/flag/auth.json"))); diff != "" {
		t.Errorf("paths with --authfile (-want +got):\n%s", diff)
	}
}

func TestSearchFilesWithoutRuntimeDir(t *testing.T) {
	dir := home(t)
	want := filepath.Join(dir, "run-containers", strconv.Itoa(os.Getuid()), "auth.json")
	if got := searchFiles("")[0].path; got != want {
		t.Errorf("first file without XDG_RUNTIME_DIR = %s, want %s", got, want)
	}
}

func TestLookupRunContainersFile(t *testing.T) {
	dir := home(t)
	writeFile(t, filepath.Join(dir, "run-containers", strconv.Itoa(os.Getuid()), "auth.json"),
		`{"auths": {"reg.example": {"auth": "`+basic("podman", "runpw")+`"}}}`)
	writeFile(t, filepath.Join(dir, ".docker/config.json"),
		`{"auths": {"reg.example": {"auth": "`+basic("docker", "dockerpw")+`"}}}`)

	cred, found, err := Lookup("reg.example", "", "")
	if err != nil || !found {
		t.Fatalf("Lookup: found %v, error %v", found, err)
	}
	if diff := cmp.Diff(Credential{Username: "podman", Password: "runpw"}, cred); diff != "" {
		t.Errorf("credentials (-want +got):\n%s", diff)
	}
}

func TestLookupLegacyDockercfg(t *testing.T) {
	dir := home(t)
	legacy := filepath.Join(dir, ".dockercfg")
	writeFile(t, legacy, `{
		"https://index.docker.io/v1/": {"auth": "`+basic("hub", "hubpw")+`", "email": "a@example.com"},
		"https://reg.example:5000/v1/": {"auth": "`+basic("old", "oldpw")+`"}}`)

	tests := []struct {
		registry, repository string
		want                 Credential
	}{
		{"docker.io", "library/busybox", Credential{Username: "hub", Password: "hubpw"}},
		{"reg.example:5000", "team/app", Credential{Username: "old", Password: "oldpw"}},
	}
	for _, tc := range tests {
		got, found, err := Lookup(tc.registry, tc.repository, "")
		if err != nil || !found {
			t.Errorf("Lookup(%s): found %v, error %v", tc.registry, found, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Lookup(%s) (-want +got):\n%s", tc.registry, diff)
		}
	}

	// Once config.json exists, docker ignores ~/.dockercfg.
	writeFile(t, filepath.Join(dir, ".docker/config.json"), `{"auths": {}}`)
	if _, found, err := Lookup("reg.example:5000", "", ""); found || err != nil {
		t.Errorf("Lookup with a config.json: found %v, error %v; want neither", found, err)
	}

	// Logout removes the entry and keeps the legacy format.
	if err := os.Remove(filepath.Join(dir, ".docker/config.json")); err != nil {
		t.Fatal(err)
	}
	removed, err := Erase("reg.example:5000", "")
	if err != nil {
		t.Fatalf("Erase: %v", err)
	}
	if diff := cmp.Diff([]string{legacy}, removed); diff != "" {
		t.Errorf("Erase removed from (-want +got):\n%s", diff)
	}
	data, err := os.ReadFile(legacy)
	if err != nil {
		t.Fatal(err)
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(data, &entries); err != nil {
		t.Fatalf("legacy file after Erase: %v\n%s", err, data)
	}
	if _, ok := entries["https://index.docker.io/v1/"]; !ok || len(entries) != 1 {
		t.Errorf("legacy file after Erase = %s, want the Docker Hub entry alone, without a wrapper", data)
	}
}

func TestLookupOrder(t *testing.T) {
	dir := home(t)
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(dir, "run"))
	writeFile(t, filepath.Join(dir, ".docker/config.json"), `{"auths": {
		"https://index.docker.io/v1/": {"auth": "`+basic("hub", "hubpw")+`"},
		"reg.example:5000": {"auth": "`+basic("docker", "dockerpw")+`"},
		"token.example": {"identitytoken": "tok-123"}}}`)
	writeFile(t, filepath.Join(dir, ".config/containers/auth.json"), `{"auths": {
		"reg.example:5000": {"username": "podman", "password": "podmanpw"},
		"reg.example:5000/team/app": {"auth": "`+basic("scoped", "scopedpw")+`"}}}`)
	writeFile(t, filepath.Join(dir, "run/containers/auth.json"), `{"auths": {}}`)

	tests := []struct {
		registry, repository string
		want                 Credential
	}{
		{"reg.example:5000", "other", Credential{Username: "podman", Password: "podmanpw"}},
		{"reg.example:5000", "team/app", Credential{Username: "scoped", Password: "scopedpw"}},
		{"reg.example:5000", "team/app/sub", Credential{Username: "scoped", Password: "scopedpw"}},
		{"docker.io", "library/busybox", Credential{Username: "hub", Password: "hubpw"}},
		{"token.example", "", Credential{IdentityToken: "tok-123"}},
	}
	for _, tc := range tests {
		got, found, err := Lookup(tc.registry, tc.repository, "")
		if err != nil || !found {
			t.Errorf("Lookup(%s, %s): found %v, error %v", tc.registry, tc.repository, found, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Lookup(%s, %s) (-want +got):\n%s", tc.registry, tc.repository, diff)
		}
	}

	if _, found, err := Lookup("none.example", "", ""); found || err != nil {
		t.Errorf("Lookup(none.example): found %v, error %v; want neither", found, err)
	}
	// --authfile hides every other file.
	other := filepath.Join(dir, "other.json")
	writeFile(t, other, `{}`)
	if _, found, err := Lookup("reg.example:5000", "", other); found || err != nil {
		t.Errorf("Lookup with --authfile: found %v, error %v; want neither", found, err)
	}
}

func TestKeychainDockerHub(t *testing.T) {
	dir := home(t)
	writeFile(t, filepath.Join(dir, ".docker/config.json"), `{"auths": {"https://index.docker.io/v1/": {"auth": "`+basic("hub", "hubpw")+`"}}}`)
	repo, err := name.NewRepository("busybox")
	if err != nil {
		t.Fatal(err)
	}
	authenticator, err := Keychain{}.Resolve(repo)
	if err != nil {
		t.Fatal(err)
	}
	got, err := authenticator.Authorization()
	if err != nil {
		t.Fatal(err)
	}
	if got.Username != "hub" || got.Password != "hubpw" {
		t.Errorf("Docker Hub credentials: user %q, want hub and the password", got.Username)
	}

	other, _ := name.NewRegistry("quay.io")
	authenticator, err = Keychain{}.Resolve(other)
	if err != nil || authenticator != authn.Anonymous {
		t.Errorf("Resolve(quay.io) = %v, %v; want anonymous", authenticator, err)
	}
}

func TestInvalidEntryHidesSecret(t *testing.T) {
	dir := home(t)
	// "user-secret-pw" without a colon, so it is not user:password.
	writeFile(t, filepath.Join(dir, ".docker/config.json"), `{"auths": {"reg.example": {"auth": "`+
		base64.StdEncoding.EncodeToString([]byte("user-secret-pw"))+`"}}}`)
	_, _, err := Lookup("reg.example", "", "")
	if err == nil {
		t.Fatal("Lookup of an invalid entry succeeded")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error shows the decoded entry: %v", err)
	}
	if !strings.Contains(err.Error(), "kist login reg.example") {
		t.Errorf("error does not name the fix: %v", err)
	}

}

func TestStoreKeepsOtherKeys(t *testing.T) {
	dir := home(t)
	path := filepath.Join(dir, ".docker/config.json")
	writeFile(t, path, `{"psFormat": "table", "proxies": {"default": {"httpProxy": "x"}},
		"auths": {"other.example": {"auth": "`+basic("o", "p")+`", "email": "o@example.com"},
		"https://reg.example:5000": {"auth": "`+basic("old", "oldpw")+`"}}}`)

	where, err := Store("reg.example:5000", Credential{Username: "new", Password: "newpw"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if where != path {
		t.Errorf("Store wrote to %s, want %s", where, path)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", info.Mode().Perm())
	}

	var doc map[string]any
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"psFormat": "table",
		"proxies":  map[string]any{"default": map[string]any{"httpProxy": "x"}},
		"auths": map[string]any{
			"other.example":    map[string]any{"auth": basic("o", "p"), "email": "o@example.com"},
			"reg.example:5000": map[string]any{"auth": basic("new", "newpw")},
		},
	}
	if diff := cmp.Diff(want, doc); diff != "" {
		t.Errorf("config after Store (-want +got):\n%s", diff)
	}

	removed, err := Erase("reg.example:5000", "")
	if err != nil || len(removed) != 1 {
		t.Fatalf("Erase: removed %v, error %v", removed, err)
	}
	if _, found, _ := Lookup("reg.example:5000", "", ""); found {
		t.Error("credentials still found after Erase")
	}
	if _, found, _ := Lookup("other.example", "", ""); !found {
		t.Error("Erase removed another registry's credentials")
	}
	removed, err = Erase("reg.example:5000", "")
	if err != nil || len(removed) != 0 {
		t.Errorf("second Erase: removed %v, error %v; want nothing", removed, err)
	}
}

func TestStoreFollowsSymlink(t *testing.T) {
	dir := home(t)
	target := filepath.Join(dir, "dotfiles/auth.json")
	writeFile(t, target, `{}`)
	link := filepath.Join(dir, "auth.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Store("reg.example", Credential{Username: "u", Password: "p"}, link); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link %s was replaced: %v", link, err)
	}
	if _, found, err := Lookup("reg.example", "", target); !found || err != nil {
		t.Errorf("credentials not in the link's target: found %v, error %v", found, err)
	}
}

// helperScript is a credential helper that keeps its store in a
// directory, one file per server, named by the server's base64.
const helperScript = `#!/bin/sh
dir="$(dirname "$0")/store"
mkdir -p "$dir"
case "$1" in
get)
	server=$(cat)
	f="$dir/$(printf %s "$server" | base64 -w0)"
	if [ -f "$f" ]; then cat "$f"; exit 0; fi
	echo "credentials not found in native keychain"; exit 1 ;;
store)
	input=$(cat)
	server=$(printf %s "$input" | sed 's/.*"ServerURL":"\([^"]*\)".*/\1/')
	printf %s "$input" > "$dir/$(printf %s "$server" | base64 -w0)" ;;
erase)
	server=$(cat)
	rm "$dir/$(printf %s "$server" | base64 -w0)" ;;
esac
`

func installHelper(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "bin")
	writeFile(t, filepath.Join(bin, "docker-credential-test"), helperScript)
	if err := os.Chmod(filepath.Join(bin, "docker-credential-test"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	return filepath.Join(bin, "store")
}

func TestCredsStore(t *testing.T) {
	dir := home(t)
	store := installHelper(t, dir)
	path := filepath.Join(dir, ".docker/config.json")
	writeFile(t, path, `{"credsStore": "test"}`)

	for _, registry := range []string{"reg.example:5000", DockerHub} {
		cred := Credential{Username: "u-" + registry, Password: "pw-" + registry}
		where, err := Store(registry, cred, "")
		if err != nil {
			t.Fatalf("Store(%s): %v", registry, err)
		}
		if !strings.Contains(where, "docker-credential-test") {
			t.Errorf("Store(%s) saved to %s, want the helper", registry, where)
		}
		got, found, err := Lookup(registry, "", "")
		if err != nil || !found || got != cred {
			t.Errorf("Lookup(%s) after Store = %+v, %v, %v", registry, got, found, err)
		}
	}
	// Docker Hub's key is docker's, so that docker finds the login too.
	if _, err := os.Stat(filepath.Join(store, base64.StdEncoding.EncodeToString([]byte(dockerHubKey)))); err != nil {
		t.Errorf("Docker Hub is not stored under %s: %v", dockerHubKey, err)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "pw-") || strings.Contains(string(data), basic("u-docker.io", "pw-docker.io")) {
		t.Errorf("config.json holds a password although credsStore is set: %s", data)
	}

	removed, err := EraseAll("")
	if err != nil || len(removed) == 0 {
		t.Fatalf("EraseAll: removed %v, error %v", removed, err)
	}
	entries, _ := os.ReadDir(store)
	if len(entries) != 0 {
		t.Errorf("EraseAll left %d entries in the helper", len(entries))
	}
	data, _ = os.ReadFile(path)
	if !strings.Contains(string(data), `"credsStore": "test"`) {
		t.Errorf("EraseAll dropped credsStore: %s", data)
	}
}

func TestMissingHelperFallsBack(t *testing.T) {
	dir := home(t)
	writeFile(t, filepath.Join(dir, ".docker/config.json"), `{"credsStore": "absent-kist-test",
		"auths": {"reg.example": {"auth": "`+basic("u", "p")+`"}}}`)
	got, found, err := Lookup("reg.example", "", "")
	if err != nil || !found || got.Username != "u" {
		t.Errorf("Lookup with a missing helper = %+v, %v, %v; want the auths entry", got, found, err)
	}
	_, err = Store("reg.example", Credential{Username: "u", Password: "p"}, "")
	if err == nil || !strings.Contains(err.Error(), "docker-credential-absent-kist-test is not installed") {
		t.Errorf("Store with a missing helper: error %v, want one naming the helper", err)
	}
}
