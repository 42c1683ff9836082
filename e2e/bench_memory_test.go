package e2e

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	ti "github.com/kist-project/kist/internal/testimage"
)

// The large image of BenchmarkPullLargeMemory: largeLayers layers, each
// with largeFiles files of largeFileSize bytes, half of them random and
// half repeated text, and largeSmallFiles files of 4 KiB. That is about
// 1 GiB unpacked and half of it compressed.
const (
	largeLayers     = 5
	largeFiles      = 48
	largeFileSize   = 4 << 20
	largeSmallFiles = 1000
)

var largeImage struct {
	once sync.Once
	ref  string
	size int64 // unpacked bytes
	err  error
}

// pushLargeImage builds the large image and pushes it once per test
// process.
func pushLargeImage(b *testing.B) (string, int64) {
	b.Helper()
	largeImage.once.Do(func() {
		largeImage.ref, largeImage.size, largeImage.err = buildLargeImage(b.TempDir())
	})
	if largeImage.err != nil {
		b.Fatal(largeImage.err)
	}
	return largeImage.ref, largeImage.size
}

func buildLargeImage(dir string) (string, int64, error) {
	// File contents are slices of these two buffers, so the test process
	// holds them once. Random data repeated at a distance of more than
	// gzip's 32 KiB window does not compress.
	random := []byte(randomContent(2, 2*largeFileSize))
	text := []byte(strings.Repeat("kist pulls layers in parallel.\n", 2*largeFileSize/31+1))

	var layers []v1.Layer
	var size int64
	for i := range largeLayers {
		entries := []ti.Entry{ti.Dir(fmt.Sprintf("layer%d", i), 0o755)}
		for j := range largeFiles {
			source := text
			if j%2 == 0 {
				source = random
			}
			offset := (i*largeFiles + j) % largeFileSize
			e := ti.File(fmt.Sprintf("layer%d/big%d", i, j), "", 0o644)
			e.Content = source[offset : offset+largeFileSize]
			entries = append(entries, e)
			size += largeFileSize
		}
		for j := range largeSmallFiles {
			offset := rand.New(rand.NewSource(int64(j))).Intn(largeFileSize)
			e := ti.File(fmt.Sprintf("layer%d/small/%d", i, j), "", 0o644)
			e.Content = text[offset : offset+4096]
			entries = append(entries, e)
			size += 4096
		}
		l, err := ti.LayerFromEntries(entries, ti.LayerOptions{Format: ti.OCI, Compression: ti.Gzip, Dir: dir})
		if err != nil {
			return "", 0, err
		}
		layers = append(layers, l)
	}

	img, err := ti.Image(ti.OCI, ti.HostPlatform(), v1.Config{Cmd: []string{"sh"}}, layers...)
	if err != nil {
		return "", 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ref := env.registry + "/kist-e2e/large:latest"
	return ref, size, ti.Push(ctx, ref, img)
}

// BenchmarkPullLargeMemory measures a cold pull of an image of about
// 1 GiB in several layers as root, and reports kist's peak resident
// memory. GNU time starts kist and reads ru_maxrss from wait4. kist is
// not started from the test process directly, because Go starts a child
// with CLONE_VM, and the kernel counts the test process's resident
// memory at the exec into the child's ru_maxrss.
func BenchmarkPullLargeMemory(b *testing.B) {
	need(b, needRoot, needRegistry)
	gnuTime, err := exec.LookPath("time")
	if err != nil {
		b.Skip("GNU time is not installed; apt-get install time")
	}
	ref, size := pushLargeImage(b)
	b.SetBytes(size)

	var peakKiB int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		id := currentIdentity().fresh(b)
		report := filepath.Join(b.TempDir(), "maxrss")
		cmd := id.command(b.Context(), call{args: []string{"pull", "-q", ref}})
		cmd.Args = append([]string{gnuTime, "-f", "%M", "-o", report}, cmd.Args...)
		cmd.Path = gnuTime
		b.StartTimer()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("kist pull %s: %v: %s", ref, err, out)
		}
		b.StopTimer()
		data, err := os.ReadFile(report)
		if err != nil {
			b.Fatal(err)
		}
		// GNU time prints ru_maxrss, which Linux gives in KiB.
		kib, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		if err != nil {
			b.Fatalf("read peak memory from GNU time output %q: %v", data, err)
		}
		peakKiB = max(peakKiB, kib)
		b.StartTimer()
	}
	b.ReportMetric(float64(peakKiB)/1024, "peak-RSS-MiB")
}
