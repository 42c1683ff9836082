package e2e

import (
	"testing"

	ti "github.com/kist-project/kist/internal/testimage"
)

// missingInterpreter is the #! interpreter of /script in the image of
// TestRunCommandLookup, a path that the image does not contain.
const missingInterpreter = "/usr/bin/python3"

// TestRunCommandLookup checks how kist finds the command in an image
// whose PATH is /a:/bin, where /a/sh is a directory, and which contains
// /script, a script whose interpreter is missing. As in execvp, a PATH
// entry that is not an executable file is skipped, and a missing
// interpreter is a missing command (exit 127).
func TestRunCommandLookup(t *testing.T) {
	need(t, needRegistry, needBusybox)
	cfg := busyboxConfig()
	cfg.Env = []string{"PATH=/a:/bin"}
	top := newLayer(t,
		ti.Dir("a", 0o755),
		ti.Dir("a/sh", 0o755),
		ti.File("script", "#!"+missingInterpreter+"\nprint('unreachable')\n", 0o755),
	)
	ref := pushTestImage(t, "kist-e2e/lookup", newImage(t, cfg, busyboxLayer(t), top))

	forEachIdentity(t, func(t *testing.T, id *identity) {
		pulled(t, id, ref)

		t.Run("directory in PATH", func(t *testing.T) {
			r := runKist(t, id, "run", "--rm", ref, "sh", "-c", "echo ok")
			expect(t, r, 0, "ok\n")
			expectQuiet(t, r)
		})
		t.Run("missing interpreter", func(t *testing.T) {
			r := runKist(t, id, "run", "--rm", ref, "/script")
			expect(t, r, 127, "")
			expectOneLine(t, r, missingInterpreter)
		})
		expectNoLeftovers(t, id.store())
	})
}
