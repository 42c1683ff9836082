package e2e

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	ti "github.com/kist-project/kist/internal/testimage"
	"github.com/kist-project/kist/platforms"
)

// platformMarked returns a busybox image whose Cmd prints marker and
// whose config names platform p. Its busybox binary is the host's, so it
// runs whatever platform the config names.
func platformMarked(t *testing.T, base v1.Layer, marker string, p v1.Platform) v1.Image {
	t.Helper()
	img := markedImage(t, base, marker)
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

// addendum describes img in an index with platform p, or with no
// platform field when p is nil.
func addendum(img v1.Image, p *v1.Platform) mutate.IndexAddendum {
	return mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: p}}
}

// pushTestIndex pushes idx to the suite's registry as repo:1 and returns
// that reference and the index digest reference.
func pushTestIndex(t *testing.T, repo string, idx v1.ImageIndex) (tagged, byDigest string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tagged = env.registry + "/" + repo + ":1"
	if err := ti.Push(ctx, tagged, idx); err != nil {
		t.Fatalf("push test index: %v", err)
	}
	digest, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return tagged, env.registry + "/" + repo + "@" + digest.String()
}

// multiPlatformIndex pushes an index of a host image that prints "host"
// and an image for ti.OtherPlatform that prints "other", and returns
// the references of pushTestIndex.
func multiPlatformIndex(t *testing.T, repo string) (tagged, byDigest string) {
	t.Helper()
	base := busyboxLayer(t)
	host, other := ti.HostPlatform(), ti.OtherPlatform()
	idx := mutate.AppendManifests(empty.Index,
		addendum(platformMarked(t, base, "host", host), &host),
		addendum(platformMarked(t, base, "other", other), &other))
	return pushTestIndex(t, repo, idx)
}

