package auth

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
)

func TestLookupWarnsOnUnreadableFile(t *testing.T) {
	cases := []struct {
		name string
		// make puts something unreadable at path.
		make func(t *testing.T, path string)
		// problem and fix are parts of the expected warning.
		problem, fix string
		asRoot       bool
	}{
		{
			name: "directory",
			make: func(t *testing.T, path string) {
				if err := os.MkdirAll(path, 0o700); err != nil {
					t.Fatal(err)
				}
			},
			problem: "is a directory", fix: "remove it", asRoot: true,
		},
		{
			name: "named pipe",
			make: func(t *testing.T, path string) {
				if err := syscall.Mkfifo(path, 0o600); err != nil {
					t.Fatal(err)
				}
			},
			problem: "is a named pipe", fix: "remove it", asRoot: true,
		},
		{
			name: "mode 000",
			make: func(t *testing.T, path string) {
				writeFile(t, path, `{}`)
				if err := os.Chmod(path, 0); err != nil {
					t.Fatal(err)
				}
			},
			problem: "permission denied", fix: "chmod u+r " + "PATH",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.asRoot && os.Geteuid() == 0 {
				t.Skip("root reads a file of any mode; the end-to-end tests cover this as an unprivileged user")
			}
			dir := home(t)
			t.Setenv("XDG_RUNTIME_DIR", filepath.Join(dir, "run"))
			broken := filepath.Join(dir, "run/containers/auth.json")
			if err := os.MkdirAll(filepath.Dir(broken), 0o700); err != nil {
				t.Fatal(err)
			}
			tc.make(t, broken)
			writeFile(t, filepath.Join(dir, ".docker/config.json"),
				`{"auths": {"reg.example": {"auth": "`+basic("user", "pw")+`"}}}`)
			hook := test.NewGlobal()
			t.Cleanup(hook.Reset)

			type result struct {
				cred  Credential
				found bool
				err   error
			}
			done := make(chan result, 1)
			go func() {
				cred, found, err := Lookup("reg.example", "", "")
				done <- result{cred, found, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Lookup did not return within 10 seconds")
			}

			if r.err != nil {
				t.Fatalf("Lookup: %v", r.err)
			}
			if !r.found || r.cred.Username != "user" {
				t.Errorf("Lookup = %+v, %v, want the credentials of the next file", r.cred, r.found)
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
			fix := strings.ReplaceAll(tc.fix, "PATH", broken)
			for _, part := range []string{broken, tc.problem, fix} {
				if !strings.Contains(warnings[0], part) {
					t.Errorf("warning %q does not contain %q", warnings[0], part)
				}
			}
		})
	}
}

func TestStoreRejectsNamedPipe(t *testing.T) {
	home(t)
	path := filepath.Join(t.TempDir(), "auth.json")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Store("reg.example", Credential{Username: "u", Password: "p"}, path)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Store into a named pipe succeeded")
		}
		for _, part := range []string{path, "is a named pipe"} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("Store into a named pipe: error %q does not contain %q", err, part)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Store did not return within 10 seconds")
	}
}

func TestLookupSkipsUnsearchableDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root searches directories of any mode")
	}
	dir := home(t)
	hidden := filepath.Join(dir, "run-containers", strconv.Itoa(os.Getuid()), "auth.json")
	writeFile(t, hidden, `{}`)
	if err := os.Chmod(filepath.Join(dir, "run-containers"), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(dir, "run-containers"), 0o700) })
	writeFile(t, filepath.Join(dir, ".docker/config.json"),
		`{"auths": {"reg.example": {"auth": "`+basic("user", "pw")+`"}}}`)
	hook := test.NewGlobal()
	t.Cleanup(hook.Reset)

	cred, found, err := Lookup("reg.example", "", "")
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if !found || cred.Username != "user" {
		t.Errorf("Lookup = %+v, %v, want the credentials of docker's file", cred, found)
	}
	for _, e := range hook.AllEntries() {
		if e.Level <= logrus.WarnLevel {
			t.Errorf("unexpected %v: %s", e.Level, e.Message)
		}
	}
	if _, err := Erase("reg.example", ""); err != nil {
		t.Errorf("Erase with an unsearchable directory first: %v", err)
	}
}

// A huge credential file, sparse here, must not be read into memory.
func TestReadRegularRejectsHugeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(2 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()

	data, err := readRegular(path)
	if err == nil {
		t.Fatalf("readRegular of a 2 GiB file returned %d bytes and no error", len(data))
	}
	for _, part := range []string{path, "more than the 64 MiB"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
}
