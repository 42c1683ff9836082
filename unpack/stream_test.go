package unpack

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// countingReader records whether its reader returned io.EOF.
type countingReader struct {
	r   *bytes.Reader
	eof bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil {
		c.eof = true
	}
	return n, err
}

func TestLayerDrainsTrailingData(t *testing.T) {
	requireRoot(t)
	stream := buildTar(t, fileEntry("f", "x", 0o644))
	tests := []struct {
		name     string
		trailing []byte
	}{
		{"none", nil},
		{"zero blocks", make([]byte, 10*512)},
		{"garbage", bytes.Repeat([]byte("garbage!"), 1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &countingReader{r: bytes.NewReader(append(stream[:len(stream):len(stream)], tt.trailing...))}
			if _, err := Layer(context.Background(), r, t.TempDir(), Options{}); err != nil {
				t.Fatalf("Layer: %v", err)
			}
			if r.r.Len() != 0 || !r.eof {
				t.Errorf("%d bytes left unread, EOF seen %v; want the stream read to EOF", r.r.Len(), r.eof)
			}
		})
	}
}

func TestLayerRejectsNonEmptyDir(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "existing"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Layer(context.Background(), bytes.NewReader(buildTar(t)), dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("Layer error = %v, want not empty", err)
	}
	if !exists(filepath.Join(dir, "existing")) {
		t.Errorf("Layer removed a file it did not create")
	}
}

func TestLayerCancel(t *testing.T) {
	requireRoot(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	stream := buildTar(t, fileEntry("f", "x", 0o644))
	if _, err := Layer(ctx, bytes.NewReader(stream), dir, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Layer error = %v, want context.Canceled", err)
	}
}

func TestLayerFailureEmptiesDir(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	stream := buildTar(t,
		dirEntry("ro/", 0o555),
		fileEntry("ro/file", "x", 0o444),
		symlinkEntry(".", "/"),
	)
	_, err := Layer(context.Background(), bytes.NewReader(stream), dir, Options{})
	if err == nil || !strings.Contains(err.Error(), `unpack entry "."`) {
		t.Fatalf("Layer error = %v, want one naming the entry \".\"", err)
	}
	names, err := os.ReadDir(dir)
	if err != nil || len(names) != 0 {
		t.Errorf("layer directory holds %v (%v) after a failed unpack, want it empty", names, err)
	}
}

func TestLayerUnsupportedType(t *testing.T) {
	requireRoot(t)
	e := entry{hdr: tar.Header{Typeflag: 'V', Name: "volume-label"}}
	_, err := Layer(context.Background(), bytes.NewReader(buildTar(t, e)), t.TempDir(), Options{})
	if err == nil || !strings.Contains(err.Error(), "unsupported entry type") {
		t.Errorf("Layer error = %v, want unsupported entry type", err)
	}
}

func TestLayerTruncatedStream(t *testing.T) {
	requireRoot(t)
	stream := buildTar(t, fileEntry("f", strings.Repeat("x", 4096), 0o644))
	_, err := Layer(context.Background(), bytes.NewReader(stream[:1024]), t.TempDir(), Options{})
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Layer error = %v, want io.ErrUnexpectedEOF", err)
	}
}
