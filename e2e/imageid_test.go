package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestRunByImageID runs a stored image by the short ID that `kist images
// -q` prints and by the full ID that `kist pull` prints. Neither is a
// repository name, so kist must not try to pull them.
func TestRunByImageID(t *testing.T) {
	need(t, needRegistry, needBusybox)
	ref := env.busybox.ref(tagLatest)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		full := strings.TrimSuffix(mustSucceed(t, id, "pull", ref).stdout, "\n")
		if full != env.busybox.ids[tagLatest] {
			t.Fatalf("kist pull printed %q, want the image ID %s", full, env.busybox.ids[tagLatest])
		}
		short := strings.TrimSuffix(mustSucceed(t, id, "images", "-q").stdout, "\n")
		if !shortIDLine.MatchString(short) {
			t.Fatalf("kist images -q printed %q, want one 12-digit hex image ID", short)
		}

		for _, c := range []struct{ name, arg string }{{"short ID", short}, {"full ID", full}} {
			t.Run(c.name, func(t *testing.T) {
				r := runKist(t, id, "run", "--rm", c.arg, "echo", "ok")
				expect(t, r, 0, "ok\n")
				expectQuiet(t, r)
			})
		}
		expectNoLeftovers(t, id.store())
	})
}

// imageRefsJSON is the part of an object of `kist images --format json`
// that names the image.
type imageRefsJSON struct {
	ID          string   `json:"Id"`
	RepoTags    []string `json:"RepoTags"`
	RepoDigests []string `json:"RepoDigests"`
}

// TestPullByDigestNoTag pulls busybox by its manifest digest. As in
// docker, such a pull records the digest reference and adds no tag.
func TestPullByDigestNoTag(t *testing.T) {
	need(t, needRegistry, needBusybox)
	tagged, err := name.ParseReference(env.busybox.ref(tagLatest))
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(tagged)
	if err != nil {
		t.Fatalf("read manifest digest of %s: %v", tagged, err)
	}
	byDigest := env.registry + "/busybox@" + desc.Digest.String()

	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		r := runKist(t, id, "pull", byDigest)
		expect(t, r, 0, env.busybox.ids[tagLatest]+"\n")

		r = mustSucceed(t, id, "images", "--format", "json")
		var images []imageRefsJSON
		if err := json.Unmarshal([]byte(r.stdout), &images); err != nil {
			t.Fatalf("output is not a JSON array of images: %v\n%s", err, r.stdout)
		}
		want := []imageRefsJSON{{
			ID:          env.busybox.ids[tagLatest],
			RepoTags:    []string{},
			RepoDigests: []string{byDigest},
		}}
		if diff := cmp.Diff(want, images); diff != "" {
			t.Errorf("kist images --format json (-want +got):\n%s", diff)
		}
	})
}
