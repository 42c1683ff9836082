package testimage

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// startRegistry serves an in-memory registry on 127.0.0.1 and returns its
// host:port.
func startRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func testLayer(t *testing.T, format Format, c Compression, content string) v1.Layer {
	t.Helper()
	l, err := LayerFromEntries([]Entry{File("hello", content, 0o755)}, LayerOptions{
		Format: format, Compression: c, Dir: t.TempDir(),
	})
	if err != nil {
		t.Fatalf("LayerFromEntries: %v", err)
	}
	return l
}

func TestPushImageRoundTrip(t *testing.T) {
	host := startRegistry(t)
	tests := []struct {
		format      Format
		compression Compression
		manifest    types.MediaType
		config      types.MediaType
	}{
		{Docker, Gzip, types.DockerManifestSchema2, types.DockerConfigJSON},
		{Docker, Uncompressed, types.DockerManifestSchema2, types.DockerConfigJSON},
		{OCI, Gzip, types.OCIManifestSchema1, types.OCIConfigJSON},
		{OCI, Zstd, types.OCIManifestSchema1, types.OCIConfigJSON},
		{OCI, Uncompressed, types.OCIManifestSchema1, types.OCIConfigJSON},
	}
	for _, tt := range tests {
		tag := tt.format.String() + "-" + tt.compression.String()
		t.Run(tag, func(t *testing.T) {
			base := testLayer(t, tt.format, tt.compression, "base")
			top := testLayer(t, tt.format, tt.compression, "top")
			cfg := v1.Config{Entrypoint: []string{"/hello"}, User: "nobody", WorkingDir: "/srv"}
			img, err := Image(tt.format, HostPlatform(), cfg, base, top)
			if err != nil {
				t.Fatalf("Image: %v", err)
			}
			ref := host + "/test:" + tag
			if err := Push(context.Background(), ref, img); err != nil {
				t.Fatalf("Push: %v", err)
			}

			got := pulledImage(t, ref)
			m, err := got.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			if m.MediaType != tt.manifest {
				t.Errorf("manifest media type = %s, want %s", m.MediaType, tt.manifest)
			}
			if m.Config.MediaType != tt.config {
				t.Errorf("config media type = %s, want %s", m.Config.MediaType, tt.config)
			}
			checkPulledLayers(t, got, []v1.Layer{base, top})
			checkPulledConfig(t, got, cfg)
		})
	}
}

func pulledImage(t *testing.T, ref string) v1.Image {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r)
	if err != nil {
		t.Fatalf("remote.Image(%s): %v", ref, err)
	}
	return img
}

// checkPulledLayers compares the layers that a registry serves with the
// layers pushed, by media type, digest and diff ID.
func checkPulledLayers(t *testing.T, img v1.Image, want []v1.Layer) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != len(want) {
		t.Fatalf("%d layers, want %d", len(layers), len(want))
	}
	for i, l := range layers {
		wantMT, _ := want[i].MediaType()
		wantDigest, _ := want[i].Digest()
		wantDiffID, _ := want[i].DiffID()
		if mt, _ := l.MediaType(); mt != wantMT {
			t.Errorf("layer %d media type = %s, want %s", i, mt, wantMT)
		}
		if d, _ := l.Digest(); d != wantDigest {
			t.Errorf("layer %d digest = %s, want %s", i, d, wantDigest)
		}
		if d, _ := l.DiffID(); d != wantDiffID {
			t.Errorf("layer %d diff ID = %s, want %s", i, d, wantDiffID)
		}
		checkLayerHashes(t, l)
	}
}

func checkPulledConfig(t *testing.T, img v1.Image, want v1.Config) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	host := HostPlatform()
	if cf.OS != host.OS || cf.Architecture != host.Architecture {
		t.Errorf("platform = %s/%s, want %s/%s", cf.OS, cf.Architecture, host.OS, host.Architecture)
	}
	if !cf.Created.Time.Equal(FixedTime()) {
		t.Errorf("created = %v, want %v", cf.Created.Time, FixedTime())
	}
	if cf.Config.User != want.User || cf.Config.WorkingDir != want.WorkingDir {
		t.Errorf("config user %q, workdir %q, want %q, %q",
			cf.Config.User, cf.Config.WorkingDir, want.User, want.WorkingDir)
	}
}

func TestPushIndexRoundTrip(t *testing.T) {
	host := startRegistry(t)
	for _, tt := range []struct {
		format    Format
		mediaType types.MediaType
	}{
		{Docker, types.DockerManifestList},
		{OCI, types.OCIImageIndex},
	} {
		t.Run(tt.format.String(), func(t *testing.T) {
			hostImg, err := Image(tt.format, HostPlatform(), v1.Config{}, testLayer(t, tt.format, Gzip, "host"))
			if err != nil {
				t.Fatal(err)
			}
			other, err := Placeholder(tt.format, OtherPlatform(), LayerOptions{Dir: t.TempDir()})
			if err != nil {
				t.Fatalf("Placeholder: %v", err)
			}
			idx, err := Index(tt.format, hostImg, other)
			if err != nil {
				t.Fatalf("Index: %v", err)
			}
			ref := host + "/multi:" + tt.format.String()
			if err := Push(context.Background(), ref, idx); err != nil {
				t.Fatalf("Push: %v", err)
			}
			checkPulledIndex(t, ref, tt.mediaType, hostImg)
		})
	}
}

// checkPulledIndex checks that the index at ref lists the host and the
// other platform, and that the host's entry is hostImg.
func checkPulledIndex(t *testing.T, ref string, mediaType types.MediaType, hostImg v1.Image) {
	t.Helper()
	r, _ := name.ParseReference(ref)
	idx, err := remote.Index(r)
	if err != nil {
		t.Fatalf("remote.Index: %v", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if im.MediaType != mediaType {
		t.Errorf("index media type = %s, want %s", im.MediaType, mediaType)
	}

	var platforms []string
	for _, d := range im.Manifests {
		platforms = append(platforms, d.Platform.String())
	}
	want := HostPlatform().String() + " " + OtherPlatform().String()
	if got := strings.Join(platforms, " "); got != want {
		t.Errorf("platforms = %s, want %s", got, want)
	}

	wantDigest, _ := hostImg.Digest()
	if im.Manifests[0].Digest != wantDigest {
		t.Errorf("host manifest digest = %s, want %s", im.Manifests[0].Digest, wantDigest)
	}

	child, err := idx.Image(wantDigest)
	if err != nil {
		t.Fatalf("index image %s: %v", wantDigest, err)
	}
	wantLayers, err := hostImg.Layers()
	if err != nil {
		t.Fatal(err)
	}
	checkPulledLayers(t, child, wantLayers)
}

func TestImageRejectsOtherFormatLayer(t *testing.T) {
	_, err := Image(OCI, HostPlatform(), v1.Config{}, testLayer(t, Docker, Gzip, "x"))
	if err == nil {
		t.Fatal("Image accepted a Docker layer in an OCI image")
	}
}

func TestPushInvalidReference(t *testing.T) {
	img, err := Image(OCI, HostPlatform(), v1.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := Push(context.Background(), "BAD::ref", img); err == nil {
		t.Fatal("Push accepted an invalid reference")
	}
}
