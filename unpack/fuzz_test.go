package unpack

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzLayer unpacks arbitrary bytes as a layer and checks that nothing
// outside the layer root changed: neither the files beside it nor the lower
// layer it is stacked on.
//
// One sandbox serves every input of a process, with the root emptied after
// each, because creating a sandbox per input made each run several times
// slower. The seeds are the hostile cases. Those with absolute names aim at
// the sandbox of the process that built them. In fuzzing mode, worker
// processes run the inputs, so there only relative names hit the sandbox
// that the worker checks.
func FuzzLayer(f *testing.F) {
	s := newSandbox(f)
	lower := fuzzLower(f, s)
	for _, tt := range hostileCases {
		f.Add(buildTar(f, tt.entries(s)...))
	}
	f.Add(buildTar(f,
		dirEntry("./", 0o755),
		fileEntry("etc/passwd", "root:x:0:0", 0o644),
		hardlinkEntry("copy", "lib/libc.so"),
		hardlinkEntry("escape", "link"),
		fileEntry(".wh.gone", "", 0o644),
		fileEntry("dir/.wh..wh..opq", "", 0o644),
	))
	f.Add(sparseTar(f, "sparse", 1<<20, map[int64]string{4096: "data"}))
	before := s.snapshot(f)

	f.Fuzz(func(t *testing.T, data []byte) {
		defer clearRoot(t, s.root)

		// A sparse entry can declare terabytes of holes: bound the time.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = Layer(ctx, bytes.NewReader(data), s.root, Options{Lower: []string{lower}})

		s.checkUntouched(t, before)
	})
}

// fuzzLower creates a lower layer beside the sandbox's root, holding a
// symlink that points at the sentinel outside.
func fuzzLower(t testing.TB, s sandbox) string {
	lower := filepath.Join(s.base, "lower")
	for _, dir := range []string{"lib", "dir"} {
		if err := os.MkdirAll(filepath.Join(lower, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(lower, "lib/libc.so"), []byte("libc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../outside/sentinel", filepath.Join(lower, "link")); err != nil {
		t.Fatal(err)
	}
	return lower
}

// clearRoot empties the layer root for the next input. A root directory
// entry may have changed the root's own mode, so that is reset first.
func clearRoot(t testing.TB, root string) {
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
}
