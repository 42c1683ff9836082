package pull

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sirupsen/logrus"

	"github.com/kist-project/kist/store"
)

// DefaultConcurrentLayers is how many layers a pull downloads and unpacks
// at once when Options.ConcurrentLayers is 0. It is the default of
// docker's max-concurrent-downloads.
const DefaultConcurrentLayers = 3

// layerJob is one layer of an image being made present in the store.
type layerJob struct {
	index  int
	layer  v1.Layer
	diffID v1.Hash
	chain  v1.Hash
	// same is the job of the nearest lower layer with the same diff ID,
	// which must finish first: two unpacks of one diff ID at once would
	// race to commit the same directory.
	same *layerJob
	done chan struct{} // closed when info and err are set
	info store.LayerInfo
	err  error
}

// fetchLayers makes sure every layer of img is unpacked in st. Up to
// opts.ConcurrentLayers layers download and unpack at once. A layer that
// needs the layers below it, for a hardlink to a lower file or a parent
// directory it has no entry for, waits for them at that entry. It returns
// the unpacked size of all layers.
func fetchLayers(ctx context.Context, st *store.Store, img v1.Image, diffIDs []v1.Hash, opts Options) (int64, error) {
	layers, err := img.Layers()
	if err != nil {
		return 0, fmt.Errorf("read layers: %w", err)
	}
	jobs := newLayerJobs(layers, diffIDs)

	// Taking every lock the pull needs before unpacking anything, in one
	// order, keeps two pulls from waiting for each other: a layer holds
	// its lock while it waits for the layers below it.
	locks, err := lockMissing(st, jobs)
	if err != nil {
		return 0, err
	}
	defer unlockAll(locks)

	if err := runJobs(ctx, st, jobs, opts); err != nil {
		return 0, err
	}
	var total int64
	for _, job := range jobs {
		total += job.info.Size
	}
	return total, nil
}

func newLayerJobs(layers []v1.Layer, diffIDs []v1.Hash) []*layerJob {
	chain := store.ChainIDs(diffIDs)
	jobs := make([]*layerJob, len(layers))
	last := map[v1.Hash]*layerJob{}
	for i, layer := range layers {
		jobs[i] = &layerJob{
			index: i, layer: layer, diffID: diffIDs[i], chain: chain[i],
			same: last[diffIDs[i]], done: make(chan struct{}),
		}
		last[diffIDs[i]] = jobs[i]
	}
	return jobs
}

// lockMissing takes the lock of each layer that is not in the store yet,
// in the order of their diff IDs.
func lockMissing(st *store.Store, jobs []*layerJob) ([]*store.Lock, error) {
	seen := map[v1.Hash]bool{}
	var missing []v1.Hash
	for _, job := range jobs {
		if _, ok := presentLayer(st, job.diffID, job.chain); ok || seen[job.diffID] {
			continue
		}
		seen[job.diffID] = true
		missing = append(missing, job.diffID)
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i].String() < missing[j].String() })

	var locks []*store.Lock
	for _, diffID := range missing {
		l, err := st.LockLayer(diffID)
		if err != nil {
			unlockAll(locks)
			return nil, err
		}
		locks = append(locks, l)
	}
	return locks, nil
}

func unlockAll(locks []*store.Lock) {
	for _, l := range locks {
		l.Unlock()
	}
}

// runJobs runs the jobs, starting them bottom first and at most
// opts.ConcurrentLayers at a time. Starting them in order means that the
// lowest unfinished layer always runs, so waiting for lower layers cannot
// stall the pull. The first error cancels the other jobs and is returned.
func runJobs(ctx context.Context, st *store.Store, jobs []*layerJob, opts Options) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	limit := opts.ConcurrentLayers
	if limit < 1 {
		limit = DefaultConcurrentLayers
	}

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	slots := make(chan struct{}, limit)
	for _, job := range jobs {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			// Jobs not started never close done; nothing waits on them
			// once the context is done.
			wg.Wait()
			if firstErr != nil {
				return firstErr
			}
			return ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			info, err := runJob(ctx, st, job, jobs[:job.index], opts)
			if err != nil {
				// Recorded before done closes, so that the error of a
				// layer above, which wraps this one, cannot come first.
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				cancel()
			}
			job.info, job.err = info, err
			close(job.done)
		}()
	}
	wg.Wait()
	return firstErr
}

// runJob makes one layer present once any job with the same diff ID
// below it has finished.
func runJob(ctx context.Context, st *store.Store, job *layerJob, lower []*layerJob, opts Options) (store.LayerInfo, error) {
	if job.same != nil {
		if _, err := waitJob(ctx, job.same); err != nil {
			return store.LayerInfo{}, err
		}
	}
	waitLower := func(ctx context.Context) ([]string, error) {
		logrus.Debugf("layer %s waits for the %d layers below it", job.diffID, len(lower))
		return lowerDirs(ctx, st, lower)
	}
	return ensureLayer(ctx, st, job.layer, job.diffID, job.chain, waitLower, opts)
}

// lowerDirs waits until every job in lower has finished and returns
// their diff directories, topmost first.
func lowerDirs(ctx context.Context, st *store.Store, lower []*layerJob) ([]string, error) {
	dirs := make([]string, 0, len(lower))
	for i := len(lower) - 1; i >= 0; i-- {
		info, err := waitJob(ctx, lower[i])
		if err != nil {
			return nil, err
		}
		dirs = append(dirs, filepath.Join(st.LayerDir(info.Key), "diff"))
	}
	return dirs, nil
}

func waitJob(ctx context.Context, job *layerJob) (store.LayerInfo, error) {
	select {
	case <-job.done:
	case <-ctx.Done():
		return store.LayerInfo{}, ctx.Err()
	}
	if job.err != nil {
		return store.LayerInfo{}, fmt.Errorf("layer %d below failed: %w", job.index+1, job.err)
	}
	return job.info, nil
}
