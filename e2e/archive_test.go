package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// skopeoRun runs skopeo with args and returns its standard output. The
// insecure policy accepts unsigned images, and the registry is plain
// HTTP on 127.0.0.1.
func skopeoRun(t *testing.T, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("skopeo"); err != nil {
		if requireAll() {
			t.Fatalf("skopeo is not installed: %v", err)
		}
		t.Skipf("skopeo is not installed; run scripts/setup-test-machine: %v", err)
	}
	return toolOutput(t, "skopeo", append([]string{"--insecure-policy"}, args...)...)
}

// toolOutput runs another tool than kist and returns its standard output,
// failing t with its standard error if it fails.
func toolOutput(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		var stderr string
		if exitErr, ok := err.(*exec.ExitError); ok {
			stderr = string(exitErr.Stderr)
		}
		t.Fatalf("%s %q: %v\n%s", name, args, err, stderr)
	}
	return string(out)
}

// skopeoDiffIDs returns the diff IDs in the config of the image that a
// skopeo transport reference names.
func skopeoDiffIDs(t *testing.T, ref string) []string {
	t.Helper()
	var config struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	out := skopeoRun(t, "inspect", "--tls-verify=false", "--config", ref)
	if err := json.Unmarshal([]byte(out), &config); err != nil {
		t.Fatalf("parse config from skopeo inspect %s: %v\n%s", ref, err, out)
	}
	if len(config.RootFS.DiffIDs) == 0 {
		t.Fatalf("skopeo inspect %s shows no diff IDs", ref)
	}
	return config.RootFS.DiffIDs
}

// shareDir returns a new directory, removed when t ends, that every test
// user can read and write, for archives passed between users and tools.
func shareDir(t *testing.T) string {
	t.Helper()
	dir := layoutParent(t)
	if err := os.Chmod(dir, 0o1777); err != nil {
		t.Fatal(err)
	}
	return dir
}

// makeReadable gives every test user read access below dir.
func makeReadable(t *testing.T, dir string) {
	t.Helper()
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if info.IsDir() {
			mode = 0o755
		}
		return os.Chmod(p, mode)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSaveFormatsReadBySkopeo saves a pulled image in each format and
// has skopeo read it back: the layer diff IDs must match the registry's.
func TestSaveFormatsReadBySkopeo(t *testing.T) {
	need(t, needBusybox)
	for _, tag := range []string{tagLatest, tagOCIZstd, tagConfig} {
		t.Run(tag, func(t *testing.T) {
			ref := env.busybox.ref(tag)
			want := strings.Join(skopeoDiffIDs(t, "docker://"+ref), " ")
			dir := shareDir(t)
			root := env.identities[0].fresh(t)
			mustSucceed(t, root, "pull", "-q", ref)

			formats := []struct{ format, skopeoRef string }{
				{"docker-archive", "docker-archive:" + filepath.Join(dir, "image.tar")},
				{"oci-archive", "oci-archive:" + filepath.Join(dir, "image.oci.tar")},
				{"oci-dir", "oci:" + filepath.Join(dir, "layout")},
			}
			for _, f := range formats {
				out := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(f.skopeoRef, "docker-archive:"), "oci-archive:"), "oci:")
				r := mustSucceed(t, root, "save", "--format", f.format, "-o", out, ref)
				expectQuiet(t, r)
				got := strings.Join(skopeoDiffIDs(t, f.skopeoRef), " ")
				if got != want {
					t.Errorf("%s: diff IDs %s, want %s", f.format, got, want)
				}
				// A copy reads every blob and checks its digest.
				skopeoRun(t, "copy", f.skopeoRef, "oci:"+filepath.Join(dir, "copy-"+f.format))
			}
		})
	}
}

