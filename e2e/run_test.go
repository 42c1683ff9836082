package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunExitStatus(t *testing.T) {
	need(t, needRegistry, needBusybox)
	ref := env.busybox.ref(tagLatest)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		pulled(t, id, ref)
		r := runKist(t, id, "run", "--rm", ref, "sh", "-c", "id -u; exit 3")
		expect(t, r, 3, "0\n")
		expectQuiet(t, r)
		expectNoLeftovers(t, id.store())
	})
}

func TestRunDebianFile(t *testing.T) {
	need(t, needRegistry, needDebian)
	want, err := os.ReadFile(filepath.Join(env.debian.rootfs, "etc/debian_version"))
	if err != nil {
		t.Fatal(err)
	}
	ref := env.debian.ref(tagBookworm)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		pulled(t, id, ref)
		r := runKist(t, id, "run", "--rm", ref, "cat", "/etc/debian_version")
		expect(t, r, 0, string(want))
		expectQuiet(t, r)
		expectNoLeftovers(t, id.store())
	})
}

// TestRunPullsMissingImage runs an image that the store lacks.
func TestRunPullsMissingImage(t *testing.T) {
	need(t, needRegistry, needBusybox)
	ref := env.busybox.ref(tagLatest)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		r := runKist(t, id, "run", "--rm", ref, "echo", "pulled")
		expect(t, r, 0, "pulled\n")
		expectNoLeftovers(t, id.store())

		r = runKist(t, id, "images", "-q")
		expect(t, r, 0, shortID(env.busybox.ids[tagLatest])+"\n")
	})
}

// TestRunOptions checks -e, -w and --entrypoint, and that the image's
// Entrypoint, Cmd, Env and WorkingDir apply where no option overrides them.
func TestRunOptions(t *testing.T) {
	need(t, needRegistry, needBusybox)
	plain := env.busybox.ref(tagLatest)
	configured := env.busybox.ref(tagConfig)
	tests := []struct {
		name   string
		args   []string
		stdout string
	}{
		{"env option", []string{"-e", "K=V", plain, "sh", "-c", "echo $K"}, "V\n"},
		{"workdir option", []string{"-w", "/tmp", plain, "pwd"}, "/tmp\n"},
		{"image entrypoint and cmd", []string{configured}, "entry default\n"},
		{"args replace cmd", []string{configured, "one", "two"}, "entry one two\n"},
		{"image env and workdir", []string{"--entrypoint", "/bin/sh", configured, "-c", "pwd; echo $GREETING"}, "/srv/app\nfrom-image\n"},
		{"env option overrides image", []string{"-e", "GREETING=option", "--entrypoint", "/bin/sh", configured, "-c", "echo $GREETING"}, "option\n"},
		{"workdir option overrides image", []string{"-w", "/tmp", "--entrypoint", "/bin/pwd", configured}, "/tmp\n"},
		{"entrypoint drops image cmd", []string{"--entrypoint", "/bin/echo", configured}, "\n"},
	}
	forEachIdentity(t, func(t *testing.T, id *identity) {
		pulled(t, id, plain)
		pulled(t, id, configured)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := runKist(t, id, append([]string{"run", "--rm"}, tt.args...)...)
				expect(t, r, 0, tt.stdout)
				expectQuiet(t, r)
			})
		}
		expectNoLeftovers(t, id.store())
	})
}

// TestRunImageUser runs an image whose config sets User "nobody" and a
// working directory owned by nobody.
func TestRunImageUser(t *testing.T) {
	need(t, needRegistry, needBusybox)
	ref := env.busybox.ref(tagNobody)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		pulled(t, id, ref)
		r := runKist(t, id, "run", "--rm", ref)
		if id.subIDs {
			expect(t, r, 0, "65534\n65534\n/srv/app\n")
			expectQuiet(t, r)
		} else {
			// Without subordinate IDs the container's user namespace maps
			// only uid 0, so kist cannot switch to nobody. It must say so
			// instead of running the command as another user.
			expect(t, r, 125, "")
			expectOneLine(t, r, "kist: ")
			if !strings.Contains(r.stderr, "65534") && !strings.Contains(r.stderr, "nobody") {
				t.Errorf("stderr %q names neither uid 65534 nor user nobody", r.stderr)
			}
		}
		expectNoLeftovers(t, id.store())
	})
}

// TestRunRemoveLeavesNothing checks --rm in a store that contains nothing
// else: no container directory and no temporary file remain, and what the
// container wrote is gone from the next container.
func TestRunRemoveLeavesNothing(t *testing.T) {
	need(t, needRegistry, needBusybox)
	ref := env.busybox.ref(tagLatest)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		pulled(t, id, ref)
		r := runKist(t, id, "run", "--rm", ref, "sh", "-c", "echo data > /tmp/file; cat /tmp/file")
		expect(t, r, 0, "data\n")
		expectNoLeftovers(t, id.store())

		r = runKist(t, id, "run", "--rm", ref, "test", "-e", "/tmp/file")
		expect(t, r, 1, "")
		expectNoLeftovers(t, id.store())
	})
}
