package e2e

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAuthLoginPullLogout logs in with --password-stdin, pulls and runs
// an image that needs the login, and logs out again.
func TestAuthLoginPullLogout(t *testing.T) {
	reg := startAuthRegistry(t)
	ref := reg.pushBusybox(t, "private/busybox")
	certDir := "--cert-dir=" + reg.certDir

	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		check := func(r result) result {
			t.Helper()
			expectNoSecret(t, r, reg)
			return r
		}

		r := check(runKist(t, id, "pull", certDir, ref))
		expect(t, r, 125, "")
		expectOneLine(t, r, "registry "+reg.addr+" denied access (HTTP 401); log in with kist login "+reg.addr)

		r = check(id.run(t, call{args: []string{"login", "-u", reg.user, "--password-stdin", certDir, reg.addr}, stdin: "wrong-Pw-41c7e0\n"}))
		expect(t, r, 125, "")
		expectOneLine(t, r, "log in to "+reg.addr+": the registry rejected the user name or password (HTTP 401 Unauthorized)")
		if strings.Contains(r.stderr, "wrong-Pw-41c7e0") {
			t.Errorf("stderr contains the wrong password: %q", r.stderr)
		}
		config := filepath.Join(id.home, ".docker", "config.json")
		if _, err := os.Stat(config); err == nil {
			t.Errorf("a failed login created %s", config)
		}

		// Login must keep the keys and entries it does not own.
		writeUserFile(t, id, ".docker/config.json", `{"psFormat": "table {{.ID}}", "auths": {"other.example:5000": {"auth": "b3RoZXI6c2VjcmV0"}}}`, 0o600)
		r = check(id.run(t, call{args: []string{"--debug", "login", "-u", reg.user, "--password-stdin", certDir, reg.addr}, stdin: reg.password + "\n"}))
		expect(t, r, 0, "Login Succeeded\n")
		doc := readJSON(t, config)
		if doc["psFormat"] != "table {{.ID}}" {
			t.Errorf("login dropped psFormat: %v", doc)
		}
		auths, _ := doc["auths"].(map[string]any)
		for _, key := range []string{"other.example:5000", reg.addr} {
			if _, ok := auths[key]; !ok {
				t.Errorf("auths has no key %q after login: %v", key, auths)
			}
		}
		expectPrivateFile(t, id, config)

		check(mustSucceed(t, id, "--debug", "pull", certDir, ref))
		r = check(runKist(t, id, "run", "--rm", ref, "echo", "logged in"))
		expect(t, r, 0, "logged in\n")

		r = check(runKist(t, id, "logout", reg.addr))
		expect(t, r, 0, "Removed login credentials for "+reg.addr+"\n")
		auths, _ = readJSON(t, config)["auths"].(map[string]any)
		if _, ok := auths["other.example:5000"]; !ok || len(auths) != 1 {
			t.Errorf("auths after logout = %v, want only other.example:5000", auths)
		}

		r = check(runKist(t, id, "pull", certDir, ref))
		expect(t, r, 125, "")
		expectOneLine(t, r, "denied access (HTTP 401); log in with kist login "+reg.addr)

		r = check(runKist(t, id, "logout", reg.addr))
		expect(t, r, 125, "")
		expectOneLine(t, r, "not logged in to "+reg.addr)
	})
}

