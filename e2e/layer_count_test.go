package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	ti "github.com/kist-project/kist/internal/testimage"
)

// TestRunRepeatedLayer runs images whose manifests list one layer twice,
// as a build step that changes nothing produces. overlayfs rejects a
// lower directory given twice with ELOOP ("too many levels of symbolic
// links"), so kist must mount each layer once.
func TestRunRepeatedLayer(t *testing.T) {
	need(t, needRegistry, needBusybox)
	base := busyboxLayer(t)
	emptyLayer := newLayer(t)
	fileLayer := newLayer(t, ti.Dir("etc", 0o755), ti.File("etc/repeated", "repeated\n", 0o644))
	cfg := busyboxConfig()
	tests := []struct {
		name   string
		ref    string
		args   []string
		stdout string
	}{
		{
			name:   "empty layer",
			ref:    pushTestImage(t, "kist-e2e/repeated-empty", newImage(t, cfg, base, emptyLayer, emptyLayer)),
			args:   []string{"echo", "ok"},
			stdout: "ok\n",
		},
		{
			name:   "file layer",
			ref:    pushTestImage(t, "kist-e2e/repeated-file", newImage(t, cfg, base, fileLayer, fileLayer)),
			args:   []string{"cat", "/etc/repeated"},
			stdout: "repeated\n",
		},
	}
	forEachIdentity(t, func(t *testing.T, id *identity) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				pulled(t, id, tt.ref)
				r := runKist(t, id, append([]string{"run", "--rm", tt.ref}, tt.args...)...)
				expect(t, r, 0, tt.stdout)
				expectQuiet(t, r)
				expectNoLeftovers(t, id.store())
			})
		}
	})
}

// manyLayers is the layer count of TestRunManyLayers. mount(2) takes the
// overlay options as one string shorter than a page (4096 bytes), and
// each lower directory, named sha256/HEX/diff, adds 77 bytes, so 70 layers
// cannot fit. fsconfig's lowerdir+ (Linux 6.8 and later) adds them one at
// a time instead.
const manyLayers = 70

// TestRunManyLayers runs an image of busybox plus manyLayers layers, each
// adding one file to /layers, and lists that directory in the container.
func TestRunManyLayers(t *testing.T) {
	need(t, needRegistry, needBusybox)
	layers := []v1.Layer{busyboxLayer(t)}
	var want strings.Builder
	for i := 0; i < manyLayers; i++ {
		name := fmt.Sprintf("%02d", i)
		layers = append(layers, newLayer(t,
			ti.Dir("layers", 0o755),
			ti.File("layers/"+name, name+"\n", 0o644),
		))
		fmt.Fprintln(&want, name)
	}
	ref := pushTestImage(t, "kist-e2e/many-layers", newImage(t, busyboxConfig(), layers...))

	forEachIdentity(t, func(t *testing.T, id *identity) {
		pulled(t, id, ref)
		r := runKist(t, id, "run", "--rm", ref, "ls", "/layers")
		expect(t, r, 0, want.String())
		expectQuiet(t, r)
		expectNoLeftovers(t, id.store())

		// fsconfig(2) takes paths of at most 255 bytes, and a lower
		// directory's absolute path in this store is longer than that.
		deep := filepath.Join(id.home, strings.Repeat("d", 200), "store")
		r = runKist(t, id, "--root", deep, "run", "--rm", ref, "ls", "/layers")
		expect(t, r, 0, want.String())
		expectNoLeftovers(t, deep)
	})
}

// TestLayerLimit pulls an image of one layer more than overlayfs stacks.
// The pull must warn and succeed, and the run must fail with an error
// that names the layer count and the limit, not the store's filesystem.
func TestLayerLimit(t *testing.T) {
	need(t, needRegistry)
	const count = 501
	var layers []v1.Layer
	for i := 0; i < count; i++ {
		layers = append(layers, newLayer(t, ti.File(fmt.Sprintf("f%03d", i), "", 0o644)))
	}
	cfg := v1.Config{Cmd: []string{"/f000"}}
	ref := pushTestImage(t, "kist-e2e/layer-limit", newImage(t, cfg, layers...))

	// The count is checked before the mount, the same way for every user,
	// and a pull of 501 layers takes half a minute, so root alone runs it.
	id := env.identities[0].fresh(t)
	r := runKist(t, id, "pull", "-q", ref)
	if r.code != 0 {
		t.Fatalf("pull: exit status = %d, want 0\n%s", r.code, r)
	}
	expectOneLine(t, r, "has 501 layers, more than the 500 that overlayfs stacks")

	r = runKist(t, id, "run", "--rm", "--pull", "never", ref)
	if r.code != 125 {
		t.Errorf("run: exit status = %d, want 125\n%s", r.code, r)
	}
	expectOneLine(t, r, "the image has 501 layers to stack, more than the 500 that overlayfs allows")
	expectNoLeftovers(t, id.store())
}