// TestSaveStdout writes the archive to stdout and loads it from stdin,
// plain and gzip-compressed, into another store.
func TestSaveStdout(t *testing.T) {
	need(t, needBusybox)
	ref := env.busybox.ref(tagLatest)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		saver := id.fresh(t)
		mustSucceed(t, saver, "pull", "-q", ref)
		saved := mustSucceed(t, saver, "save", ref)
		if !strings.Contains(saved.stdout, "manifest.json") {
			t.Fatalf("stdout of kist save contains no manifest.json")
		}
		// Links of /proc/self/fd name the pipe that stdout is, which no
		// path reaches, so kist must open them as they are.
		for _, output := range []string{"/dev/stdout", "/proc/self/fd/1"} {
			r := mustSucceed(t, saver, "save", "-o", output, ref)
			if r.stdout != saved.stdout {
				t.Errorf("save -o %s wrote %d bytes to the stdout pipe, want the %d of kist save", output, len(r.stdout), len(saved.stdout))
			}
		}
		expectNoLeftovers(t, saver.store())

		var gzipped bytes.Buffer
		gw := gzip.NewWriter(&gzipped)
		if _, err := gw.Write([]byte(saved.stdout)); err != nil {
			t.Fatal(err)
		}
		if err := gw.Close(); err != nil {
			t.Fatal(err)
		}

		for _, stdin := range []string{saved.stdout, gzipped.String()} {
			id := id.fresh(t)
			r := id.run(t, call{args: []string{"load"}, stdin: stdin})
			expect(t, r, 0, "Loaded image: "+ref+"\n")
			r = runKist(t, id, "run", "--rm", ref, "echo", "loaded")
			expect(t, r, 0, "loaded\n")
			expectNoLeftovers(t, id.store())
		}
	})
}

// TestLoadSkopeoArchives loads archives that skopeo wrote from the
// registry and runs the loaded image.
func TestLoadSkopeoArchives(t *testing.T) {
	need(t, needBusybox)
	dir := shareDir(t)
	src := "docker://" + env.busybox.ref(tagLatest)
	dockerArchive := filepath.Join(dir, "docker.tar")
	ociArchive := filepath.Join(dir, "oci.tar")
	skopeoRun(t, "copy", "--src-tls-verify=false", src, "docker-archive:"+dockerArchive+":busybox:skopeo")
	skopeoRun(t, "copy", "--src-tls-verify=false", src, "oci-archive:"+ociArchive+":example.com/busybox:skopeo")
	makeReadable(t, dir)

	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		r := runKist(t, id, "load", "-i", dockerArchive)
		expect(t, r, 0, "Loaded image: docker.io/library/busybox:skopeo\n")
		r = runKist(t, id, "load", "-q", "--input", ociArchive)
		expect(t, r, 0, "Loaded image: example.com/busybox:skopeo\n")

		r = runKist(t, id, "run", "--rm", "busybox:skopeo", "echo", "from docker-archive")
		expect(t, r, 0, "from docker-archive\n")
		r = runKist(t, id, "run", "--rm", "example.com/busybox:skopeo", "echo", "from oci-archive")
		expect(t, r, 0, "from oci-archive\n")
		expectNoLeftovers(t, id.store())
	})
}

// TestRunArchiveTransports runs images straight from archive files.
func TestRunArchiveTransports(t *testing.T) {
	need(t, needBusybox)
	dir := shareDir(t)
	src := "docker://" + env.busybox.ref(tagConfig)
	dockerArchive := filepath.Join(dir, "docker.tar")
	ociArchive := filepath.Join(dir, "oci.tar")
	skopeoRun(t, "copy", "--src-tls-verify=false", src, "docker-archive:"+dockerArchive+":app:1")
	skopeoRun(t, "copy", "--src-tls-verify=false", src, "oci-archive:"+ociArchive+":app:1")
	makeReadable(t, dir)

	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		for _, ref := range []string{
			"docker-archive:" + dockerArchive,
			"docker-archive:" + dockerArchive + ":app:1",
			"oci-archive:" + ociArchive,
			"oci-archive:" + ociArchive + ":app:1",
		} {
			// The image's entrypoint is echo entry.
			r := runKist(t, id, "run", "--rm", ref, "direct")
			expect(t, r, 0, "entry direct\n")
		}
		r := runKist(t, id, "run", "--rm", "oci-archive:"+ociArchive+":other", "true")
		if r.code != 125 || !strings.Contains(r.stderr, "has no image named other") {
			t.Errorf("run of a missing name: want exit 125 and an error naming it\n%s", r)
		}
		expectNoLeftovers(t, id.store())
	})
}

