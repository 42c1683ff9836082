// Package e2e runs the kist binary end to end, as root and as unprivileged
// users, against Debian's registry serving images built from real root
// filesystems.
//
// TestMain builds kist with the release flags, starts /usr/bin/docker-registry
// on 127.0.0.1, builds and pushes the images, and records every missing
// prerequisite. A test that needs a missing one skips, or fails when
// KIST_E2E_REQUIRE=1. The suite must run as root to switch to the test
// users named by KIST_TEST_USERS (default "kisttest kistnosub"), which
// scripts/setup-test-machine creates.
package e2e

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// suite is what TestMain prepared for the tests.
type suite struct {
	// base is a directory of mode 0755 that every test user can reach. It
	// contains the kist binary, the users' homes and the layer files.
	base string
	// kist is the path of the binary under test.
	kist string
	// registry is the host:port of the registry, such as 127.0.0.1:40123.
	registry string
	// identities are the users kist runs as: root and the test users.
	identities []*identity
	busybox    *busyboxImages
	debian     *debianImages
	// missing maps each unmet prerequisite to the reason it is unmet.
	missing map[prerequisite]string
}

// prerequisite is something outside kist that some tests need.
type prerequisite string

const (
	needRoot     prerequisite = "root"
	needUsers    prerequisite = "test users"
	needRegistry prerequisite = "docker-registry"
	needBusybox  prerequisite = "busybox images"
	needDebian   prerequisite = "debian images"
)

// env is the suite that TestMain prepared. Tests only read it.
var env suite

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("e2e: skipped in -short mode")
		os.Exit(0)
	}
	os.Exit(runSuite(m))
}

// runSuite sets the suite up, runs the tests and tears it down, so that
// deferred cleanups run before the process exits.
func runSuite(m *testing.M) int {
	env.missing = map[prerequisite]string{}
	base, err := os.MkdirTemp("", "kist-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer removeTree(base)
	// MkdirTemp creates mode 0700, but the test users must reach the binary.
	if err := os.Chmod(base, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	env.base = base

	if env.kist, err = buildKist(base); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build kist:", err)
		return 1
	}
	stop := setupRegistry(base)
	defer stop()
	setupIdentities(base)
	setupImages(base)

	reportMissing()
	return m.Run()
}

// markMissing records that p is unmet and why.
func markMissing(p prerequisite, reason string) {
	if old, ok := env.missing[p]; ok {
		reason = old + "; " + reason
	}
	env.missing[p] = reason
}

func reportMissing() {
	for _, p := range sortedMissing() {
		fmt.Fprintf(os.Stderr, "e2e: missing %s: %s\n", p, env.missing[p])
	}
}

func sortedMissing() []prerequisite {
	var ps []prerequisite
	for p := range env.missing {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	return ps
}

// requireAll reports whether a missing prerequisite fails the suite
// instead of skipping the tests that need it.
func requireAll() bool {
	return os.Getenv("KIST_E2E_REQUIRE") == "1"
}

// need skips t, or fails it under KIST_E2E_REQUIRE=1, unless every
// prerequisite in ps is met.
func need(t testing.TB, ps ...prerequisite) {
	t.Helper()
	for _, p := range ps {
		reason, missing := env.missing[p]
		if !missing {
			continue
		}
		if requireAll() {
			t.Fatalf("missing %s: %s", p, reason)
		}
		t.Skipf("missing %s: %s (set KIST_E2E_REQUIRE=1 to fail instead)", p, reason)
	}
}

// TestPrerequisites fails under KIST_E2E_REQUIRE=1 for every missing
// prerequisite, including those no other test names, such as a test user.
func TestPrerequisites(t *testing.T) {
	for _, p := range sortedMissing() {
		t.Run(string(p), func(t *testing.T) { need(t, p) })
	}
}

// removeTree removes dir even where tests or kist left directories
// without write permission, such as an unpacked read-only directory.
func removeTree(dir string) {
	if os.RemoveAll(dir) == nil {
		return
	}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: remove", dir+":", err)
	}
}
