package pull

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/kist-project/kist/platforms"
)

// platformImage returns a random one-layer image whose config names
// platform p.
func platformImage(t *testing.T, p v1.Platform) v1.Image {
	t.Helper()
	img := randomImage(t, 1)
	config, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	config.OS, config.Architecture, config.Variant = p.OS, p.Architecture, p.Variant
	img, err = mutate.ConfigFile(img, config)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// entry returns an index addendum for img, described with platform p,
// or without a platform field when p is nil.
func entry(img v1.Image, p *v1.Platform) mutate.IndexAddendum {
	return mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: p}}
}

func pushIndex(t *testing.T, ref string, idx v1.ImageIndex) v1.Hash {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	digest, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return digest
}

func configID(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	id, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func mustPlatform(t *testing.T, s string) v1.Platform {
	t.Helper()
	p, err := platforms.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	linuxAMD64 = &v1.Platform{OS: "linux", Architecture: "amd64"}
	linuxARM64 = &v1.Platform{OS: "linux", Architecture: "arm64"}
	linuxARM   = &v1.Platform{OS: "linux", Architecture: "arm"}
)

func TestPullNestedIndex(t *testing.T) {
	requireRoot(t)
	host := startRegistry(t, nil)
	amd, arm := platformImage(t, *linuxAMD64), platformImage(t, *linuxARM64)
	inner := mutate.AppendManifests(empty.Index, entry(amd, linuxAMD64), entry(arm, linuxARM64))
	outer := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: inner})
	pushIndex(t, host+"/nested:v1", outer)
	st := openStore(t)

	got, err := Image(context.Background(), st, mustParse(t, host+"/nested:v1"), Options{Platform: mustPlatform(t, "linux/arm64")})
	if err != nil {
		t.Fatalf("pull arm64 through a nested index: %v", err)
	}
	if want := configID(t, arm); got.ID != want {
		t.Errorf("pulled %s, want the arm64 image %s", got.ID, want)
	}

	_, err = Image(context.Background(), st, mustParse(t, host+"/nested:v1"), Options{Platform: mustPlatform(t, "linux/s390x")})
	if err == nil {
		t.Fatal("pull of a platform the nested index lacks succeeded")
	}
	if !strings.Contains(err.Error(), "linux/amd64, linux/arm64") {
		t.Errorf("error %q does not list the platforms of the inner index", err)
	}
}

func TestPullEntryWithoutPlatform(t *testing.T) {
	requireRoot(t)
	host := startRegistry(t, nil)
	amd, arm := platformImage(t, *linuxAMD64), platformImage(t, *linuxARM64)
	idx := mutate.AppendManifests(empty.Index, entry(arm, linuxARM64), entry(amd, nil))
	pushIndex(t, host+"/noplatform:v1", idx)
	st := openStore(t)

	got, err := Image(context.Background(), st, mustParse(t, host+"/noplatform:v1"), Options{Platform: mustPlatform(t, "amd64")})
	if err != nil {
		t.Fatalf("pull of an entry without a platform field: %v", err)
	}
	if want := configID(t, amd); got.ID != want {
		t.Errorf("pulled %s, want the image whose config names linux/amd64, %s", got.ID, want)
	}
}

func TestPullVariantNormalised(t *testing.T) {
	requireRoot(t)
	host := startRegistry(t, nil)
	arm64, arm := platformImage(t, *linuxARM64), platformImage(t, *linuxARM)
	idx := mutate.AppendManifests(empty.Index, entry(arm64, linuxARM64), entry(arm, linuxARM))
	pushIndex(t, host+"/novariant:v1", idx)

	for _, tt := range []struct {
		platform string
		want     v1.Image
	}{
		{"linux/arm64/v8", arm64},
		{"linux/arm/v7", arm},
		{"ARM64", arm64},
	} {
		got, err := Image(context.Background(), openStore(t), mustParse(t, host+"/novariant:v1"),
			Options{Platform: mustPlatform(t, tt.platform), RequirePlatform: true})
		if err != nil {
			t.Errorf("pull --platform %s: %v", tt.platform, err)
			continue
		}
		if want := configID(t, tt.want); got.ID != want {
			t.Errorf("pull --platform %s got %s, want %s", tt.platform, got.ID, want)
		}
	}
}

func TestPullEmptyIndex(t *testing.T) {
	host := startRegistry(t, nil)
	pushIndex(t, host+"/empty:v1", empty.Index)

	_, err := Image(context.Background(), openStore(t), mustParse(t, host+"/empty:v1"), Options{})
	if err == nil {
		t.Fatal("pull of an empty index succeeded")
	}
	if !strings.Contains(err.Error(), "lists no image") {
		t.Errorf("error %q does not say that the index lists no image", err)
	}
	if strings.Contains(err.Error(), "()") || strings.Contains(err.Error(), ": )") {
		t.Errorf("error %q contains an empty list", err)
	}
}

func TestPullRecordsIndexDigest(t *testing.T) {
	requireRoot(t)
	host := startRegistry(t, nil)
	amd, arm := platformImage(t, *linuxAMD64), platformImage(t, *linuxARM64)
	idx := mutate.AppendManifests(empty.Index, entry(amd, linuxAMD64), entry(arm, linuxARM64))
	indexRef := host + "/multi@" + pushIndex(t, host+"/multi:v1", idx).String()
	st := openStore(t)

	got, err := Image(context.Background(), st, mustParse(t, host+"/multi:v1"), Options{Platform: *linuxAMD64})
	if err != nil {
		t.Fatalf("pull amd64: %v", err)
	}
	manifest, err := amd.Digest()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{indexRef, host + "/multi@" + manifest.String()}
	if !slices.Equal(got.Digests, want) {
		t.Errorf("digests = %v, want %v", got.Digests, want)
	}
	found, err := st.LookupImage(indexRef)
	if err != nil {
		t.Fatalf("look up by the index digest: %v", err)
	}
	if found.ID != configID(t, amd) {
		t.Errorf("the index digest names %s, want the amd64 image", found.ID)
	}

	// The index digest names one image per platform, so it moves to the
	// image pulled last, as a tag does.
	if _, err := Image(context.Background(), st, mustParse(t, indexRef), Options{Platform: *linuxARM64}); err != nil {
		t.Fatalf("pull arm64 by the index digest: %v", err)
	}
	found, err = st.LookupImage(indexRef)
	if err != nil {
		t.Fatalf("look up by the index digest after the arm64 pull: %v", err)
	}
	if found.ID != configID(t, arm) {
		t.Errorf("after the arm64 pull the index digest names %s, want the arm64 image", found.ID)
	}
}
