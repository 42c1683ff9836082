package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestPush pushes a pulled image under a new name, in its own format and
// as OCI, then checks with skopeo and runs it from a fresh store.
func TestPush(t *testing.T) {
	need(t, needBusybox)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		src := env.busybox.ref(tagLatest)
		imageID := strings.TrimSpace(mustSucceed(t, id, "pull", "-q", src).stdout)

		r := runKist(t, id, "push", strings.TrimPrefix(imageID, "sha256:")[:12])
		if r.code != 125 {
			t.Errorf("push of an ID without a destination: exit %d, want 125", r.code)
		}
		expectOneLine(t, r, "names no repository")

		for _, tc := range []struct{ format, mediaType string }{
			{"", "application/vnd.docker.distribution.manifest.v2+json"},
			{"oci", "application/vnd.oci.image.manifest.v1+json"},
		} {
			dest := env.registry + "/pushed/" + id.name + ":" + tc.format + "x"
			args := []string{"push", "-q"}
			if tc.format != "" {
				args = append(args, "--format", tc.format)
			}
			r := mustSucceed(t, id, append(args, src, dest)...)
			expectQuiet(t, r)
			digest := strings.TrimPrefix(strings.TrimSpace(r.stdout), env.registry+"/pushed/"+id.name+"@")
			if !strings.HasPrefix(digest, "sha256:") {
				t.Fatalf("push printed %q, want REPOSITORY@DIGEST", r.stdout)
			}

			var inspect struct{ Digest string }
			out := skopeoRun(t, "inspect", "--tls-verify=false", "docker://"+dest)
			if err := json.Unmarshal([]byte(out), &inspect); err != nil {
				t.Fatal(err)
			}
			if inspect.Digest != digest {
				t.Errorf("registry digest %s, want the printed %s", inspect.Digest, digest)
			}
			var raw struct{ MediaType string }
			if err := json.Unmarshal([]byte(skopeoRun(t, "inspect", "--tls-verify=false", "--raw", "docker://"+dest)), &raw); err != nil {
				t.Fatal(err)
			}
			if raw.MediaType != tc.mediaType {
				t.Errorf("manifest media type %s, want %s", raw.MediaType, tc.mediaType)
			}

			fresh := id.fresh(t)
			r = runKist(t, fresh, "run", "--rm", dest, "echo", "pushed")
			expect(t, r, 0, "pushed\n")
		}

		r = runKist(t, id, "push", "no-such-image:1", env.registry+"/x:1")
		if r.code != 125 {
			t.Errorf("push of a missing image: exit %d, want 125", r.code)
		}
		expectOneLine(t, r, "no such image")
	})
}