// TestAuthTLSTrust pulls from a registry whose certificate a test CA
// signed: without the CA, with it through --cert-dir and through a
// certs.d directory.
func TestAuthTLSTrust(t *testing.T) {
	reg := startAuthRegistry(t)
	ref := reg.pushBusybox(t, "tls/busybox")

	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		authFile := filepath.Join(id.home, "auth.json")
		writeUserFile(t, id, "auth.json", authsJSON(reg.addr, reg), 0o600)

		r := runKist(t, id, "pull", "--authfile", authFile, ref)
		expect(t, r, 125, "")
		expectOneLine(t, r, "registry "+reg.addr+" failed TLS certificate verification")
		for _, fix := range []string{"--cert-dir DIR", "certs.d", "--tls-verify=false"} {
			if !strings.Contains(r.stderr, fix) {
				t.Errorf("certificate error does not name %s: %q", fix, r.stderr)
			}
		}

		r = id.run(t, call{args: []string{"login", "-u", reg.user, "--password-stdin", reg.addr}, stdin: reg.password})
		expect(t, r, 125, "")
		expectOneLine(t, r, "log in to "+reg.addr+": registry "+reg.addr+" failed TLS certificate verification")

		mustSucceed(t, id, "pull", "--authfile", authFile, "--tls-verify=false", ref)

		// The pulled image, pushed back to the registry whose CA is not
		// trusted, fails once with the same hint.
		r = runKist(t, id, "push", "-q", "--authfile", authFile, ref, reg.addr+"/tls/pushed:1")
		expect(t, r, 125, "")
		expectOneLine(t, r, "push "+ref+" to "+reg.addr+"/tls/pushed:1: registry "+reg.addr+" failed TLS certificate verification")
		if n := strings.Count(r.stderr, "--tls-verify=false"); n != 1 {
			t.Errorf("push names --tls-verify=false %d times, want once: %q", n, r.stderr)
		}

		// A client certificate without its key is a broken --cert-dir:
		// every command names the file, and none falls back to plain HTTP.
		badDir := filepath.Join(id.home, "bad-certs")
		writeUserFile(t, id, "bad-certs/ca.crt", string(reg.caPEM), 0o644)
		writeUserFile(t, id, "bad-certs/client.cert", string(reg.caPEM), 0o644)
		badCert := filepath.Join(badDir, "client.cert")
		for _, args := range [][]string{
			{"pull", "--authfile", authFile, "--cert-dir", badDir, ref},
			{"push", "-q", "--authfile", authFile, "--cert-dir", badDir, ref, reg.addr + "/tls/pushed:1"},
			{"login", "--authfile", authFile, "--cert-dir", badDir, "-u", reg.user, "--password-stdin", reg.addr},
		} {
			r = id.run(t, call{args: args, stdin: reg.password})
			expect(t, r, 125, "")
			expectOneLine(t, r, "client certificate "+badCert+" has no key")
			if strings.Contains(r.stderr, "HTTP 400") {
				t.Errorf("kist %s fell back to plain HTTP: %q", args[0], r.stderr)
			}
		}

		mustSucceed(t, id, "pull", "--authfile", authFile, "--cert-dir", reg.certDir, ref)

		writeUserFile(t, id, ".config/kist/certs.d/"+reg.addr+"/ca.crt", string(reg.caPEM), 0o644)
		mustSucceed(t, id, "pull", "--authfile", authFile, ref)
		r = runKist(t, id, "run", "--rm", "--pull", "always", "--authfile", authFile, ref, "echo", "trusted")
		expect(t, r, 0, "trusted\n")
	})
}

// TestAuthCredentialFiles pulls with credentials that docker, podman or a
// credential helper saved, each in its own place.
func TestAuthCredentialFiles(t *testing.T) {
	reg := startAuthRegistry(t)
	ref := reg.pushBusybox(t, "files/busybox")
	certDir := "--cert-dir=" + reg.certDir

	cases := []struct {
		name string
		// files maps paths relative to the home to their content.
		files map[string]string
		// env is relative to the home after the "=".
		env []string
	}{
		{
			name:  "podman runtime auth.json",
			files: map[string]string{"run/containers/auth.json": authsJSON(reg.addr, reg)},
			env:   []string{"XDG_RUNTIME_DIR=run"},
		},
		{
			name:  "podman config auth.json",
			files: map[string]string{".config/containers/auth.json": authsJSON(reg.addr+"/files", reg)},
		},
		{
			name:  "DOCKER_CONFIG",
			files: map[string]string{"dockercfg/config.json": authsJSON("https://"+reg.addr+"/v2/", reg)},
			env:   []string{"DOCKER_CONFIG=dockercfg"},
		},
		{
			name:  "legacy dockercfg",
			files: map[string]string{".dockercfg": legacyJSON("https://"+reg.addr+"/v1/", reg)},
		},
		{
			name: "credential helper",
			files: map[string]string{
				".docker/config.json":   `{"credHelpers": {"` + reg.addr + `": "kiste2e"}}`,
				"bin/helper-store.json": helperJSON(reg),
			},
		},
	}
	forEachIdentity(t, func(t *testing.T, id *identity) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				id := id.fresh(t)
				installHelper(t, id, reg)
				for path, content := range tc.files {
					writeUserFile(t, id, path, content, 0o600)
				}
				var env []string
				for _, e := range tc.env {
					key, rel, _ := strings.Cut(e, "=")
					env = append(env, key+"="+filepath.Join(id.home, rel))
				}
				env = append(env, helperPath(id))

				r := id.run(t, call{args: []string{"--debug", "pull", certDir, ref}, env: env})
				expectNoSecret(t, r, reg)
				if r.code != 0 {
					t.Errorf("pull with credentials from %s: exit %d, want 0\n%s", tc.name, r.code, r)
				}
			})
		}
	})
}

