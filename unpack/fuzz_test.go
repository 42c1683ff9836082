package unpack

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzLayer unpacks arbitrary bytes as a layer and checks that nothing
// outside the layer root changed: neither the files beside it nor the lower
// layer it is stacked on.
//
// One sandbox serves every input of a process, with the root emptied after
// each, because creating a sandbox per input made each run several times
// slower. The seeds are the hostile cases and every uncompressed layer of
// testdata/layers. Hostile cases with absolute names aim at the sandbox of
// the process that built them. In fuzzing mode, worker processes run the
// inputs, so there only relative names hit the sandbox that the worker
// checks.
//
// Before unpacking, the checksum of every header is made valid, so that
// mutated header fields reach the unpacker instead of failing the checksum
// check in archive/tar. CI runs a short session; unpack/doc.go gives the
// command for a long one.
func FuzzLayer(f *testing.F) {
	s := newSandbox(f)
	lower := fuzzLower(f, s)
	for _, tt := range hostileCases {
		f.Add(buildTar(f, tt.entries(s)...))
	}
	for _, layer := range corpusTars(f) {
		f.Add(layer)
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
		stream := withValidChecksums(data)
		_, _ = Layer(ctx, bytes.NewReader(stream), s.root, Options{Lower: []string{lower}})

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

// corpusTars returns every uncompressed layer in testdata/layers.
func corpusTars(t testing.TB) [][]byte {
	var layers [][]byte
	err := filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(path, ".tar") {
			return err
		}
		data, err := os.ReadFile(path)
		layers = append(layers, data)
		return err
	})
	if err != nil {
		t.Fatalf("read corpus: %v", err)
	}
	return layers
}

// tarBlockSize is the size of a tar header block and the unit that
// content is padded to.
const tarBlockSize = 512

// withValidChecksums returns a copy of data in which every header block
// has a valid checksum. It walks the stream as archive/tar does: a header,
// then, for types that have content, the content padded to whole blocks.
// An old GNU sparse header ('S') may be followed by extension blocks, each
// with a flag at byte 504 that is set when another one follows. The walk stops at
// a size field it cannot parse.
func withValidChecksums(data []byte) []byte {
	out := bytes.Clone(data)
	for off := 0; off+tarBlockSize <= len(out); {
		block := out[off : off+tarBlockSize]
		off += tarBlockSize
		if bytes.Count(block, []byte{0}) == tarBlockSize {
			continue // end-of-archive blocks
		}
		setChecksum(block)
		size, ok := parseTarNumber(block[124:136])
		if !ok {
			return out
		}
		typeflag := block[156]
		if typeflag == tar.TypeGNUSparse {
			for extended := block[482] != 0; extended && off+tarBlockSize <= len(out); off += tarBlockSize {
				extended = out[off+504] != 0
			}
		}
		switch typeflag {
		case tar.TypeLink, tar.TypeSymlink, tar.TypeChar, tar.TypeBlock, tar.TypeDir, tar.TypeFifo:
			continue // These types have no content, whatever their size field.
		}
		if size > int64(len(out)-off) {
			return out
		}
		off += int(size+tarBlockSize-1) / tarBlockSize * tarBlockSize
	}
	return out
}

// parseTarNumber parses a numeric header field: octal digits surrounded by
// spaces or NULs, or a big-endian binary number when the first byte has its
// high bit set (GNU base-256). It reports false for anything else and for
// negative or huge values.
func parseTarNumber(field []byte) (int64, bool) {
	if len(field) > 0 && field[0]&0x80 != 0 {
		if field[0] != 0x80 {
			return 0, false // negative, or too large
		}
		var n int64
		for _, b := range field[1:] {
			if n > math.MaxInt64>>8 {
				return 0, false
			}
			n = n<<8 | int64(b)
		}
		return n, true
	}
	s := strings.Trim(string(field), " \x00")
	if s == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(s, 8, 64)
	return n, err == nil && n >= 0
}

func TestWithValidChecksums(t *testing.T) {
	stream := buildTar(t,
		fileEntry("a", "content", 0o644),
		symlinkEntry("link", "a"),
		fileEntry("b", strings.Repeat("x", 600), 0o644),
	)
	// Change the mode of b, in the header after a's header and content and
	// the symlink's header, as a fuzzer would.
	mutated := bytes.Clone(stream)
	copy(mutated[3*tarBlockSize+100:], "0004777")

	if _, err := tar.NewReader(bytes.NewReader(mutated)).Next(); err != nil {
		t.Fatalf("first header: %v", err)
	}
	tr := tar.NewReader(bytes.NewReader(withValidChecksums(mutated)))
	var modes []int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read fixed stream: %v", err)
		}
		modes = append(modes, hdr.Mode)
	}
	if want := []int64{0o644, 0o777, 0o4777}; !slices.Equal(modes, want) {
		t.Errorf("modes = %o, want %o", modes, want)
	}

	broken := tar.NewReader(bytes.NewReader(mutated))
	for range 2 {
		if _, err := broken.Next(); err != nil {
			t.Fatalf("header before the mutated one: %v", err)
		}
	}
	if _, err := broken.Next(); !errors.Is(err, tar.ErrHeader) {
		t.Errorf("mutated header without a fixed checksum: error %v, want tar.ErrHeader", err)
	}
}
