package e2e

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/kist-project/kist/unpack"
)

// corpusDir is the corpus of crafted layers that testdata/mklayers writes,
// relative to this package. Its README lists each case.
const corpusDir = "../testdata/layers"

// corpusEscapeDir is where the escape cases aim absolute names and long
// ".." chains. It must never appear on the host.
const corpusEscapeDir = "/tmp/kist-corpus-escape"

// corpusCase is one case of the corpus: a single layer file, or a
// directory of layers 0.tar, 1.tar, ... bottom first.
type corpusCase struct {
	name     string
	rejected bool
	layers   []v1.Layer
}

// corpusLayer is a corpus file used as a layer blob byte for byte.
type corpusLayer struct {
	path      string
	digest    v1.Hash
	diffID    v1.Hash
	size      int64
	mediaType types.MediaType
}

var _ v1.Layer = (*corpusLayer)(nil)

func (l *corpusLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *corpusLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *corpusLayer) Size() (int64, error)                { return l.size, nil }
func (l *corpusLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }
func (l *corpusLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }

func (l *corpusLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	return unpack.Decompress(f)
}

// newCorpusLayer returns the file at path as an OCI layer. Its diff ID is
// the digest of the content that kist's own decompressor returns, which
// also accepts the zero padding after gzip that Go's gzip reader rejects.
func newCorpusLayer(path string) (*corpusLayer, error) {
	l := &corpusLayer{path: path}
	switch {
	case strings.HasSuffix(path, ".tar"):
		l.mediaType = types.OCIUncompressedLayer
	case strings.HasSuffix(path, ".tar.gz"):
		l.mediaType = types.OCILayer
	case strings.HasSuffix(path, ".tar.zst"):
		l.mediaType = types.OCILayerZStd
	default:
		return nil, fmt.Errorf("corpus file %s: unknown extension, want .tar, .tar.gz or .tar.zst", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	l.size = int64(len(data))
	l.digest = sha256Of(data)

	rc, err := l.Uncompressed()
	if err != nil {
		return nil, fmt.Errorf("decompress %s: %w", path, err)
	}
	defer rc.Close()
	h := sha256.New()
	// truncated.tar is cut off inside a file's content, but as a byte
	// stream it still has a digest, so only a read error matters here.
	if _, err := io.Copy(h, rc); err != nil {
		return nil, fmt.Errorf("decompress %s: %w", path, err)
	}
	l.diffID = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
	return l, nil
}

func sha256Of(data []byte) v1.Hash {
	sum := sha256.Sum256(data)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// readCorpus returns every case in the corpus README's table, with
// rejected set where its description says "rejected".
func readCorpus(t *testing.T) []corpusCase {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "README.md"))
	if err != nil {
		t.Fatalf("open corpus README: %v", err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\| `([^`]+)` \\| [0-9]+ \\| (.*) \\|$")
	var cases []corpusCase
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		m := row.FindStringSubmatch(scanner.Text())
		if m == nil {
			continue
		}
		c := corpusCase{name: m[1], rejected: strings.Contains(m[2], "rejected")}
		for _, p := range corpusLayerFiles(t, c.name) {
			l, err := newCorpusLayer(p)
			if err != nil {
				t.Fatalf("case %s: %v", c.name, err)
			}
			c.layers = append(c.layers, l)
		}
		cases = append(cases, c)
	}
	if err := scanner.Err(); err != nil {
		t.Fatalf("read corpus README: %v", err)
	}
	if len(cases) == 0 {
		t.Fatal("corpus README lists no case")
	}
	return cases
}

// corpusLayerFiles returns the layer files of the case, bottom first.
func corpusLayerFiles(t *testing.T, name string) []string {
	t.Helper()
	path := filepath.Join(corpusDir, strings.TrimSuffix(name, "/"))
	if !strings.HasSuffix(name, "/") {
		return []string{path}
	}
	var files []string
	for i := 0; ; i++ {
		p := filepath.Join(path, fmt.Sprintf("%d.tar", i))
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			break
		}
		files = append(files, p)
	}
	if len(files) == 0 {
		t.Fatalf("case %s: no 0.tar in %s", name, path)
	}
	return files
}

// corpusRepo returns the repository of the case's image: its name in
// lower case with every character outside [a-z0-9._-] replaced by "-".
func corpusRepo(name string) string {
	name = strings.ToLower(strings.TrimSuffix(name, "/"))
	return "corpus/" + regexp.MustCompile(`[^a-z0-9._-]`).ReplaceAllString(name, "-")
}

// corpusCheck is one fact that a container of a case must show.
type corpusCheck struct {
	args []string
	// stdout returns the expected output for id.
	stdout func(id *identity) string
}

// sameForAll is a corpusCheck.stdout for output that no identity changes.
func sameForAll(s string) func(*identity) string {
	return func(*identity) string { return s }
}

// corpusChecks are the facts from unpack/corpus_cases_test.go that are
// easy to observe inside a container, by case name.
var corpusChecks = map[string]corpusCheck{
	// Without subordinate IDs, only ID 0 exists in the user namespace, so
	// files of other owners show as owned by 0:0 and keep their modes.
	"modes-setuid-setgid-sticky.tar": {
		args: []string{"stat", "-c", "%a %u %g %F", "/bin/su", "/bin/user-setuid", "/tmp", "/shared"},
		stdout: func(id *identity) string {
			if id.subIDs {
				return "4755 0 0 regular file\n4711 1000 1000 regular file\n1777 0 0 directory\n2775 0 50 directory\n"
			}
			return "4755 0 0 regular file\n4711 0 0 regular file\n1777 0 0 directory\n2775 0 0 directory\n"
		},
	},
	"hardlink-to-lower/": {
		// The two names of the lower file share one copy.
		args:   []string{"sh", "-c", "cat /usr/bin/tool /usr/bin/alias /usr/bin/alias-abs && echo && stat -c %h /usr/bin/alias /usr/bin/alias-abs"},
		stdout: sameForAll("tooltooltool\n2\n2\n"),
	},
	"escape-dotdot.tar": {
		args:   []string{"cat", "/tmp/kist-corpus-escape/dotdot", "/outside/new"},
		stdout: sameForAll("pwnedpwned"),
	},
	"escape-symlink-then-write.tar": {
		args:   []string{"sh", "-c", "readlink /out && readlink /abs"},
		stdout: sameForAll("../outside\n" + corpusEscapeDir + "\n"),
	},
	"compressed.tar.zst": {
		args:   []string{"cat", "/etc/alias"},
		stdout: sameForAll("ID=corpus\n"),
	},
	"compressed-zero-padded.tar.gz": {
		args:   []string{"cat", "/etc/hardlink"},
		stdout: sameForAll("ID=corpus\n"),
	},
	"device-and-fifo.tar": {
		args:   []string{"stat", "-c", "%a %F", "/run/fifo"},
		stdout: sameForAll("620 fifo\n"),
	},
	// The hardlink to /etc/passwd is rejected in a layer alone, but here
	// busybox's /etc/passwd is below it, so it becomes a copy of that file.
	"escape-hardlink-host-absolute.tar": {
		args:   []string{"cat", "/passwd"},
		stdout: sameForAll(busyboxPasswd),
	},
}

// acceptedOverBusybox are the cases that the corpus README marks rejected
// but that are valid over the busybox layer, with the reason.
var acceptedOverBusybox = map[string]string{
	"escape-hardlink-host-absolute.tar": "busybox provides the hardlink target /etc/passwd",
}

// pullWarnings is, by case, a substring of every line that kist pull
// prints to standard error. Other cases must pull without output there.
var pullWarnings = map[string]string{
	"xattr-overlay-reserved/":        "warning: skip xattr reserved for overlayfs and kist",
	"xattrs-security-capability.tar": "warning: skip xattr reserved for overlayfs and kist",
}

// walkStderr is, by case, the standard error of the walk over the
// container's root. overlayfs lists a whiteout in a directory that no
// lower layer shares, but lstat does not find it.
var walkStderr = map[string]string{
	"escape-whiteout-outside.tar": "find: ./outside/sentinel: No such file or directory\n",
}

// TestCorpusThroughRegistry pushes every case of the corpus of crafted
// layers over the busybox layer, with each layer file as its blob, and
// pulls and runs it as each identity in a fresh store. A rejected case
// must fail the pull and leave no directory of the rejected layer behind. Every other
// case must run, and some must show a fact from the expected tree.
func TestCorpusThroughRegistry(t *testing.T) {
	need(t, needRegistry, needBusybox)
	base := busyboxLayer(t)
	baseDiffID, err := base.DiffID()
	if err != nil {
		t.Fatalf("busybox layer diff ID: %v", err)
	}
	for _, c := range readCorpus(t) {
		t.Run(strings.TrimSuffix(c.name, "/"), func(t *testing.T) {
			layers := append([]v1.Layer{base}, c.layers...)
			ref := pushTestImage(t, corpusRepo(c.name), newImage(t, busyboxConfig(), layers...))
			forEachIdentity(t, func(t *testing.T, id *identity) {
				id = id.fresh(t)
				sentinel := newSentinel(t, id)
				if c.rejected && acceptedOverBusybox[c.name] == "" {
					checkRejected(t, id, ref, c, baseDiffID)
				} else {
					checkRuns(t, id, ref, c)
				}
				sentinel.check(t)
				if _, err := os.Lstat(corpusEscapeDir); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s exists on the host after the case (lstat: %v)", corpusEscapeDir, err)
				}
			})
		})
	}
}

// checkRejected pulls the image of a rejected case and checks that the
// pull fails with one line naming the rejected layer, and leaves no
// directory of that layer in the store.
func checkRejected(t *testing.T, id *identity, ref string, c corpusCase, baseDiffID v1.Hash) {
	t.Helper()
	r := runKist(t, id, "pull", "-q", ref)
	expect(t, r, 125, "")
	top, err := c.layers[len(c.layers)-1].Digest()
	if err != nil {
		t.Fatalf("layer digest: %v", err)
	}
	expectOneLine(t, r, top.String())

	// The layers below the rejected one are complete and may stay, each
	// under its diff ID or, if it copied lower content, its chain ID.
	allowed := map[string]bool{}
	chainID := baseDiffID
	allowed[baseDiffID.Hex] = true
	for _, l := range c.layers[:len(c.layers)-1] {
		diffID, err := l.DiffID()
		if err != nil {
			t.Fatalf("layer diff ID: %v", err)
		}
		chainID = sha256Of([]byte(chainID.String() + " " + diffID.String()))
		allowed[diffID.Hex] = true
		allowed[chainID.Hex] = true
	}
	for _, name := range listDir(t, filepath.Join(id.store(), "layers", "sha256")) {
		if !allowed[name] {
			t.Errorf("layers/sha256/ contains %s after the rejected pull, want only busybox and the layers below the rejected one", name)
		}
	}
	if names := listDir(t, filepath.Join(id.store(), "tmp")); len(names) > 0 {
		t.Errorf("tmp/ contains %q after the rejected pull, want it empty", names)
	}
}

// checkRuns pulls and runs the image of an accepted case.
func checkRuns(t *testing.T, id *identity, ref string, c corpusCase) {
	t.Helper()
	r := mustSucceed(t, id, "pull", "-q", ref)
	// Devices cannot be created in a user namespace, so the unpacker skips
	// them with a warning there.
	switch warning, ok := pullWarnings[c.name]; {
	case c.name == "device-and-fifo.tar" && id.uid != 0:
		expectOneLine(t, r, "skipped device nodes")
		// The warning names the layer, not the temporary directory it
		// was unpacked in, which is gone by the time the user reads it.
		if !strings.Contains(r.stderr, " layer=sha256:") || strings.Contains(r.stderr, "tmp/") {
			t.Errorf("warning %q should name the layer's diff ID and no tmp/ directory", r.stderr)
		}
	case ok:
		expectEveryLine(t, r, warning)
	default:
		expectQuiet(t, r)
	}

	// An opaque marker on the layer root hides every layer below,
	// busybox included, so the container has no shell.
	if c.name == "opaque-root/" {
		r := runKist(t, id, "run", "--rm", ref, "sh", "-c", "echo ok")
		if r.code != 127 {
			t.Errorf("run sh in a rootfs without /bin/sh: exit status = %d, want 127\n%s", r.code, r)
		}
		expectNoLeftovers(t, id.store())
		return
	}

	r = runKist(t, id, "run", "--rm", ref, "sh", "-c", "cd / && find . -xdev | sort | head -200 >/dev/null; echo ok")
	expect(t, r, 0, "ok\n")
	if r.stderr != walkStderr[c.name] {
		t.Errorf("stderr = %q, want %q", r.stderr, walkStderr[c.name])
	}

	if check, ok := corpusChecks[c.name]; ok {
		r := runKist(t, id, append([]string{"run", "--rm", ref}, check.args...)...)
		expect(t, r, 0, check.stdout(id))
		expectQuiet(t, r)
	}
	expectNoLeftovers(t, id.store())
}

// expectEveryLine checks that r wrote at least one line to standard
// error and that every line contains substr.
func expectEveryLine(t *testing.T, r result, substr string) {
	t.Helper()
	if r.stderr == "" {
		t.Errorf("stderr is empty, want lines containing %q", substr)
	}
	for _, line := range strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n") {
		if !strings.Contains(line, substr) {
			t.Errorf("stderr line %q does not contain %q", line, substr)
		}
	}
}
