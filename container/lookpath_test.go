package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestCheckCommand(t *testing.T) {
	root := t.TempDir()
	mustWrite := func(name string, mode os.FileMode) {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("\x7fELF"), mode); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite("bin/tool", 0o755)
	mustWrite("first/tool2", 0o644)
	mustWrite("bin/tool2", 0o755)
	mustWrite("bin/only-unexecutable", 0o755)
	mustWrite("first/only-unexecutable", 0o644)
	if err := os.WriteFile(filepath.Join(root, "bin/badscript"), []byte("#!/nonexistent -x\necho\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin/goodscript"), []byte("#!/bin/tool\necho\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "first/dironly"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite("etc/data", 0o644)
	mustWrite("app/run", 0o700)
	if err := os.Symlink("/bin/tool", filepath.Join(root, "bin/alias")); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		argv0, cwd string
		want       error
	}{
		{"tool", "/", nil},
		{"alias", "/", nil},
		{"/bin/tool", "/", nil},
		{"./run", "/app", nil},
		{"missing", "/", ErrCommandNotFound},
		{"/bin/missing", "/", ErrCommandNotFound},
		{"/etc/data/x", "/", ErrCommandNotFound},
		{"/etc/data", "/", ErrCommandNotExecutable},
		{"/bin", "/", ErrCommandNotExecutable},
		{"tool2", "/", nil},
		{"dironly", "/", ErrCommandNotExecutable},
		{"badscript", "/", ErrCommandNotFound},
		{"goodscript", "/", nil},
		{"", "/", ErrCommandNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.argv0, func(t *testing.T) {
			err := checkCommand(root, tt.argv0, tt.cwd, "/first:/usr/bin:/bin")
			if tt.want == nil && err != nil {
				t.Fatalf("checkCommand: %v", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("checkCommand: got %v, want %v", err, tt.want)
			}
		})
	}
}

// A symlink in the image that points at a host path must be resolved in
// the rootfs, where the target does not exist.
func TestCheckCommandSymlinkStaysInRoot(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	host, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(host, filepath.Join(root, "bin/escape")); err != nil {
		t.Fatal(err)
	}
	if err := checkCommand(root, "escape", "/", "/bin"); !errors.Is(err, ErrCommandNotFound) {
		t.Fatalf("checkCommand followed a symlink out of the rootfs: got %v", err)
	}
}

func TestStartError(t *testing.T) {
	tests := []struct {
		msg  string
		want error
	}{
		{`exec: "x": executable file not found in $PATH`, ErrCommandNotFound},
		{`exec /bin/script: no such file or directory`, ErrCommandNotFound},
		{`exec /bin/script: permission denied`, ErrCommandNotExecutable},
	}
	for _, tt := range tests {
		if err := startError("x", fmt.Errorf("%s", tt.msg)); !errors.Is(err, tt.want) {
			t.Errorf("startError(%q) = %v, want %v", tt.msg, err, tt.want)
		}
	}
	if err := startError("x", errors.New("cgroup failure")); errors.Is(err, ErrCommandNotFound) || errors.Is(err, ErrCommandNotExecutable) {
		t.Errorf("startError classified an unrelated error as a command error: %v", err)
	}
}
