package pull

import (
	"io"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// LayerProgress reports the download of one layer blob.
type LayerProgress struct {
	DiffID v1.Hash
	// Done is how many bytes of the compressed blob have been read.
	Done int64
	// Total is the blob's size from the manifest, or 0 when unknown.
	Total int64
}

// withCallbacks sets OnLayer and OnFetch to no-ops when they are nil and
// makes every callback run one at a time, so that a caller can keep its
// progress state without locks while layers are fetched in parallel.
func (opts Options) withCallbacks() Options {
	var mu sync.Mutex
	onLayer, onFetch, onProgress := opts.OnLayer, opts.OnFetch, opts.OnProgress

	opts.OnLayer = func(e LayerEvent) {
		if onLayer != nil {
			mu.Lock()
			defer mu.Unlock()
			onLayer(e)
		}
	}
	opts.OnFetch = func(diffID v1.Hash) {
		if onFetch != nil {
			mu.Lock()
			defer mu.Unlock()
			onFetch(diffID)
		}
	}
	if onProgress != nil {
		opts.OnProgress = func(p LayerProgress) {
			mu.Lock()
			defer mu.Unlock()
			onProgress(p)
		}
	}
	return opts
}

// progressReader reports the bytes read from a layer blob.
type progressReader struct {
	io.ReadCloser
	report   func(LayerProgress)
	progress LayerProgress
}

// newProgressReader returns r, wrapped to call report after each read
// when report is set.
func newProgressReader(r io.ReadCloser, layer v1.Layer, diffID v1.Hash, report func(LayerProgress)) io.ReadCloser {
	if report == nil {
		return r
	}
	total, err := layer.Size()
	if err != nil || total < 0 {
		total = 0
	}
	p := &progressReader{ReadCloser: r, report: report, progress: LayerProgress{DiffID: diffID, Total: total}}
	report(p.progress)
	return p
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.ReadCloser.Read(b)
	if n > 0 {
		p.progress.Done += int64(n)
		p.report(p.progress)
	}
	return n, err
}