// TestAuthUnreadableCredentialFile pulls with credentials from docker's
// config.json while podman's file before it cannot be read: the pull
// warns once about that file, names the fix and goes on.
func TestAuthUnreadableCredentialFile(t *testing.T) {
	reg := startAuthRegistry(t)
	ref := reg.pushBusybox(t, "unreadable/busybox")
	certDir := "--cert-dir=" + reg.certDir
	const podmanFile = "run/containers/auth.json"

	cases := []struct {
		name string
		// spoil replaces the file at path, which belongs to id, with
		// something that id cannot use.
		spoil func(id *identity, path string) error
		// warning is part of the expected warning, or "" for none.
		warning func(id *identity) string
	}{
		{
			// A file of mode 000 that belongs to the user is readable
			// inside kist's user namespace, where the user is root, so
			// the test takes a file of another user.
			name: "owned by root",
			spoil: func(id *identity, path string) error {
				return os.Lchown(path, 0, 0)
			},
			warning: func(id *identity) string {
				if id.uid == 0 {
					return ""
				}
				return "cannot be read (permission denied); make it readable for your user"
			},
		},
		{
			name: "named pipe",
			spoil: func(id *identity, path string) error {
				if err := os.Remove(path); err != nil {
					return err
				}
				if err := syscall.Mkfifo(path, 0o600); err != nil {
					return err
				}
				return os.Lchown(path, int(id.uid), int(id.gid))
			},
			warning: func(*identity) string { return "is a named pipe (FIFO), not a regular file; remove it" },
		},
	}
	forEachIdentity(t, func(t *testing.T, id *identity) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				id := id.fresh(t)
				writeUserFile(t, id, podmanFile, `{}`, 0o600)
				writeUserFile(t, id, ".docker/config.json", authsJSON(reg.addr, reg), 0o600)
				path := filepath.Join(id.home, podmanFile)
				if err := tc.spoil(id, path); err != nil {
					t.Fatal(err)
				}

				r := id.run(t, call{
					args:    []string{"pull", "-q", certDir, ref},
					env:     []string{"XDG_RUNTIME_DIR=" + filepath.Join(id.home, "run")},
					timeout: time.Minute,
				})
				expectNoSecret(t, r, reg)
				if r.code != 0 {
					t.Fatalf("pull: exit %d, want 0\n%s", r.code, r)
				}
				want := tc.warning(id)
				if want == "" {
					expectQuiet(t, r)
					return
				}
				expectOneLine(t, r, want)
				if !strings.Contains(r.stderr, path) {
					t.Errorf("warning %q does not name %s", r.stderr, path)
				}
			})
		}
	})
}

// TestAuthCredsStore logs in and out through the credsStore credential
// helper of docker's config.json.
func TestAuthCredsStore(t *testing.T) {
	reg := startAuthRegistry(t)
	ref := reg.pushBusybox(t, "store/busybox")
	certDir := "--cert-dir=" + reg.certDir

	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		installHelper(t, id, reg)
		writeUserFile(t, id, ".docker/config.json", `{"credsStore": "kiste2e"}`, 0o600)
		path := helperPath(id)
		stored := filepath.Join(id.home, "bin", "helper-store.json")

		r := id.run(t, call{args: []string{"--debug", "login", "-u", reg.user, "--password-stdin", certDir, reg.addr}, stdin: reg.password, env: []string{path}})
		expectNoSecret(t, r, reg)
		expect(t, r, 0, "Login Succeeded\n")
		var saved map[string]string
		if err := json.Unmarshal(readFile(t, stored), &saved); err != nil {
			t.Fatalf("the helper stored invalid JSON: %v", err)
		}
		if saved["ServerURL"] != reg.addr || saved["Username"] != reg.user || saved["Secret"] != reg.password {
			t.Errorf("the helper stored server %q user %q, want %q and %q and the password", saved["ServerURL"], saved["Username"], reg.addr, reg.user)
		}
		config := readFile(t, filepath.Join(id.home, ".docker", "config.json"))
		if strings.Contains(string(config), base64.StdEncoding.EncodeToString([]byte(reg.user+":"+reg.password))) {
			t.Errorf("config.json holds the password although credsStore is set: %s", config)
		}

		r = id.run(t, call{args: []string{"--debug", "pull", certDir, ref}, env: []string{path}})
		expectNoSecret(t, r, reg)
		if r.code != 0 {
			t.Errorf("pull after login: exit %d, want 0\n%s", r.code, r)
		}

		r = id.run(t, call{args: []string{"logout", reg.addr}, env: []string{path}})
		expect(t, r, 0, "Removed login credentials for "+reg.addr+"\n")
		if _, err := os.Stat(stored); err == nil {
			t.Errorf("logout left the helper's credentials in %s", stored)
		}
		r = id.run(t, call{args: []string{"pull", certDir, ref}, env: []string{path}})
		expect(t, r, 125, "")
		expectOneLine(t, r, "denied access (HTTP 401)")
	})
}