func inspectDigests(t *testing.T, id *identity, ref string) []string {
	t.Helper()
	r := mustSucceed(t, id, "image", "inspect", ref)
	var inspected []struct {
		RepoDigests []string `json:"RepoDigests"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &inspected); err != nil || len(inspected) != 1 {
		t.Fatalf("kist image inspect %s: %v\n%s", ref, err, r.stdout)
	}
	return inspected[0].RepoDigests
}

// TestIndexDigestFindsImage pulls an index by tag and uses the index
// digest, which docker lists in RepoDigests, in every command that
// takes an image.
func TestIndexDigestFindsImage(t *testing.T) {
	need(t, needRegistry, needBusybox)
	tagged, byDigest := multiPlatformIndex(t, "platform/digest")
	root := env.identities[0].fresh(t)
	mustSucceed(t, root, "pull", "-q", tagged)

	if digests := inspectDigests(t, root, tagged); !slices.Contains(digests, byDigest) {
		t.Errorf("RepoDigests = %v, want it to contain the index digest %s", digests, byDigest)
	}
	r := runKist(t, root, "run", "--rm", "--pull", "never", byDigest)
	expect(t, r, 0, "host\n")
	mustSucceed(t, root, "tag", byDigest, "renamed:1")
	mustSucceed(t, root, "save", "-o", filepath.Join(t.TempDir(), "saved.tar"), byDigest)
	mustSucceed(t, root, "rmi", byDigest)
	if digests := inspectDigests(t, root, tagged); slices.Contains(digests, byDigest) {
		t.Errorf("RepoDigests after rmi of the index digest = %v, want it gone", digests)
	}
}

// TestRunPullNeverOtherPlatform runs a stored host image with --platform
// naming another platform. With --pull never that is docker's error, and
// with --pull missing kist pulls the other platform's image.
func TestRunPullNeverOtherPlatform(t *testing.T) {
	need(t, needRegistry, needBusybox)
	tagged, _ := multiPlatformIndex(t, "platform/never")
	root := env.identities[0].fresh(t)
	mustSucceed(t, root, "pull", "-q", tagged)
	other := ti.OtherPlatform().OS + "/" + ti.OtherPlatform().Architecture

	r := runKist(t, root, "run", "--rm", "--pull", "never", "--platform", other, tagged)
	expect(t, r, 125, "")
	expectOneLine(t, r, "was found but does not match the specified platform: wanted "+other+
		", actual: "+platforms.Format(ti.HostPlatform()))

	r = runKist(t, root, "run", "--rm", "-q", "--pull", "missing", "--platform", other, tagged)
	expect(t, r, 0, "other\n")
}

// TestRunNestedIndex runs images from an index whose entry is another
// index, and from an index entry without a platform field.
func TestRunNestedIndex(t *testing.T) {
	need(t, needRegistry, needBusybox)
	base := busyboxLayer(t)
	host, other := ti.HostPlatform(), ti.OtherPlatform()
	inner := mutate.AppendManifests(empty.Index,
		addendum(platformMarked(t, base, "other", other), &other),
		addendum(platformMarked(t, base, "nested", host), &host))
	nested, _ := pushTestIndex(t, "platform/nested", mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: inner}))
	noPlatform, _ := pushTestIndex(t, "platform/noplatform", mutate.AppendManifests(empty.Index,
		addendum(platformMarked(t, base, "other", other), &other),
		addendum(platformMarked(t, base, "unlabelled", host), nil)))
	root := env.identities[0].fresh(t)

	r := runKist(t, root, "run", "--rm", "-q", nested)
	expect(t, r, 0, "nested\n")
	r = runKist(t, root, "run", "--rm", "-q", noPlatform)
	expect(t, r, 0, "unlabelled\n")
}

// TestPullEmptyIndex pulls an index that lists no image.
func TestPullEmptyIndex(t *testing.T) {
	need(t, needRegistry)
	tagged, _ := pushTestIndex(t, "platform/empty", empty.Index)
	root := env.identities[0].fresh(t)

	r := runKist(t, root, "pull", "-q", tagged)
	expect(t, r, 125, "")
	expectOneLine(t, r, "lists no image for any platform")
	if strings.Contains(r.stderr, "()") || strings.Contains(r.stderr, ": )") {
		t.Errorf("stderr %q lists no platforms in an empty list", r.stderr)
	}
}

// TestPlatformSpellings passes --platform as docker users write it: an
// architecture alone, in capitals, and with the default variant written
// out or left off.
func TestPlatformSpellings(t *testing.T) {
	need(t, needRegistry, needBusybox)
	tagged, _ := multiPlatformIndex(t, "platform/spelling")
	base := busyboxLayer(t)
	arm64 := v1.Platform{OS: "linux", Architecture: "arm64"}
	arm := v1.Platform{OS: "linux", Architecture: "arm"}
	noVariant, _ := pushTestIndex(t, "platform/novariant", mutate.AppendManifests(empty.Index,
		addendum(platformMarked(t, base, "arm64", arm64), &arm64),
		addendum(platformMarked(t, base, "arm", arm), &arm)))
	root := env.identities[0].fresh(t)
	host := ti.HostPlatform()

	for _, spelling := range []string{host.Architecture, strings.ToUpper(host.OS + "/" + host.Architecture)} {
		r := runKist(t, root, "run", "--rm", "-q", "--platform", spelling, tagged)
		expect(t, r, 0, "host\n")
	}
	for _, spelling := range []string{"linux/arm64/v8", "linux/arm/v7"} {
		r := runKist(t, root, "pull", "-q", "--platform", spelling, noVariant)
		if r.code != 0 {
			t.Errorf("kist pull --platform %s of an index without variants: %s", spelling, r)
		}
	}
	r := runKist(t, root, "pull", "-q", "--platform", "linux/s390x", noVariant)
	expect(t, r, 125, "")
	expectOneLine(t, r, "has no image for platform linux/s390x (the index offers: linux/arm64, linux/arm)")
}

// TestRunWarnsOtherPlatform runs an image whose config names another
// platform than the host's without --platform, which docker warns about.
func TestRunWarnsOtherPlatform(t *testing.T) {
	need(t, needRegistry, needBusybox)
	other := ti.OtherPlatform()
	ref := pushTestImage(t, "platform/warn", platformMarked(t, busyboxLayer(t), "other", other))
	root := env.identities[0].fresh(t)
	mustSucceed(t, root, "pull", "-q", "--platform", platforms.Format(other), ref)

	r := runKist(t, root, "run", "--rm", ref)
	expect(t, r, 0, "other\n")
	expectOneLine(t, r, "kist: warning: the platform of image "+ref+" ("+platforms.Format(other)+") does not match the host platform")

	r = runKist(t, root, "run", "--rm", "--platform", platforms.Format(other), ref)
	expect(t, r, 0, "other\n")
	expectQuiet(t, r)
}
