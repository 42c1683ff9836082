package store

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestWriteErrorNamesStoreAndFix(t *testing.T) {
	st := &Store{root: "/data/kist"}
	cause := &os.PathError{Op: "open", Path: "/data/kist/locks/gc.lock", Err: unix.EROFS}
	err := st.writeError(fmt.Errorf("open lock gc.lock: %w", cause))

	want := "the store /data/kist cannot be written (open lock gc.lock: open locks/gc.lock: read-only file system); " +
		"name a writable store with --root DIR or KIST_ROOT=DIR"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if !errors.Is(err, ErrReadOnly) {
		t.Error("error does not match ErrReadOnly")
	}
	if !errors.Is(err, unix.EROFS) {
		t.Error("error does not match its cause EROFS")
	}
	if other := st.writeError(unix.ENOSPC); errors.Is(other, ErrReadOnly) {
		t.Errorf("ENOSPC became %v, want it unchanged", other)
	}
}
