package commands

import (
	"bytes"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/kist-project/kist/pull"
)

// fakeClock is a clock that tests advance by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func testHash(c byte) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: strings.Repeat(string(c), 64)}
}

func TestPullBarsRedrawInPlace(t *testing.T) {
	var out bytes.Buffer
	clock := &fakeClock{t: time.Unix(1000, 0)}
	bars := newPullBars(&out, "example/image", clock.now)
	a, b := testHash('a'), testHash('b')

	bars.start(testHash('c'), 2)
	bars.layer(pull.LayerEvent{DiffID: a, Present: true})
	if out.Len() != 0 {
		t.Fatalf("output before any layer is fetched = %q, want none", out.String())
	}
	bars.fetch(b)
	clock.t = clock.t.Add(2 * time.Second)
	bars.progress(pull.LayerProgress{DiffID: b, Done: 10_000_000, Total: 20_000_000})
	out.Reset()

	// A redraw within barRedrawInterval of the last is skipped.
	clock.t = clock.t.Add(barRedrawInterval / 2)
	bars.progress(pull.LayerProgress{DiffID: b, Done: 11_000_000, Total: 20_000_000})
	if out.Len() != 0 {
		t.Errorf("redraw %v after the last = %q, want none", barRedrawInterval/2, out.String())
	}

	clock.t = clock.t.Add(barRedrawInterval)
	bars.layer(pull.LayerEvent{DiffID: b, Size: 50_000_000, Duration: 3 * time.Second})
	want := "\x1b[2A" +
		"\r\x1b[2K" + "aaaaaaaaaaaa: Already present\n" +
		"\r\x1b[2K" + "bbbbbbbbbbbb: Pull complete, unpacked 50MB in 3.0s\n"
	if got := out.String(); got != want {
		t.Errorf("final redraw = %q, want %q", got, want)
	}
}

func TestPullBarsDownloadingLine(t *testing.T) {
	var out bytes.Buffer
	clock := &fakeClock{t: time.Unix(1000, 0)}
	bars := newPullBars(&out, "example/image", clock.now)
	layer := testHash('d')

	bars.start(testHash('c'), 1)
	bars.fetch(layer)
	clock.t = clock.t.Add(2 * time.Second)
	bars.progress(pull.LayerProgress{DiffID: layer, Done: 10_000_000, Total: 40_000_000})

	lines := strings.Split(out.String(), "\n")
	if lines[0] != "Pulling example/image: image cccccccccccc, 1 layers" {
		t.Errorf("header = %q", lines[0])
	}
	want := "\x1b[1A\r\x1b[2Kdddddddddddd: Downloading [=======>                      ] 10MB/40MB  5MB/s"
	if got := lines[len(lines)-2]; got != want {
		t.Errorf("last line = %q, want %q", got, want)
	}
}

func TestProgressBar(t *testing.T) {
	tests := []struct {
		done, total int64
		want        string
	}{
		{0, 100, "[>" + strings.Repeat(" ", barWidth-1) + "]"},
		{50, 100, "[" + strings.Repeat("=", barWidth/2) + ">" + strings.Repeat(" ", barWidth/2-1) + "]"},
		{100, 100, "[" + strings.Repeat("=", barWidth) + "]"},
		{150, 100, "[" + strings.Repeat("=", barWidth) + "]"},
	}
	for _, tt := range tests {
		if got := progressBar(tt.done, tt.total); got != tt.want {
			t.Errorf("progressBar(%d, %d) = %q, want %q", tt.done, tt.total, got, tt.want)
		}
	}
}

func TestPullBarsCutToWidth(t *testing.T) {
	var out bytes.Buffer
	clock := &fakeClock{t: time.Unix(1000, 0)}
	bars := newPullBars(&out, "example/image", clock.now)
	bars.width = 40
	layer := testHash('e')

	bars.start(testHash('c'), 1)
	bars.fetch(layer)
	clock.t = clock.t.Add(time.Second)
	bars.progress(pull.LayerProgress{DiffID: layer, Done: 1_000_000, Total: 40_000_000})

	lines := strings.Split(out.String(), "\n")
	last := strings.TrimPrefix(lines[len(lines)-2], "\x1b[1A")
	last = strings.TrimPrefix(last, "\r\x1b[2K")
	if len(last) != bars.width-1 {
		t.Errorf("line %q has %d bytes, want %d to fit a %d-column terminal", last, len(last), bars.width-1, bars.width)
	}
}