// TestSaveLoadRoundTrip saves an image in each archive format and loads
// it into a fresh store as every user.
func TestSaveLoadRoundTrip(t *testing.T) {
	need(t, needBusybox)
	ref := env.busybox.ref(tagConfig)
	dir := shareDir(t)
	root := env.identities[0].fresh(t)
	id := strings.TrimSpace(mustSucceed(t, root, "pull", "-q", ref).stdout)
	mustSucceed(t, root, "tag", ref, "second:name")
	docker := filepath.Join(dir, "docker.tar")
	oci := filepath.Join(dir, "oci.tar")
	mustSucceed(t, root, "save", "-o", docker, ref, "second:name")
	mustSucceed(t, root, "save", "--format", "oci-archive", "-o", oci, ref, "second:name")
	makeReadable(t, dir)

	forEachIdentity(t, func(t *testing.T, user *identity) {
		for _, file := range []string{docker, oci} {
			user := user.fresh(t)
			r := runKist(t, user, "load", "-i", file)
			expect(t, r, 0, "Loaded image: "+ref+"\nLoaded image: docker.io/library/second:name\n")
			r = runKist(t, user, "images", "-q")
			expect(t, r, 0, strings.TrimPrefix(id, "sha256:")[:12]+"\n")
			r = runKist(t, user, "run", "--rm", "second:name", "ok")
			expect(t, r, 0, "entry ok\n")
		}
	})
}

// TestLoadHostile gives kist load broken and hostile input. Each must
// fail with exit 125 and one line naming the file, and leave no image,
// no layer and nothing in tmp/.
func TestLoadHostile(t *testing.T) {
	need(t, needBusybox)
	dir := shareDir(t)
	root := env.identities[0].fresh(t)
	mustSucceed(t, root, "pull", "-q", env.busybox.ref(tagLatest))
	good := filepath.Join(dir, "good.tar")
	mustSucceed(t, root, "save", "-o", good, env.busybox.ref(tagLatest))
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}

	files := map[string][]byte{
		"empty.tar":     nil,
		"truncated.tar": data[:len(data)/2],
		"text.tar":      []byte(strings.Repeat("this is not a tar file\n", 100)),
		"altered.tar":   rewriteTar(t, data, alterLayers),
		"dotdot.tar":    rewriteTar(t, data, addMember("../escape")),
		"absolute.tar":  rewriteTar(t, data, addMember("/tmp/escape")),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "directory"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"empty.tar":     "is empty",
		"truncated.tar": "is truncated",
		"text.tar":      "is not a valid tar file",
		"directory":     "is a directory",
		"altered.tar":   "digest",
		"dotdot.tar":    "member names with .. are not allowed",
		"absolute.tar":  "absolute member names are not allowed",
	}

	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		for name, want := range cases {
			file := filepath.Join(dir, name)
			r := runKist(t, id, "load", "-i", file)
			if r.code != 125 {
				t.Errorf("load %s: exit status %d, want 125", name, r.code)
			}
			expectOneLine(t, r, want)
			expectOneLine(t, r, file)
		}
		r := runKist(t, id, "images", "-q")
		expect(t, r, 0, "")
		if names := listDir(t, filepath.Join(id.store(), "layers", "sha256")); len(names) > 0 {
			t.Errorf("layers left behind: %q", names)
		}
		expectNoLeftovers(t, id.store())
	})
}

// TestImportRootfs imports a busybox root filesystem tarball, from a file
// and from stdin, with config changes, and runs it.
func TestImportRootfs(t *testing.T) {
	need(t, needBusybox)
	dir := shareDir(t)
	layer := busyboxLayer(t)
	rc, err := layer.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	tarball, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "rootfs.tar.gz")
	if err := os.WriteFile(file, tarball, 0o644); err != nil {
		t.Fatal(err)
	}

	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		r := runKist(t, id, "import",
			"-c", `CMD ["sh", "-c", "echo $GREETING from $PWD"]`,
			"-c", "ENV GREETING=hello",
			"-c", "WORKDIR /tmp",
			"-m", "test import",
			file, "imported:1")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "sha256:") {
			t.Fatalf("import: want exit 0 and an image ID\n%s", r)
		}
		r = runKist(t, id, "run", "--rm", "imported:1")
		expect(t, r, 0, "hello from /tmp\n")

		r = id.run(t, call{args: []string{"import", "-", "fromstdin"}, stdin: string(tarball)})
		if r.code != 0 {
			t.Fatalf("import from stdin: exit %d\n%s", r.code, r)
		}
		r = runKist(t, id, "run", "--rm", "fromstdin", "echo", "stdin")
		expect(t, r, 0, "stdin\n")

		r = runKist(t, id, "import", dir)
		if r.code != 125 {
			t.Errorf("import of a directory: exit %d, want 125", r.code)
		}
		expectOneLine(t, r, "is a directory")
		expectNoLeftovers(t, id.store())
	})
}

