package rootfsimage

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func rootfsTar(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "./hello", Typeflag: tar.TypeReg, Mode: 0o644, Size: 3})
	tw.Write([]byte("hi\n"))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBuild(t *testing.T) {
	plain := rootfsTar(t)
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(plain)
	gw.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(plain)
	zw.Close()
	sum := sha256.Sum256(plain)
	wantDiffID := "sha256:" + hex.EncodeToString(sum[:])
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	for name, input := range map[string][]byte{"plain": plain, "gzip": gz.Bytes(), "zstd": zs.Bytes()} {
		t.Run(name, func(t *testing.T) {
			img, err := Build(bytes.NewReader(input), t.TempDir(), Options{
				Changes:  []string{"CMD /hello", "ENV A=1"},
				Message:  "from a test",
				Platform: v1.Platform{OS: "linux", Architecture: "amd64"},
				Created:  created,
			})
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.RootFS.DiffIDs) != 1 || cfg.RootFS.DiffIDs[0].String() != wantDiffID {
				t.Errorf("diff IDs = %v, want [%s]", cfg.RootFS.DiffIDs, wantDiffID)
			}
			if strings.Join(cfg.Config.Cmd, " ") != "/bin/sh -c /hello" || strings.Join(cfg.Config.Env, " ") != "A=1" {
				t.Errorf("config = %+v, want the changes applied", cfg.Config)
			}
			if cfg.History[0].Comment != "from a test" || !cfg.Created.Time.Equal(created) || cfg.Architecture != "amd64" {
				t.Errorf("config = %+v, want the options applied", cfg)
			}

			layers, _ := img.Layers()
			rc, err := layers[0].Uncompressed()
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatalf("read layer: %v", err)
			}
			if !bytes.Equal(got, plain) {
				t.Errorf("uncompressed layer differs from the input tar")
			}
		})
	}
}

func TestBuildRejectsXzAndBzip2(t *testing.T) {
	inputs := map[string][]byte{
		"xz":    {0xfd, '7', 'z', 'X', 'Z', 0x00, 1, 2, 3},
		"bzip2": []byte("BZh91AY&SY"),
	}
	for format, input := range inputs {
		t.Run(format, func(t *testing.T) {
			_, err := Build(bytes.NewReader(input), t.TempDir(), Options{})
			if err == nil {
				t.Fatal("Build succeeded")
			}
			if !strings.Contains(err.Error(), "compressed with "+format) {
				t.Errorf("error %q does not name the format %s", err, format)
			}
			if !strings.Contains(err.Error(), format+" -dc FILE | kist import -") {
				t.Errorf("error %q does not show how to decompress the input", err)
			}
		})
	}
}

func TestBuildRejectsEmpty(t *testing.T) {
	var gzipped bytes.Buffer
	gz := gzip.NewWriter(&gzipped)
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}

	for name, input := range map[string][]byte{"empty": nil, "empty gzip": gzipped.Bytes()} {
		_, err := Build(bytes.NewReader(input), t.TempDir(), Options{})
		if !errors.Is(err, ErrEmpty) {
			t.Errorf("%s input: got %v, want ErrEmpty", name, err)
		}
	}
}
