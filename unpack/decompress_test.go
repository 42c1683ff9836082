package unpack

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func gzipBytes(t *testing.T, members ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, m := range members {
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func zstdBytes(t *testing.T, data string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestDecompress(t *testing.T) {
	payload := strings.Repeat("layer data ", 10000)
	tests := []struct {
		name    string
		blob    []byte
		want    string
		wantErr string // substring of the error from Decompress or from reading
	}{
		{name: "gzip", blob: gzipBytes(t, payload), want: payload},
		{name: "gzip with zero padding", blob: concat(gzipBytes(t, payload), make([]byte, 1024)), want: payload},
		{name: "gzip members", blob: gzipBytes(t, "first ", "second"), want: "first second"},
		{name: "gzip members with padding", blob: concat(gzipBytes(t, "a", "b"), make([]byte, 7)), want: "ab"},
		{name: "zstd", blob: zstdBytes(t, payload), want: payload},
		{name: "zstd frames", blob: concat(zstdBytes(t, "first "), zstdBytes(t, "second")), want: "first second"},
		{
			// Unlike gzip, zero padding after zstd frames is rejected.
			name:    "zstd with zero padding",
			blob:    concat(zstdBytes(t, payload), make([]byte, 1024)),
			wantErr: "decompress zstd layer: invalid input: magic number mismatch",
		},
		{name: "plain", blob: []byte(payload), want: payload},
		{name: "empty", blob: nil, want: ""},
		{name: "plain garbage", blob: []byte{0x00, 0xff, 0x13, 0x37}, want: "\x00\xff\x13\x37"},
		{
			name:    "gzip with trailing garbage",
			blob:    concat(gzipBytes(t, payload), make([]byte, 100), []byte("junk")),
			wantErr: "unexpected data after the last gzip member",
		},
		{name: "gzip magic then garbage", blob: []byte{0x1f, 0x8b, 0xde, 0xad, 0xbe, 0xef}, wantErr: "gzip"},
		{name: "truncated gzip", blob: gzipBytes(t, payload)[:200], wantErr: "unexpected EOF"},
		{name: "zstd magic then garbage", blob: concat(zstdMagic, []byte("garbage garbage")), wantErr: "zstd"},
		{name: "xz", blob: concat(xzMagic, []byte("rest")), wantErr: "unsupported layer compression: xz"},
		{name: "bzip2", blob: []byte("BZh91AY&SY"), wantErr: "unsupported layer compression: bzip2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := bytes.NewReader(tt.blob)
			got, err := decompressAll(src)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decompress: %v", err)
			}
			if got != tt.want {
				t.Errorf("output has %d bytes, want %d", len(got), len(tt.want))
			}
			if src.Len() != 0 {
				t.Errorf("%d bytes of the blob left unread, want it read to EOF", src.Len())
			}
		})
	}
}

func decompressAll(r io.Reader) (string, error) {
	rc, err := Decompress(r)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return "", err
	}
	return string(b), rc.Close()
}
