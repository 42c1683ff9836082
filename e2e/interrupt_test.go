package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// interruptedSize is the size of the random file in the image that the
// interrupt tests load and push. Random data does not compress, so the
// layer stays this large and takes long enough to be caught mid-copy.
const interruptedSize = 64 << 20

// TestLoadInterrupted stops kist load of a large archive, plain and
// gzip-compressed, with SIGINT to its process group, as Ctrl-C in a
// terminal sends it, and with SIGTERM to kist alone, as kill sends it.
// kist must exit 130 or 143 with one line on stderr, leave tmp/ empty and
// record no image.
func TestLoadInterrupted(t *testing.T) {
	need(t, needRoot)
	archives := interruptArchives(t)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		for _, tc := range []struct {
			sig     unix.Signal
			archive string
		}{
			{unix.SIGINT, archives.plain},
			{unix.SIGTERM, archives.plain},
			{unix.SIGINT, archives.gzip},
			{unix.SIGTERM, archives.gzip},
		} {
			t.Run(unix.SignalName(tc.sig)+"-"+filepath.Base(tc.archive), func(t *testing.T) {
				fresh := id.fresh(t)
				store := fresh.store()
				tmp := filepath.Join(store, "tmp")
				r := interruptWhen(t, fresh, []string{"load", "-i", tc.archive}, tc.sig, func() bool {
					return hasLargeFile(tmp)
				})

				expectInterrupted(t, r, "load", tc.sig)
				expectNoLeftovers(t, store)
				r = runKist(t, fresh, "images", "-q")
				expect(t, r, 0, "")
				if layers := listDir(t, filepath.Join(store, "layers", "sha256")); len(layers) > 0 {
					t.Errorf("layers/sha256 contains %q after an interrupted load, want no layer", layers)
				}
			})
		}
	})
}

// TestImportPullRunInterrupted stops kist import of a large rootfs
// tarball, and kist pull and kist run of the Debian image while they
// download it, the same way.
func TestImportPullRunInterrupted(t *testing.T) {
	need(t, needRoot, needRegistry, needDebian)
	rootfs := filepath.Join(shareDir(t), "rootfs.tar")
	writeRandomRootfs(t, rootfs, interruptedSize)
	makeReadable(t, filepath.Dir(rootfs))
	forEachIdentity(t, func(t *testing.T, id *identity) {
		for _, sig := range []unix.Signal{unix.SIGINT, unix.SIGTERM} {
			for _, tc := range []struct {
				verb string
				args []string
			}{
				{"import", []string{"import", rootfs, "big:1"}},
				{"pull", []string{"pull", "-q", env.debian.ref(tagBookworm)}},
				{"run", []string{"run", "--rm", "-q", env.debian.ref(tagBookworm), "true"}},
			} {
				t.Run(tc.verb+"-"+unix.SignalName(sig), func(t *testing.T) {
					fresh := id.fresh(t)
					store := fresh.store()
					r := interruptWhen(t, fresh, tc.args, sig, func() bool {
						return hasLargeFile(filepath.Join(store, "tmp"))
					})

					expectInterrupted(t, r, tc.verb, sig)
					expectNoLeftovers(t, store)
					r = runKist(t, fresh, "images", "-q")
					expect(t, r, 0, "")
				})
			}
		}
	})
}

// TestPushInterrupted stops kist push while the registry receives the
// layer. kist must exit 130 or 143 with one line on stderr, and the
// registry must have no manifest under the tag.
func TestPushInterrupted(t *testing.T) {
	need(t, needRoot, needRegistry)
	archives := interruptArchives(t)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		fresh := id.fresh(t)
		mustSucceed(t, fresh, "load", "-i", archives.plain)
		for _, sig := range []unix.Signal{unix.SIGINT, unix.SIGTERM} {
			t.Run(unix.SignalName(sig), func(t *testing.T) {
				repo := "interrupted/" + fresh.name + "-" + strings.ToLower(unix.SignalName(sig))
				uploads := filepath.Join(env.base, "registry", "storage", "docker", "registry", "v2", "repositories", repo, "_uploads")
				r := interruptWhen(t, fresh, []string{"push", "-q", "big:1", env.registry + "/" + repo + ":1"}, sig, func() bool {
					return hasLargeFile(uploads)
				})

				expectInterrupted(t, r, "push", sig)
				url := "http://" + env.registry + "/v2/" + repo + "/manifests/1"
				resp, err := http.Head(url)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("HEAD %s: status %d after an interrupted push, want 404", url, resp.StatusCode)
				}
			})
		}
	})
}