// rewriteTar returns the tar file data with change applied to its
// members.
func rewriteTar(t *testing.T, data []byte, change func(tw *tar.Writer, hdr *tar.Header, body []byte) error) []byte {
	t.Helper()
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := change(tw, hdr, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// alterLayers flips one byte in the middle of every layer.tar.
func alterLayers(tw *tar.Writer, hdr *tar.Header, body []byte) error {
	if strings.HasSuffix(hdr.Name, "layer.tar") && len(body) > 0 {
		body[len(body)/2] ^= 0xff
	}
	return copyMember(tw, hdr, body)
}

// addMember adds a member called name before the first member.
func addMember(name string) func(tw *tar.Writer, hdr *tar.Header, body []byte) error {
	added := false
	return func(tw *tar.Writer, hdr *tar.Header, body []byte) error {
		if !added {
			added = true
			if err := copyMember(tw, &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644}, []byte("x")); err != nil {
				return err
			}
		}
		return copyMember(tw, hdr, body)
	}
}

func copyMember(tw *tar.Writer, hdr *tar.Header, body []byte) error {
	hdr.Size = int64(len(body))
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := tw.Write(body)
	return err
}

// TestSaveLoadRejectTerminal runs save with stdout and load with stdin
// on a terminal: an archive must not be written to or read from one.
func TestSaveLoadRejectTerminal(t *testing.T) {
	need(t, needBusybox)
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	root := env.identities[0].fresh(t)
	ref := env.busybox.ref(tagLatest)
	mustSucceed(t, root, "pull", "-q", ref)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"save", ref}, "will not write an archive to a terminal"},
		{[]string{"save", "-o", "/dev/stdout", ref}, "will not write an archive to a terminal"},
		{[]string{"load"}, "which is a terminal"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := root.command(ctx, call{args: tc.args})
		var stderr bytes.Buffer
		cmd.Stdin, cmd.Stdout, cmd.Stderr = ptmx, ptmx, &stderr
		err := cmd.Run()
		cancel()
		if code := cmd.ProcessState.ExitCode(); code != 125 {
			t.Errorf("kist %q: exit status %d (%v), want 125", tc.args, code, err)
		}
		if !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("kist %q: stderr %q does not contain %q", tc.args, stderr.String(), tc.want)
		}
	}
}

// TestSaveOutputSpecialFiles saves to a character device, a FIFO and
// symlinks, which kist must write into or through rather than replace.
func TestSaveOutputSpecialFiles(t *testing.T) {
	need(t, needBusybox, needRoot)
	ref := env.busybox.ref(tagLatest)
	// The devices sit in a directory that only root can write to, as
	// /dev does, so a temporary file beside them fails for a user.
	devices := layoutParent(t)
	null, full := filepath.Join(devices, "null"), filepath.Join(devices, "full")
	if err := unix.Mknod(null, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(full, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 7))); err != nil {
		t.Fatal(err)
	}
	for _, dev := range []string{null, full} {
		if err := os.Chmod(dev, 0o666); err != nil {
			t.Fatal(err)
		}
	}

	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		mustSucceed(t, id, "pull", "-q", ref)

		r := runKist(t, id, "save", "-o", null, ref)
		expect(t, r, 0, "")
		expectQuiet(t, r)
		expectFileType(t, null, os.ModeDevice|os.ModeCharDevice)

		r = runKist(t, id, "save", "-o", full, ref)
		if r.code != 125 {
			t.Errorf("save to a full device: exit %d, want 125\n%s", r.code, r)
		}
		expectOneLine(t, r, "no space left on device")
		expectFileType(t, full, os.ModeDevice|os.ModeCharDevice)
		expectNoLeftovers(t, id.store())
	})
	expectNoTempFiles(t, devices)
}

