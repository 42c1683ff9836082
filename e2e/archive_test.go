package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	cmd := exec.Command("skopeo", append([]string{"--insecure-policy"}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if exitErr, ok := err.(*exec.ExitError); ok {
			stderr = string(exitErr.Stderr)
		}
		t.Fatalf("skopeo %q: %v\n%s", args, err, stderr)
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