// helperScript is docker-credential-kiste2e, a credential helper that
// keeps the credentials of one server, in helper-store.json beside it.
// The server's address replaces SERVER.
const helperScript = `#!/bin/sh
store="$(dirname "$0")/helper-store.json"
case "$1" in
get)
	read -r server
	if [ "$server" = "SERVER" ] && [ -f "$store" ]; then
		cat "$store"
		exit 0
	fi
	echo "credentials not found in native keychain"
	exit 1
	;;
store)
	cat > "$store"
	;;
erase)
	read -r server
	rm -f "$store"
	;;
*)
	echo "unknown action $1" >&2
	exit 1
	;;
esac
`

// installHelper writes docker-credential-kiste2e into id's ~/bin.
func installHelper(t *testing.T, id *identity, reg *authRegistry) {
	t.Helper()
	writeUserFile(t, id, "bin/docker-credential-kiste2e", strings.ReplaceAll(helperScript, "SERVER", reg.addr), 0o755)
}

// helperPath returns the PATH setting that puts id's ~/bin first.
func helperPath(id *identity) string {
	return "PATH=" + filepath.Join(id.home, "bin") + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}

// helperJSON is what the helper returns for reg's credentials.
func helperJSON(reg *authRegistry) string {
	data, _ := json.Marshal(map[string]string{"ServerURL": reg.addr, "Username": reg.user, "Secret": reg.password})
	return string(data)
}

// legacyJSON is a ~/.dockercfg file with reg's credentials under key:
// the entries of "auths" without the wrapping object.
func legacyJSON(key string, reg *authRegistry) string {
	encoded := base64.StdEncoding.EncodeToString([]byte(reg.user + ":" + reg.password))
	return `{"` + key + `": {"auth": "` + encoded + `", "email": "kist@example.com"}}`
}

// authsJSON is a credential file with reg's credentials under key.
func authsJSON(key string, reg *authRegistry) string {
	encoded := base64.StdEncoding.EncodeToString([]byte(reg.user + ":" + reg.password))
	return `{"auths": {"` + key + `": {"auth": "` + encoded + `"}}}`
}

// expectNoSecret checks that r shows neither reg's password nor the
// basic authentication value made from it.
func expectNoSecret(t *testing.T, r result, reg *authRegistry) {
	t.Helper()
	encoded := base64.StdEncoding.EncodeToString([]byte(reg.user + ":" + reg.password))
	for _, secret := range []string{reg.password, encoded} {
		if strings.Contains(r.stdout, secret) || strings.Contains(r.stderr, secret) {
			t.Errorf("kist printed a secret %q\n%s", secret, r)
		}
	}
}

// expectPrivateFile checks that path is a regular file of mode 0600
// owned by id.
func expectPrivateFile(t *testing.T, id *identity, path string) {
	t.Helper()
	info, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode() != 0o600 {
		t.Errorf("%s has mode %v, want -rw-------", path, info.Mode())
	}
	st := info.Sys().(*syscall.Stat_t)
	if st.Uid != id.uid || st.Gid != id.gid {
		t.Errorf("%s is owned by %d:%d, want %d:%d", path, st.Uid, st.Gid, id.uid, id.gid)
	}
}

// writeUserFile writes content to rel below id's home, creating the
// directories between, all owned by id.
func writeUserFile(t *testing.T, id *identity, rel, content string, mode os.FileMode) {
	t.Helper()
	path := filepath.Join(id.home, rel)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	for p := path; p != id.home; p = filepath.Dir(p) {
		if err := os.Lchown(p, int(id.uid), int(id.gid)); err != nil && os.Geteuid() == 0 {
			t.Fatal(err)
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(readFile(t, path), &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}
