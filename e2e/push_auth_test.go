package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestAuthPush pushes to the registry that needs a login and trusts a
// private CA: the push is denied before kist login and succeeds after it,
// and the pushed image pulls into an empty store and runs.
func TestAuthPush(t *testing.T) {
	reg := startAuthRegistry(t)
	need(t, needBusybox)
	src := env.busybox.ref(tagLatest)
	certDir := "--cert-dir=" + reg.certDir

	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		pulled(t, id, src)
		dst := reg.addr + "/pushed/" + id.name + ":1"
		mustSucceed(t, id, "tag", src, dst)

		r := runKist(t, id, "push", certDir, dst)
		expectNoSecret(t, r, reg)
		expect(t, r, 125, "")
		if want := "denied access (HTTP 401); log in with kist login " + reg.addr; !strings.Contains(r.stderr, want) {
			t.Errorf("push without login said %q, want it to contain %q", r.stderr, want)
		}

		r = id.run(t, call{args: []string{"login", "-u", reg.user, "--password-stdin", certDir, reg.addr}, stdin: reg.password + "\n"})
		expect(t, r, 0, "Login Succeeded\n")
		r = runKist(t, id, "--debug", "push", certDir, dst)
		expectNoSecret(t, r, reg)
		expect(t, r, 0, r.stdout)

		other := filepath.Join(id.home, "other-store")
		r = runKist(t, id, "--root", other, "run", "--rm", certDir, dst, "echo", "pushed")
		expect(t, r, 0, "pushed\n")
	})
}
