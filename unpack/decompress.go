package unpack

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Magic numbers at the start of a compressed stream: RFC 1952 for gzip,
// RFC 8878 for zstd, and the xz and bzip2 formats, which OCI images do not
// use but which are worth naming in an error.
var (
	gzipMagic  = []byte{0x1f, 0x8b}
	zstdMagic  = []byte{0x28, 0xb5, 0x2f, 0xfd}
	xzMagic    = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	bzip2Magic = []byte{'B', 'Z', 'h'}
)

// Decompress returns the uncompressed stream of a layer blob, detecting
// gzip, zstd or no compression from its first bytes. Anything that does not
// start like gzip, zstd, xz or bzip2 is returned as it is.
//
// The returned stream reads r to EOF. A gzip stream may have several
// members. Zero bytes after the last member are padding, which some image
// tools write, and any other bytes there are an error.
//
// NOTE: zero padding after the last zstd frame is an error, as the zstd
// decoder reads it as a frame with a bad magic number.
func Decompress(r io.Reader) (io.ReadCloser, error) {
	// A 64 KiB buffer reads r in 64 KiB pieces rather than 4 KiB ones,
	// which for a pull is 16 times fewer reads from the network and
	// writes to the blob file.
	br := bufio.NewReaderSize(r, readBufferSize)
	magic, err := br.Peek(len(xzMagic))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read layer header: %w", err)
	}
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		gr, err := newGzipReader(br)
		if err != nil {
			return nil, err
		}
		return &decoder{format: "gzip", ReadCloser: gr}, nil
	case bytes.HasPrefix(magic, zstdMagic):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("start zstd decoder: %w", err)
		}
		return &decoder{format: "zstd", ReadCloser: zr.IOReadCloser()}, nil
	case bytes.HasPrefix(magic, xzMagic):
		return nil, &UnsupportedCompressionError{Format: "xz"}
	case bytes.HasPrefix(magic, bzip2Magic):
		return nil, &UnsupportedCompressionError{Format: "bzip2"}
	}
	return io.NopCloser(br), nil
}

// UnsupportedCompressionError is the error of Decompress for a stream
// that starts like xz or bzip2, which kist does not decompress.
type UnsupportedCompressionError struct {
	// Format is "xz" or "bzip2".
	Format string
}

func (e *UnsupportedCompressionError) Error() string {
	return "unsupported layer compression: " + e.Format
}

// decoder names the compression format in the errors of a decompressing
// reader.
type decoder struct {
	io.ReadCloser
	format string
}

func (d *decoder) Read(p []byte) (int, error) {
	n, err := d.ReadCloser.Read(p)
	if err != nil && err != io.EOF { //nolint:errorlint // io.Reader returns io.EOF itself, unwrapped
		err = fmt.Errorf("decompress %s layer: %w", d.format, err)
	}
	return n, err
}

// gzipReader reads the members of a gzip stream one at a time, because a
// gzip reader in multistream mode reads padding after the last member as
// a broken header and fails with gzip.ErrHeader. Both compress/gzip and
// klauspost/compress/gzip, which decompresses faster, do so.
type gzipReader struct {
	br   *bufio.Reader
	zr   *gzip.Reader
	done bool
}

func newGzipReader(br *bufio.Reader) (*gzipReader, error) {
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("read gzip header: %w", err)
	}
	zr.Multistream(false)
	return &gzipReader{br: br, zr: zr}, nil
}

func (g *gzipReader) Read(p []byte) (int, error) {
	for !g.done {
		n, err := g.zr.Read(p)
		if !errors.Is(err, io.EOF) {
			return n, err
		}
		more, err := g.nextMember()
		if err != nil {
			return n, err
		}
		g.done = !more
		if n > 0 {
			return n, nil
		}
	}
	return 0, io.EOF
}

// nextMember starts reading the next gzip member and reports whether there
// is one. Without one, it reads the rest of the stream, which must be zero
// bytes.
func (g *gzipReader) nextMember() (bool, error) {
	next, err := g.br.Peek(len(gzipMagic))
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	if bytes.Equal(next, gzipMagic) {
		if err := g.zr.Reset(g.br); err != nil {
			return false, fmt.Errorf("read gzip header: %w", err)
		}
		g.zr.Multistream(false)
		return true, nil
	}
	return false, drainZeros(g.br)
}

func drainZeros(r io.Reader) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if bytes.Count(buf[:n], []byte{0}) != n {
			return errors.New("unexpected data after the last gzip member")
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Close releases the decoder. It does not close the underlying reader.
func (g *gzipReader) Close() error {
	return g.zr.Close()
}
