package blobimage

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func descriptorOf(t *testing.T, data string) v1.Descriptor {
	t.Helper()
	h, n, err := v1.SHA256(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return v1.Descriptor{Digest: h, Size: n, MediaType: types.OCIUncompressedLayer}
}

func TestVerify(t *testing.T) {
	want := descriptorOf(t, "content")
	cases := []struct {
		name, content string
		ok            bool
	}{
		{"matching content", "content", true},
		{"other content", "CONTENT", false},
		{"shorter content", "conten", false},
		{"longer content", "content!", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := io.ReadAll(Verify(io.NopCloser(strings.NewReader(tc.content)), want))
			if tc.ok && err != nil {
				t.Fatalf("read: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrMismatch) {
				t.Fatalf("got %v, want ErrMismatch", err)
			}
			if tc.ok && string(got) != tc.content {
				t.Errorf("read %q, want %q", got, tc.content)
			}
		})
	}
}

func TestNewImage(t *testing.T) {
	layerData := "layer bytes"
	layer := Layer{
		Descriptor: descriptorOf(t, layerData),
		DiffID:     descriptorOf(t, layerData).Digest,
		Open:       func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(layerData)), nil },
	}
	config := []byte(`{"rootfs":{"type":"layers","diff_ids":["` + layer.DiffID.String() + `"]}}`)

	img, err := New(config, []Layer{layer}, types.OCIManifestSchema1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
		t.Errorf("media types %s and %s, want OCI ones", m.MediaType, m.Config.MediaType)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	diffID, err := layers[0].DiffID()
	if err != nil || diffID != layer.DiffID {
		t.Errorf("diff ID = %s, %v; want %s", diffID, err, layer.DiffID)
	}

	// A Docker manifest cannot list an OCI layer media type.
	if _, err := New(config, []Layer{layer}, types.DockerManifestSchema2); err == nil {
		t.Errorf("New accepted an OCI layer in a Docker schema 2 manifest")
	}
	raw, _ := img.RawManifest()
	other := layer
	other.Descriptor.Digest = descriptorOf(t, "other").Digest
	if _, err := FromManifest(raw, config, []Layer{other}); err == nil {
		t.Errorf("FromManifest accepted layers that the manifest does not list")
	}
	if _, err := FromManifest(bytes.TrimSuffix(raw, []byte("}")), config, []Layer{layer}); err == nil {
		t.Errorf("FromManifest accepted an invalid manifest")
	}
}

func TestMediaTypeFor(t *testing.T) {
	cases := []struct {
		in, manifest, want types.MediaType
	}{
		{types.DockerLayer, types.OCIManifestSchema1, types.OCILayer},
		{types.OCILayer, types.DockerManifestSchema2, types.DockerLayer},
		{types.OCIUncompressedLayer, types.DockerManifestSchema2, types.DockerUncompressedLayer},
		{types.OCILayerZStd, types.OCIManifestSchema1, types.OCILayerZStd},
	}
	for _, tc := range cases {
		got, err := MediaTypeFor(tc.in, tc.manifest)
		if err != nil || got != tc.want {
			t.Errorf("MediaTypeFor(%s, %s) = %s, %v; want %s", tc.in, tc.manifest, got, err, tc.want)
		}
	}
	if _, err := MediaTypeFor(types.OCILayerZStd, types.DockerManifestSchema2); err == nil {
		t.Errorf("MediaTypeFor accepted a zstd layer in a Docker schema 2 manifest")
	}
}
