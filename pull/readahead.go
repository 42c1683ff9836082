package pull

import (
	"io"
	"sync"
)

// readAhead runs a producer in a goroutine of its own and lets the
// consumer read its output up to depth chunks behind. For a layer the
// producer downloads, hashes and decompresses while the consumer, the
// unpacker, makes its system calls: two CPUs at work instead of one.
type readAhead struct {
	chunks chan []byte
	free   chan []byte
	stop   chan struct{}
	done   chan struct{}
	err    error // the producer's error, read only after done is closed
	cur    []byte
	buf    []byte // the buffer cur points into
	once   sync.Once
}

// chunkSize matches the copy buffer of io.Copy, so each producer write
// fills one chunk.
const chunkSize = 32 << 10

// newReadAhead starts produce, which writes its output to the writer it
// is given, and returns the reader of that output.
func newReadAhead(depth int, produce func(io.Writer) error) *readAhead {
	ra := &readAhead{
		chunks: make(chan []byte, depth),
		free:   make(chan []byte, depth+1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	for i := 0; i < depth+1; i++ {
		ra.free <- make([]byte, chunkSize)
	}
	go func() {
		defer close(ra.done)
		defer close(ra.chunks)
		ra.err = produce(chunkWriter{ra})
	}()
	return ra
}

// errStopped is returned to the producer when the consumer gave up.
var errStopped = io.ErrClosedPipe

type chunkWriter struct{ ra *readAhead }

func (w chunkWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		var buf []byte
		select {
		case buf = <-w.ra.free:
		case <-w.ra.stop:
			return written, errStopped
		}
		n := copy(buf[:cap(buf)], p)
		select {
		case w.ra.chunks <- buf[:n]:
		case <-w.ra.stop:
			return written, errStopped
		}
		written += n
		p = p[n:]
	}
	return written, nil
}

// Read implements io.Reader.
func (ra *readAhead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.buf != nil {
			ra.free <- ra.buf
			ra.buf = nil
		}
		next, ok := <-ra.chunks
		if !ok {
			<-ra.done
			if ra.err != nil {
				return 0, ra.err
			}
			return 0, io.EOF
		}
		ra.buf, ra.cur = next, next
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// Stop makes the producer's next write fail and waits for the producer
// to return. The caller must first unblock a producer that may be stuck
// reading, for example by closing the network stream it reads.
func (ra *readAhead) Stop() error {
	ra.once.Do(func() { close(ra.stop) })
	<-ra.done
	if ra.err == errStopped {
		return nil
	}
	return ra.err
}
