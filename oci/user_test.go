package oci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func writeRootfs(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestResolveUser(t *testing.T) {
	root := writeRootfs(t, map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n",
		"etc/group":  "root:x:0:\nnogroup:x:65534:\napp:x:1000:\nextra:x:2000:app\n",
	})
	tests := []struct {
		spec     string
		uid, gid uint32
		extra    []uint32
		home     string
	}{
		{"", 0, 0, nil, "/root"},
		{"nobody", 65534, 65534, nil, "/nonexistent"},
		{"app", 1000, 1000, []uint32{2000}, "/home/app"},
		{"1000:2000", 1000, 2000, nil, "/home/app"},
		{"4242", 4242, 0, nil, "/"},
		{"nobody:app", 65534, 1000, nil, "/nonexistent"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			u, err := ResolveUser(root, tt.spec)
			if err != nil {
				t.Fatalf("ResolveUser: %v", err)
			}
			if u.UID != tt.uid {
				t.Errorf("uid = %d, want %d", u.UID, tt.uid)
			}
			if u.GID != tt.gid {
				t.Errorf("gid = %d, want %d", u.GID, tt.gid)
			}
			if diff := cmp.Diff(tt.extra, u.AdditionalGids); diff != "" {
				t.Errorf("additional gids (-want +got):\n%s", diff)
			}
			if u.Home != tt.home {
				t.Errorf("home = %q, want %q", u.Home, tt.home)
			}
		})
	}
}

func TestResolveUserUnknownName(t *testing.T) {
	root := writeRootfs(t, map[string]string{"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n"})
	_, err := ResolveUser(root, "ghost")
	if err == nil {
		t.Fatal("ResolveUser accepted a user missing from /etc/passwd")
	}
	if !strings.Contains(err.Error(), `"ghost"`) {
		t.Errorf("error %q does not name the user", err)
	}
}

// An image whose /etc/passwd is a symlink to an absolute path must be read
// inside its rootfs, never from the host.
func TestResolveUserSymlinkStaysInRoot(t *testing.T) {
	root := writeRootfs(t, map[string]string{
		"inside/passwd": "root:x:0:0:root:/root:/bin/sh\nhostonly:x:77:77::/inside:/bin/sh\n",
	})
	outside := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(outside, []byte("hostonly:x:99:99::/outside:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The link names the host file by its absolute path; resolved in the
	// root it points at a path that does not exist there.
	if err := os.Symlink(outside, filepath.Join(root, "etc/passwd")); err != nil {
		t.Fatal(err)
	}
	if _, err := ResolveUser(root, "hostonly"); err == nil {
		t.Fatal("ResolveUser followed /etc/passwd out of the rootfs")
	}

	if err := os.Remove(filepath.Join(root, "etc/passwd")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/inside/passwd", filepath.Join(root, "etc/passwd")); err != nil {
		t.Fatal(err)
	}
	u, err := ResolveUser(root, "hostonly")
	if err != nil {
		t.Fatalf("ResolveUser through an in-root symlink: %v", err)
	}
	if u.UID != 77 {
		t.Errorf("uid = %d, want 77 from the rootfs's passwd", u.UID)
	}
}

// A FIFO as /etc/passwd would block a reader forever; it counts as absent.
func TestResolveUserFIFO(t *testing.T) {
	root := writeRootfs(t, map[string]string{"etc/group": "root:x:0:\n"})
	if err := unix.Mkfifo(filepath.Join(root, "etc/passwd"), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := ResolveUser(root, "0:0")
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ResolveUser with a FIFO as /etc/passwd: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ResolveUser blocked on a FIFO as /etc/passwd")
	}
}
