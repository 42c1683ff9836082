package unpack

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// waitCounter is an Options.WaitLower that counts its calls.
type waitCounter struct {
	lower []string
	err   error
	calls int
}

func (w *waitCounter) wait(context.Context) ([]string, error) {
	w.calls++
	return w.lower, w.err
}

func TestWaitLowerNotCalledForOwnEntries(t *testing.T) {
	requireRoot(t)
	w := &waitCounter{err: errors.New("lower layers requested")}
	dir, stats := unpackInto(t, Options{WaitLower: w.wait},
		dirEntry("etc/", 0o755),
		fileEntry("etc/os-release", "ID=test", 0o644),
		hardlinkEntry("etc/alias", "etc/os-release"),
		symlinkEntry("lib", "etc"),
		hardlinkEntry("via-symlink", "lib/os-release"),
	)

	if w.calls != 0 {
		t.Errorf("WaitLower called %d times, want 0 for a layer that refers only to its own entries", w.calls)
	}
	if got := readFile(t, filepath.Join(dir, "via-symlink")); got != "ID=test" {
		t.Errorf("via-symlink content = %q, want ID=test", got)
	}
	if stats.LowerCopies != 0 {
		t.Errorf("Stats.LowerCopies = %d, want 0", stats.LowerCopies)
	}
}

func TestWaitLowerHardlinkToLower(t *testing.T) {
	requireRoot(t)
	w := &waitCounter{lower: lowerLayers(t)}
	dir, stats := unpackInto(t, Options{WaitLower: w.wait},
		fileEntry("own", "own", 0o644),
		hardlinkEntry("copy", "usr/lib/libc.so"),
		hardlinkEntry("via-symlink", "lib/libc.so"),
		hardlinkEntry("own-alias", "own"),
	)

	if w.calls != 1 {
		t.Errorf("WaitLower called %d times, want 1", w.calls)
	}
	for _, name := range []string{"copy", "via-symlink"} {
		if got := readFile(t, filepath.Join(dir, name)); got != "libc" {
			t.Errorf("%s content = %q, want the lower file's libc", name, got)
		}
	}
	if got := readFile(t, filepath.Join(dir, "own-alias")); got != "own" {
		t.Errorf("own-alias content = %q, want own", got)
	}
	if stats.LowerCopies != 2 {
		t.Errorf("Stats.LowerCopies = %d, want 2", stats.LowerCopies)
	}
}

func TestWaitLowerImplicitParent(t *testing.T) {
	requireRoot(t)
	w := &waitCounter{lower: lowerLayers(t)}
	dir, stats := unpackInto(t, Options{WaitLower: w.wait},
		fileEntry("usr/lib/new.so", "new", 0o644),
	)

	if w.calls != 1 {
		t.Errorf("WaitLower called %d times, want 1", w.calls)
	}
	if stats.LowerCopies == 0 {
		t.Error("Stats.LowerCopies = 0, want the implicit parents to copy the lower directories")
	}
	if got := readFile(t, filepath.Join(dir, "usr/lib/new.so")); got != "new" {
		t.Errorf("usr/lib/new.so content = %q, want new", got)
	}
}

func TestWaitLowerError(t *testing.T) {
	requireRoot(t)
	w := &waitCounter{err: errors.New("lower layer failed")}
	dir := t.TempDir()
	layer := buildTar(t, fileEntry("own", "own", 0o644), hardlinkEntry("copy", "usr/lib/libc.so"))
	_, err := Layer(context.Background(), strings.NewReader(string(layer)), dir, Options{WaitLower: w.wait})

	if !errors.Is(err, w.err) {
		t.Fatalf("Layer error = %v, want one wrapping %q", err, w.err)
	}
	if exists(filepath.Join(dir, "own")) {
		t.Error("own still exists after the failed unpack, want the layer directory emptied")
	}
}
