package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestLockAfterLockFileRemoved has garbage collection remove a layer's
// lock file while another locker waits on it. The waiter must then lock
// the new file at the path, so a third locker finds the lock held.
func TestLockAfterLockFileRemoved(t *testing.T) {
	st := openTest(t)
	diffID := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}
	name := "layer-" + diffID.Hex
	path := filepath.Join(st.Root(), "locks", name+".lock")

	collector, free, err := st.tryLock(name)
	if err != nil || !free {
		t.Fatalf("tryLock: free %v, error %v", free, err)
	}
	waiter := make(chan *Lock)
	go func() {
		l, err := st.LockLayer(diffID)
		if err != nil {
			t.Errorf("LockLayer: %v", err)
		}
		waiter <- l
	}()
	waitForBlockedFlock(t, path)

	// What removeLayerLocks does to a free lock file.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	collector.Unlock()
	held := <-waiter
	defer held.Unlock()

	other, free, err := st.tryLock(name)
	if err != nil {
		t.Fatalf("tryLock: %v", err)
	}
	if free {
		other.Unlock()
		t.Fatal("a second locker took the layer lock while the waiter held it")
	}
}

// waitForBlockedFlock waits until /proc/locks lists a process blocked on
// the flock of the file at path.
func waitForBlockedFlock(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	inode := fmt.Sprintf(":%d ", fi.Sys().(*syscall.Stat_t).Ino)
	for start := time.Now(); time.Since(start) < time.Minute; time.Sleep(time.Millisecond) {
		locks, err := os.ReadFile("/proc/locks")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(locks), "\n") {
			if strings.Contains(line, "->") && strings.Contains(line, inode) {
				return
			}
		}
	}
	t.Fatal("no locker blocked on the lock file within a minute")
}

// TestCollectGarbageRemovesLayerLocks checks that garbage collection
// removes free layer lock files and keeps held ones.
func TestCollectGarbageRemovesLayerLocks(t *testing.T) {
	st := openTest(t)
	free := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("01", 32)}
	held := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("02", 32)}
	l, err := st.LockLayer(free)
	if err != nil {
		t.Fatal(err)
	}
	l.Unlock()
	h, err := st.LockLayer(held)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Unlock()

	if _, err := st.CollectGarbage(); err != nil {
		t.Fatalf("CollectGarbage: %v", err)
	}
	locks := filepath.Join(st.Root(), "locks")
	if _, err := os.Stat(filepath.Join(locks, "layer-"+free.Hex+".lock")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lock file of the free layer: stat error %v, want it removed", err)
	}
	if _, err := os.Stat(filepath.Join(locks, "layer-"+held.Hex+".lock")); err != nil {
		t.Errorf("lock file of the held layer: %v, want it kept", err)
	}
}
