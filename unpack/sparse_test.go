package unpack

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// paxRecord formats one PAX extended header record, whose leading decimal
// length counts the whole record including itself.
func paxRecord(key, value string) string {
	rest := " " + key + "=" + value + "\n"
	size := len(rest) + 1
	for len(strconv.Itoa(size))+len(rest) != size {
		size++
	}
	return strconv.Itoa(size) + rest
}

// sparseTar returns a tar stream with one file in the GNU PAX 1.0 sparse
// format: data fragments at the given offsets, holes everywhere else.
// archive/tar reads this format but cannot write it, so the PAX header is
// written as a regular entry whose type byte is then patched.
func sparseTar(t testing.TB, name string, size int64, fragments map[int64]string) []byte {
	t.Helper()
	offsets := make([]int64, 0, len(fragments))
	for off := range fragments {
		offsets = append(offsets, off)
	}
	slices.Sort(offsets)

	sparseMap := fmt.Sprintf("%d\n", len(offsets))
	var data string
	for _, off := range offsets {
		sparseMap += fmt.Sprintf("%d\n%d\n", off, len(fragments[off]))
		data += fragments[off]
	}
	body := make([]byte, (len(sparseMap)+511)/512*512)
	copy(body, sparseMap)
	body = append(body, data...)

	pax := paxRecord("GNU.sparse.major", "1") + paxRecord("GNU.sparse.minor", "0") +
		paxRecord("GNU.sparse.name", name) + paxRecord("GNU.sparse.realsize", strconv.FormatInt(size, 10))

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	headers := []struct {
		hdr  tar.Header
		body []byte
	}{
		{tar.Header{Typeflag: tar.TypeReg, Name: "PaxHeaders/sparse", Size: int64(len(pax)), Format: tar.FormatUSTAR}, []byte(pax)},
		{tar.Header{Typeflag: tar.TypeReg, Name: "GNUSparseFile.0/sparse", Mode: 0o644, Size: int64(len(body)),
			ModTime: testTime, Format: tar.FormatUSTAR}, body},
	}
	for _, h := range headers {
		if err := tw.WriteHeader(&h.hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(h.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}

	stream := buf.Bytes()
	stream[156] = tar.TypeXHeader
	setChecksum(stream[:512])
	return stream
}

// setChecksum recomputes the checksum of a ustar header block: the sum of
// its bytes with the checksum field counted as spaces, in octal.
func setChecksum(block []byte) {
	copy(block[148:156], "        ")
	var sum int64
	for _, b := range block {
		sum += int64(b)
	}
	copy(block[148:156], fmt.Sprintf("%06o\x00 ", sum))
}

func TestLayerSparseFile(t *testing.T) {
	requireRoot(t)
	const size = 1 << 30
	stream := sparseTar(t, "sparse", size, map[int64]string{0: "start", 1 << 20: "middle", size - 3: "end"})
	dir := t.TempDir()
	stats, err := Layer(context.Background(), bytes.NewReader(stream), dir, Options{})
	if err != nil {
		t.Fatalf("Layer: %v", err)
	}

	path := filepath.Join(dir, "sparse")
	st := lstat(t, path)
	if st.Size != size {
		t.Errorf("sparse size = %d, want %d", st.Size, size)
	}
	if used := st.Blocks * 512; used > 1<<20 {
		t.Errorf("sparse uses %d bytes of disk, want its holes kept as holes", used)
	}
	if stats.Bytes != size {
		t.Errorf("Stats.Bytes = %d, want %d", stats.Bytes, size)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for off, want := range map[int64]string{0: "start", 1 << 20: "middle", size - 3: "end", 4096: "\x00\x00"} {
		got := make([]byte, len(want))
		if _, err := f.ReadAt(got, off); err != nil || string(got) != want {
			t.Errorf("content at %d = %q, %v; want %q", off, got, err, want)
		}
	}
}

// zeroReader returns zero bytes forever.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestLayerCancelDuringContent(t *testing.T) {
	requireRoot(t)
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	// The header is written at once. The content follows from zeroReader,
	// and Close is never called.
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "huge", Mode: 0o644, Size: 1 << 40}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	dir := t.TempDir()

	start := time.Now()
	_, err := Layer(ctx, io.MultiReader(&hdr, zeroReader{}), dir, Options{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Layer error = %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("Layer returned %v after the deadline, want it to stop while copying", elapsed)
	}
	checkEmpty(t, dir)
}
