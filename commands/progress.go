package commands

import (
	"fmt"
	"io"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"

	"github.com/kist-project/kist/pull"
)

// terminalWidth returns the number of columns of the terminal that the
// file descriptor fd refers to, or 0 when fd is not a terminal.
func terminalWidth(fd uintptr) int {
	if _, err := unix.IoctlGetTermios(int(fd), unix.TCGETS); err != nil {
		return 0
	}
	ws, err := unix.IoctlGetWinsize(int(fd), unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 {
		// A terminal that does not know its size, such as a serial
		// line, gets the traditional 80 columns.
		return 80
	}
	return int(ws.Col)
}

// setProgress points the callbacks of opts at a progress printer for ref
// on out: bars redrawn in place when out is a terminal of width columns,
// one line per layer when width is 0.
func setProgress(opts *pull.Options, out io.Writer, width int, ref string) {
	if width > 0 {
		bars := newPullBars(out, ref, time.Now)
		bars.width = width
		opts.OnStart, opts.OnFetch, opts.OnLayer = bars.start, bars.fetch, bars.layer
		opts.OnProgress = bars.progress
		return
	}
	lines := &pullLines{out: out, ref: ref}
	opts.OnStart, opts.OnFetch, opts.OnLayer = lines.start, lines.fetch, lines.layer
}

// pullLines prints one line per layer, but only once a layer has to be
// downloaded: an image already in the store pulls silently.
type pullLines struct {
	out     io.Writer
	ref     string
	header  string
	pending []string
	fetched bool
}

func (p *pullLines) start(id v1.Hash, layers int) {
	p.header = pullHeader(p.ref, id, layers)
}

func pullHeader(ref string, id v1.Hash, layers int) string {
	return fmt.Sprintf("Pulling %s: image %s, %d layers", ref, id.Hex[:12], layers)
}

func (p *pullLines) fetch(v1.Hash) {
	if p.fetched {
		return
	}
	p.fetched = true
	fmt.Fprintln(p.out, p.header)
	for _, line := range p.pending {
		fmt.Fprintln(p.out, line)
	}
}

func (p *pullLines) layer(e pull.LayerEvent) {
	if e.Present {
		line := fmt.Sprintf("Layer %s: already present", e.DiffID.Hex[:12])
		if !p.fetched {
			p.pending = append(p.pending, line)
			return
		}
		fmt.Fprintln(p.out, line)
		return
	}
	fmt.Fprintf(p.out, "Layer %s: unpacked %s in %.1fs\n", e.DiffID.Hex[:12], humanSize(e.Size), e.Duration.Seconds())
}

// barRedrawInterval is the minimum time between two redraws for byte
// progress alone, so that a fast download does not flood the terminal.
const barRedrawInterval = 100 * time.Millisecond

// barWidth is the number of cells between the brackets of a bar.
const barWidth = 30

// pullBars draws one line per layer with a progress bar, the bytes done
// and the speed, and redraws them in place with ANSI cursor movement, as
// docker pull does on a terminal. Like pullLines it draws nothing for an
// image already in the store.
type pullBars struct {
	out      io.Writer
	ref      string
	now      func() time.Time
	header   string
	order    []v1.Hash
	layers   map[v1.Hash]*barState
	fetched  bool
	drawn    int // lines drawn below the header
	lastDraw time.Time
	// width, when above 0, is the terminal's width. Lines are cut to
	// fit, because a line that wraps would break the cursor movement.
	width int
}

// barState is the progress of one layer.
type barState struct {
	status      string
	done, total int64
	started     time.Time
	unpacked    int64         // set when the layer is complete
	elapsed     time.Duration // set when the layer is complete
}

func newPullBars(out io.Writer, ref string, now func() time.Time) *pullBars {
	return &pullBars{out: out, ref: ref, now: now, layers: map[v1.Hash]*barState{}}
}

func (b *pullBars) start(id v1.Hash, layers int) {
	b.header = pullHeader(b.ref, id, layers)
}

func (b *pullBars) state(diffID v1.Hash) *barState {
	s, ok := b.layers[diffID]
	if !ok {
		s = &barState{status: "Waiting"}
		b.layers[diffID] = s
		b.order = append(b.order, diffID)
	}
	return s
}

func (b *pullBars) fetch(diffID v1.Hash) {
	s := b.state(diffID)
	s.status, s.started = "Downloading", b.now()
	if !b.fetched {
		b.fetched = true
		fmt.Fprintln(b.out, b.header)
	}
	b.draw()
}

func (b *pullBars) progress(p pull.LayerProgress) {
	s := b.state(p.DiffID)
	s.done, s.total = p.Done, p.Total
	if b.now().Sub(b.lastDraw) >= barRedrawInterval {
		b.draw()
	}
}

func (b *pullBars) layer(e pull.LayerEvent) {
	s := b.state(e.DiffID)
	if e.Present {
		s.status = "Already present"
	} else {
		s.status, s.unpacked, s.elapsed = "Pull complete", e.Size, e.Duration
	}
	b.draw()
}

// draw moves the cursor back over the lines drawn last time and draws
// every layer's line again.
func (b *pullBars) draw() {
	if !b.fetched {
		return
	}
	var sb strings.Builder
	if b.drawn > 0 {
		fmt.Fprintf(&sb, "\x1b[%dA", b.drawn)
	}
	for _, diffID := range b.order {
		// \r and erase-line make a shorter line replace a longer one.
		line := b.line(diffID, b.layers[diffID])
		if b.width > 0 && len(line) >= b.width {
			line = line[:b.width-1]
		}
		fmt.Fprintf(&sb, "\r\x1b[2K%s\n", line)
	}
	b.drawn = len(b.order)
	b.lastDraw = b.now()
	io.WriteString(b.out, sb.String())
}

func (b *pullBars) line(diffID v1.Hash, s *barState) string {
	short := diffID.Hex[:12]
	switch s.status {
	case "Downloading":
	case "Pull complete":
		return fmt.Sprintf("%s: Pull complete, unpacked %s in %.1fs", short, humanSize(s.unpacked), s.elapsed.Seconds())
	default:
		return short + ": " + s.status
	}

	speed := ""
	if elapsed := b.now().Sub(s.started).Seconds(); elapsed > 0 {
		speed = "  " + humanSize(int64(float64(s.done)/elapsed)) + "/s"
	}
	if s.total <= 0 {
		return fmt.Sprintf("%s: Downloading %s%s", short, humanSize(s.done), speed)
	}
	return fmt.Sprintf("%s: Downloading %s %s/%s%s", short, progressBar(s.done, s.total), humanSize(s.done), humanSize(s.total), speed)
}

// progressBar draws done out of total as [=====>    ].
func progressBar(done, total int64) string {
	filled := int(float64(barWidth) * float64(done) / float64(total))
	filled = min(max(filled, 0), barWidth)
	if filled == barWidth {
		return "[" + strings.Repeat("=", barWidth) + "]"
	}
	return "[" + strings.Repeat("=", filled) + ">" + strings.Repeat(" ", barWidth-filled-1) + "]"
}
