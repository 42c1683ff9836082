package e2e

import (
	"archive/tar"
	"testing"
	"time"

	ti "github.com/kist-project/kist/internal/testimage"
)

// TestRunPasswdFIFO runs an image whose /etc/passwd is a FIFO. Opening it
// to look up the user would block until another process writes to it,
// so kist must treat it as absent.
func TestRunPasswdFIFO(t *testing.T) {
	need(t, needRegistry, needBusybox)
	entries, err := busyboxEntries()
	if err != nil {
		t.Fatal(err)
	}
	replaced := false
	for i, e := range entries {
		if e.Name == "etc/passwd" {
			entries[i] = ti.Entry{Name: e.Name, Type: tar.TypeFifo, Mode: 0o644}
			replaced = true
		}
	}
	if !replaced {
		t.Fatal("the busybox entries have no etc/passwd to replace")
	}
	ref := pushTestImage(t, "kist-e2e/passwd-fifo", newImage(t, busyboxConfig(), newLayer(t, entries...)))

	forEachIdentity(t, func(t *testing.T, id *identity) {
		pulled(t, id, ref)
		// A blocked open hangs kist, so the timeout turns a regression
		// into a failure instead of a stuck suite. The test -p shows
		// that the FIFO reached the container and the case was real.
		script := "test -p /etc/passwd && echo ok"
		r := id.run(t, call{args: []string{"run", "--rm", ref, "sh", "-c", script}, timeout: time.Minute})
		expect(t, r, 0, "ok\n")
		expectNoLeftovers(t, id.store())
	})
}
