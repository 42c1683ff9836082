package e2e

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// sentinel is a directory outside the store whose content and times an
// escaping layer entry could change.
type sentinel struct {
	dir   string
	state map[string]string
}

// newSentinel creates a sentinel directory with a file in id's home.
func newSentinel(t *testing.T, id *identity) *sentinel {
	t.Helper()
	s := &sentinel{dir: filepath.Join(id.home, "outside")}
	if err := os.Mkdir(s.dir, 0o755); err != nil {
		t.Fatalf("create sentinel: %v", err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "sentinel"), []byte("untouched\n"), 0o644); err != nil {
		t.Fatalf("create sentinel: %v", err)
	}
	s.state = s.snapshot(t)
	return s
}

// snapshot returns the name, mode, modification time and content of
// every entry of the sentinel directory, keyed by relative path.
func (s *sentinel) snapshot(t *testing.T) map[string]string {
	t.Helper()
	state := map[string]string{}
	err := filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(s.dir, p)
		v := fmt.Sprintf("%v %d", info.Mode(), info.ModTime().UnixNano())
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			v += " " + string(data)
		}
		state[rel] = v
		return nil
	})
	if err != nil {
		t.Fatalf("read sentinel: %v", err)
	}
	return state
}

// check fails t if the sentinel directory changed since newSentinel.
func (s *sentinel) check(t *testing.T) {
	t.Helper()
	got := s.snapshot(t)
	var paths []string
	for p := range got {
		paths = append(paths, p)
	}
	for p := range s.state {
		if _, ok := got[p]; !ok {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	for _, p := range slices.Compact(paths) {
		if got[p] != s.state[p] {
			t.Errorf("sentinel %s changed: was %q, now %q", filepath.Join(s.dir, p), s.state[p], got[p])
		}
	}
}