// TestSaveOutputFIFOAndSymlinks saves into a FIFO and through a symlink
// to an existing file and through one to a file that does not exist.
func TestSaveOutputFIFOAndSymlinks(t *testing.T) {
	need(t, needBusybox)
	ref := env.busybox.ref(tagLatest)
	root := env.identities[0].fresh(t)
	mustSucceed(t, root, "pull", "-q", ref)
	dir := t.TempDir()

	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	read := make(chan []byte, 1)
	go func() {
		// Opening a FIFO for reading waits for its writer.
		data, _ := os.ReadFile(fifo)
		read <- data
	}()
	r := runKist(t, root, "save", "-o", fifo, ref)
	if r.code != 0 {
		// Release the reader, which still waits for a writer.
		if w, err := os.OpenFile(fifo, os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
	}
	expect(t, r, 0, "")
	select {
	case data := <-read:
		if !bytes.Contains(data, []byte("manifest.json")) {
			t.Errorf("the reader of the FIFO got %d bytes without a manifest.json", len(data))
		}
	case <-time.After(30 * time.Second):
		t.Errorf("the reader of the FIFO got nothing from kist save in 30s")
	}
	expectFileType(t, fifo, os.ModeNamedPipe)

	target, link := filepath.Join(dir, "target.tar"), filepath.Join(dir, "link.tar")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("target.tar", link); err != nil {
		t.Fatal(err)
	}
	missing, dangling := filepath.Join(dir, "new.tar"), filepath.Join(dir, "dangling.tar")
	if err := os.Symlink(missing, dangling); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ link, target string }{{link, target}, {dangling, missing}} {
		r := runKist(t, root, "save", "-o", tc.link, ref)
		expect(t, r, 0, "")
		expectFileType(t, tc.link, os.ModeSymlink)
		data, err := os.ReadFile(tc.target)
		if err != nil || !bytes.Contains(data, []byte("manifest.json")) {
			t.Errorf("%s holds no archive after a save through %s: %v", tc.target, tc.link, err)
		}
	}
	expectNoTempFiles(t, dir)
}

// TestSaveInterrupted stops a save with SIGINT and SIGTERM while it
// writes its temporary file, which must then be gone.
func TestSaveInterrupted(t *testing.T) {
	need(t, needRoot)
	dir := t.TempDir()
	root := env.identities[0].fresh(t)
	// Random data does not compress, so the archive is as large as the
	// data and the save lasts long enough to be stopped.
	rootfs := filepath.Join(dir, "rootfs.tar")
	writeRandomRootfs(t, rootfs, 64<<20)
	mustSucceed(t, root, "import", rootfs, "big:1")

	for _, sig := range []unix.Signal{unix.SIGINT, unix.SIGTERM} {
		t.Run(unix.SignalName(sig), func(t *testing.T) {
			out := filepath.Join(dir, "out.tar")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := root.command(ctx, call{args: []string{"save", "-o", out, "big:1"}})
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			tmp := waitForTempFile(t, dir)
			// Stopping kist first makes sure the signal arrives while
			// the temporary file is still being written.
			if err := cmd.Process.Signal(unix.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Process.Signal(unix.SIGCONT); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()

			if code := cmd.ProcessState.ExitCode(); code != 128+int(sig) {
				t.Errorf("exit status %d, want %d; stderr %q", code, 128+int(sig), stderr.String())
			}
			expectOneLine(t, result{stderr: stderr.String()}, "stopped by "+unix.SignalName(sig))
			if _, err := os.Lstat(tmp); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("temporary file %s is still there: %v", tmp, err)
			}
			if _, err := os.Lstat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s exists after an interrupted save: %v", out, err)
			}
			expectNoLeftovers(t, root.store())
		})
	}
}

// TestImportEmptyFile imports a 0-byte file, which is no tarball.
func TestImportEmptyFile(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.tar")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	root := env.identities[0].fresh(t)
	r := runKist(t, root, "import", empty, "x:1")
	expect(t, r, 125, "")
	expectOneLine(t, r, "import "+empty+": the input is empty, but kist import needs a tarball of a root filesystem")
	r = runKist(t, root, "images", "-q")
	expect(t, r, 0, "")
}

// expectFileType checks that path, not followed if it is a symlink, has
// the file type want.
func expectFileType(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Type(); got != want {
		t.Errorf("%s has mode %v after the save, want type %v", path, info.Mode(), want)
	}
}

// expectNoTempFiles checks that dir holds no temporary file of a save.
func expectNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(matches) > 0 {
		t.Errorf("temporary files left behind: %v", matches)
	}
}

// waitForTempFile returns the temporary file of a save in dir once it
// holds data.
func waitForTempFile(t *testing.T, dir string) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		matches, _ := filepath.Glob(filepath.Join(dir, ".out.tar.tmp-*"))
		if len(matches) == 1 {
			if info, err := os.Stat(matches[0]); err == nil && info.Size() > 0 {
				return matches[0]
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("no temporary file of kist save appeared in %s", dir)
	return ""
}

// writeRandomRootfs writes a tarball at path that holds one file of size
// random bytes.
func writeRandomRootfs(t *testing.T, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	if err := tw.WriteHeader(&tar.Header{Name: "random", Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(tw, rand.Reader, size); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}
