package pull

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/kist-project/kist/store"
)

// tarLayer builds a gzip layer from headers; a regular file's content is
// its Linkname field, to keep the table short.
func tarLayer(t *testing.T, headers ...tar.Header) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range headers {
		content := ""
		if h.Typeflag == tar.TypeReg {
			content, h.Linkname = h.Linkname, ""
			h.Size = int64(len(content))
		}
		h.Mode = 0o644
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, content); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return layer
}

// A layer whose hardlink copies a file from the layers below must not be
// shared with an image that has other layers below it: there the copy
// would show the other image's file.
func TestPullLowerCopyNotShared(t *testing.T) {
	requireRoot(t)
	host := startRegistry(t, nil)
	good := tarLayer(t, tar.Header{Typeflag: tar.TypeReg, Name: "data", Linkname: "GOOD"})
	evil := tarLayer(t, tar.Header{Typeflag: tar.TypeReg, Name: "data", Linkname: "EVIL"})
	link := tarLayer(t, tar.Header{Typeflag: tar.TypeLink, Name: "link", Linkname: "data"})

	victim, err := mutate.AppendLayers(empty.Image, good, link)
	if err != nil {
		t.Fatal(err)
	}
	attacker, err := mutate.AppendLayers(empty.Image, evil, link)
	if err != nil {
		t.Fatal(err)
	}
	push(t, host+"/victim:v1", victim)
	push(t, host+"/attacker:v1", attacker)
	st := openStore(t)

	if _, err := Image(context.Background(), st, mustParse(t, host+"/attacker:v1"), Options{}); err != nil {
		t.Fatalf("pull attacker: %v", err)
	}
	img, err := Image(context.Background(), st, mustParse(t, host+"/victim:v1"), Options{})
	if err != nil {
		t.Fatalf("pull victim: %v", err)
	}

	keys := st.LayerKeys(img.Layers)
	top := keys[len(keys)-1]
	if top == img.Layers[len(img.Layers)-1] {
		t.Errorf("the layer with a copied hardlink is stored under its diff ID %s, shared by every image", top)
	}
	got, err := os.ReadFile(filepath.Join(st.LayerDir(top), "diff", "link"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "GOOD" {
		t.Errorf("victim's link reads %q, want GOOD from its own lower layer", got)
	}
	if chain := store.ChainIDs(img.Layers); top != chain[len(chain)-1] {
		t.Errorf("key = %s, want the chain ID %s", top, chain[len(chain)-1])
	}
}
