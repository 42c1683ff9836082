package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// identity is a user that kist runs as.
type identity struct {
	// name is "root" or the user's login name.
	name     string
	uid, gid uint32
	// subIDs reports whether more IDs than the user's own exist inside
	// kist's user namespace: true for root, and for a user with ranges in
	// /etc/subuid and /etc/subgid while newuidmap is installed.
	subIDs bool
	// home is the HOME of every command, a fresh directory of mode 0700
	// owned by the user. The default store lives below it.
	home string
}

// store returns the default store of the identity, where kist keeps
// images and containers when neither --root nor KIST_ROOT is set.
func (id *identity) store() string {
	return filepath.Join(id.home, ".local", "share", "kist")
}

// environ returns the environment of a kist command: a fixed PATH, the
// identity's HOME, USER and LOGNAME, no XDG_* variables, and extra.
func (id *identity) environ(extra ...string) []string {
	return append([]string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + id.home,
		"USER=" + id.name,
		"LOGNAME=" + id.name,
	}, extra...)
}

// testUsers returns the names in KIST_TEST_USERS, or the default pair
// that scripts/setup-test-machine creates.
func testUsers() []string {
	if v, ok := os.LookupEnv("KIST_TEST_USERS"); ok {
		return strings.Fields(v)
	}
	return []string{"kisttest", "kistnosub"}
}

// setupIdentities fills env.identities: root and the test users when the
// suite runs as root, or else the calling user alone.
func setupIdentities(base string) {
	if os.Geteuid() != 0 {
		reason := fmt.Sprintf("the suite runs as uid %d; running kist as root and as other users needs root", os.Geteuid())
		markMissing(needRoot, reason)
		markMissing(needUsers, reason)
		addIdentity(base, currentIdentity())
		return
	}
	addIdentity(base, &identity{name: "root", subIDs: true})
	for _, name := range testUsers() {
		id, err := lookupIdentity(name)
		if err != nil {
			markMissing(needUsers, fmt.Sprintf("%v; run scripts/setup-test-machine as root", err))
			continue
		}
		addIdentity(base, id)
	}
}

func addIdentity(base string, id *identity) {
	home, err := newHome(base, id)
	if err != nil {
		markMissing(needUsers, fmt.Sprintf("home for %s: %v", id.name, err))
		return
	}
	id.home = home
	env.identities = append(env.identities, id)
}

func currentIdentity() *identity {
	name := strconv.Itoa(os.Getuid())
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return &identity{
		name:   name,
		uid:    uint32(os.Getuid()),
		gid:    uint32(os.Getgid()),
		subIDs: hasSubIDs(name, os.Getuid()),
	}
}

func lookupIdentity(name string) (*identity, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, err
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: uid %q: %w", name, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: gid %q: %w", name, u.Gid, err)
	}
	return &identity{
		name:   name,
		uid:    uint32(uid),
		gid:    uint32(gid),
		subIDs: hasSubIDs(name, int(uid)),
	}, nil
}

// newHome creates a fresh home directory for id under base.
func newHome(base string, id *identity) (string, error) {
	home, err := os.MkdirTemp(base, "home-"+id.name+"-")
	if err != nil {
		return "", err
	}
	if err := os.Chown(home, int(id.uid), int(id.gid)); err != nil && os.Geteuid() == 0 {
		return "", err
	}
	return home, os.Chmod(home, 0o700)
}

// fresh returns a copy of id with a new, empty home and so an empty
// default store. The home is removed when t ends.
func (id *identity) fresh(t testing.TB) *identity {
	t.Helper()
	home, err := newHome(env.base, id)
	if err != nil {
		t.Fatalf("create home for %s: %v", id.name, err)
	}
	t.Cleanup(func() { removeTree(home) })
	copied := *id
	copied.home = home
	return &copied
}

// hasSubIDs reports whether the user has subordinate uids and gids and
// the newuidmap helper that kist needs to use them.
func hasSubIDs(name string, uid int) bool {
	if _, err := exec.LookPath("newuidmap"); err != nil {
		return false
	}
	keys := []string{name, strconv.Itoa(uid)}
	return hasRange("/etc/subuid", keys) && hasRange("/etc/subgid", keys)
}

// hasRange reports whether path grants a non-empty range to any of keys.
func hasRange(path string, keys []string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.Split(strings.TrimSpace(scanner.Text()), ":")
		if len(fields) != 3 || fields[2] == "0" {
			continue
		}
		for _, k := range keys {
			if fields[0] == k {
				return true
			}
		}
	}
	return false
}

// forEachIdentity runs f as a subtest named after each identity.
func forEachIdentity(t *testing.T, f func(t *testing.T, id *identity)) {
	t.Helper()
	if len(env.identities) == 0 {
		t.Fatal("no identity to run kist as")
	}
	for _, id := range env.identities {
		t.Run(id.name, func(t *testing.T) { f(t, id) })
	}
}