// interruptArchive names the docker-archives of one image, big:1, whose
// layer is a file of interruptedSize random bytes.
type interruptArchive struct {
	plain, gzip string
}

// interruptArchives writes the archives that the interrupt tests load,
// readable by every test user, and removes them when t ends.
func interruptArchives(t *testing.T) interruptArchive {
	t.Helper()
	dir := shareDir(t)
	rootfs := filepath.Join(dir, "rootfs.tar")
	writeRandomRootfs(t, rootfs, interruptedSize)
	root := env.identities[0].fresh(t)
	mustSucceed(t, root, "import", rootfs, "big:1")
	archives := interruptArchive{plain: filepath.Join(dir, "big.tar"), gzip: filepath.Join(dir, "big.tar.gz")}
	mustSucceed(t, root, "save", "-o", archives.plain, "big:1")
	gzipFile(t, archives.plain, archives.gzip)
	makeReadable(t, dir)
	return archives
}

func gzipFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	zw, _ := gzip.NewWriterLevel(out, gzip.BestSpeed)
	if _, err := io.Copy(zw, in); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// interruptWhen starts kist with args as id in a process group of its
// own and polls ready every millisecond. Once ready returns true, it
// stops the group, sends sig, and lets the group go on: the stop makes
// sure that the signal arrives while the work that ready saw is still
// under way. SIGINT goes to the whole group, as Ctrl-C in a terminal
// sends it, and SIGTERM to kist alone, as kill sends it.
func interruptWhen(t *testing.T, id *identity, args []string, sig unix.Signal, ready func() bool) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := id.command(ctx, call{args: args})
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	group := -cmd.Process.Pid

	deadline := time.Now().Add(time.Minute)
	for !ready() {
		if time.Now().After(deadline) {
			_ = unix.Kill(group, unix.SIGKILL)
			_ = cmd.Wait()
			t.Fatalf("kist %q did not reach the point to interrupt within a minute\nstderr: %s", args, stderr.String())
		}
		time.Sleep(time.Millisecond)
	}
	if err := unix.Kill(group, unix.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	target := cmd.Process.Pid
	if sig == unix.SIGINT {
		target = group
	}
	if err := unix.Kill(target, sig); err != nil {
		t.Fatal(err)
	}
	if err := unix.Kill(group, unix.SIGCONT); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if ctx.Err() != nil {
		t.Fatalf("kist %q did not exit within two minutes of %s", args, unix.SignalName(sig))
	}

	r := result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
	t.Logf("%s: kist %q, interrupted by %s: %s", id.name, args, unix.SignalName(sig), r)
	return r
}

// expectInterrupted checks that r is the outcome of a command that sig
// stopped: exit status 128 plus the signal number and one line on
// stderr.
func expectInterrupted(t *testing.T, r result, verb string, sig unix.Signal) {
	t.Helper()
	if want := 128 + int(sig); r.code != want {
		t.Errorf("exit status = %d, want %d\n%s", r.code, want, r)
	}
	expectOneLine(t, r, "kist: "+verb+" stopped by "+unix.SignalName(sig))
}

// hasLargeFile reports whether a regular file larger than a megabyte
// exists below dir.
func hasLargeFile(dir string) bool {
	found := false
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || found || !d.Type().IsRegular() {
			return nil
		}
		if info, err := d.Info(); err == nil && info.Size() > 1<<20 {
			found = true
		}
		return nil
	})
	return found
}
