package pull

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/sirupsen/logrus"
)

// resumeTransport makes a blob download that breaks part way continue
// where it stopped, with a request for the rest ("Range: bytes=N-"). It
// sits below go-containerregistry's authentication, so the range request
// carries the same credentials and follows the same redirect as the
// first. When the registry rejects those credentials, because a bearer
// token expired, the range request authenticates again. A layer's
// Compressed() stream thus resumes without a byte read twice, and the
// digest checks of the reader stay as they are.
type resumeTransport struct {
	next   http.RoundTripper
	policy retryPolicy
	// stall is how long one read may wait for a byte before the
	// download counts as broken.
	stall time.Duration
	// headers is the transport's response header timeout, for messages.
	headers time.Duration
	// keychain supplies the credentials when a range request needs a
	// fresh token. Without it such a request fails.
	keychain authn.Keychain
}

// defaultStall matches the transport's response header timeout: far
// above the gap between two packets of a working download.
const defaultStall = time.Minute

// RoundTrip implements http.RoundTripper.
func (t *resumeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || req.Header.Get("Range") != "" || !isBlobRequest(req) {
		return t.next.RoundTrip(req)
	}

	stream, resp, err := t.open(req)
	var noResponse *noResponseError
	if errors.As(err, &noResponse) {
		return nil, &downloadError{
			blob: blobName(req), host: req.URL.Host, size: -1,
			attempts: noResponse.attempts, cause: err, timeout: t.headers,
		}
	}
	if err != nil {
		return nil, err
	}
	// A body that Go decompressed on the fly has other offsets than the
	// blob, so a range request could not continue it.
	if resp.StatusCode != http.StatusOK || resp.Uncompressed {
		return resp, nil
	}
	ctx, cancel := context.WithCancel(req.Context())
	resp.Body = &resumingBody{
		transport: t, req: req, ctx: ctx, cancel: cancel,
		stream: stream, size: resp.ContentLength, blob: blobName(req),
	}
	return resp, nil
}

// open sends req through t.next with a context of its own, so that a
// stalled read can cancel this request alone.
func (t *resumeTransport) open(req *http.Request) (*blobStream, *http.Response, error) {
	return t.openWith(t.next, req)
}

// openWith is open through rt.
func (t *resumeTransport) openWith(rt http.RoundTripper, req *http.Request) (*blobStream, *http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	resp, err := rt.RoundTrip(req.Clone(ctx))
	if err != nil {
		cancel()
		return nil, nil, err
	}
	stream := &blobStream{body: resp.Body, cancel: cancel, stalled: &atomic.Bool{}}
	stalled := stream.stalled
	stream.timer = time.AfterFunc(t.stall, func() {
		stalled.Store(true)
		cancel()
	})
	stream.timer.Stop()
	return stream, resp, nil
}

// isBlobRequest reports whether req fetches a blob: its URL, or that of
// the request that redirected to it, has the /v2/NAME/blobs/DIGEST form.
func isBlobRequest(req *http.Request) bool {
	return blobName(req) != ""
}

// blobName returns the digest that a blob request names, or "".
func blobName(req *http.Request) string {
	for r := req; r != nil; {
		if _, digest, ok := strings.Cut(r.URL.Path, "/blobs/"); ok && strings.HasPrefix(r.URL.Path, "/v2/") {
			return digest
		}
		if r.Response == nil {
			break
		}
		r = r.Response.Request
	}
	return ""
}

// blobStream is one response body of a blob download and what stops it
// when it stalls.
type blobStream struct {
	body    io.ReadCloser
	cancel  context.CancelFunc
	timer   *time.Timer
	stalled *atomic.Bool
}

// read reads from the stream, and cancels its request when no byte
// arrives within stall.
func (s *blobStream) read(p []byte, stall time.Duration) (int, error) {
	s.timer.Reset(stall)
	n, err := s.body.Read(p)
	s.timer.Stop()
	if err != nil && err != io.EOF && s.stalled.Load() {
		err = fmt.Errorf("%w: no data for %v", errStalled, stall)
	}
	return n, err
}

func (s *blobStream) close() {
	s.timer.Stop()
	s.body.Close()
	s.cancel()
}

// errStalled marks a download that received no data for the stall time.
var errStalled = errors.New("download stalled")

// resumingBody is the body of a blob download that resumes after a
// break.
type resumingBody struct {
	transport *resumeTransport
	// req is the request of the first stream.
	req *http.Request
	// ctx ends when the body is closed, which stops a resume under way.
	ctx    context.Context
	cancel context.CancelFunc
	blob   string

	// mu guards stream, which Close may close while Read replaces it.
	mu     sync.Mutex
	stream *blobStream

	// offset counts the bytes delivered; size is the blob's length, or
	// -1 when the registry did not send it.
	offset, size int64
	// failures counts the breaks since the last byte arrived.
	failures int
	err      error
}

// Read implements io.Reader.
func (b *resumingBody) Read(p []byte) (int, error) {
	for {
		if b.err != nil {
			return 0, b.err
		}
		b.mu.Lock()
		stream := b.stream
		b.mu.Unlock()

		n, err := stream.read(p, b.transport.stall)
		b.offset += int64(n)
		if n > 0 {
			b.failures = 0
		}
		if err == nil || err == io.EOF {
			return n, err
		}
		if !resumable(b.ctx, err) {
			b.err = err
			return n, err
		}

		stream.close()
		b.err = b.resume(err)
		if n > 0 {
			return n, nil
		}
	}
}

// Close implements io.Closer.
func (b *resumingBody) Close() error {
	b.cancel()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stream.close()
	return nil
}

// resume replaces the broken stream with the rest of the blob, trying as
// often as the retry policy allows.
func (b *resumingBody) resume(cause error) error {
	policy := b.transport.policy
	for {
		b.failures++
		if b.failures >= policy.attempts {
			return b.failure(cause, policy.attempts)
		}
		wait := policy.wait(b.failures + 1)
		logrus.Warnf("download blob %s from %s broke at %s: %v; resuming in %v (attempt %d of %d)",
			b.blob, b.req.URL.Host, b.progress(), cause, wait, b.failures+1, policy.attempts)
		if err := sleep(b.ctx, wait); err != nil {
			return err
		}

		err := b.requestRest()
		if err == nil || !resumable(b.ctx, err) {
			return err
		}
		cause = err
	}
}

// requestRest requests the blob from b.offset on. The request carries
// the credentials of the first. When the registry rejects them, as it
// does once a bearer token has expired, the request is sent again with
// fresh ones.
func (b *resumingBody) requestRest() error {
	req := b.req.Clone(b.ctx)
	req.Header.Set("Range", "bytes="+strconv.FormatInt(b.offset, 10)+"-")
	stream, resp, err := b.transport.open(req)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusUnauthorized && b.transport.keychain != nil && sentToRegistry(b.req) {
		stream.close()
		logrus.Warnf("download blob %s from %s: the registry rejected the credentials of the resumed request (HTTP 401); authenticating again",
			b.blob, b.req.URL.Host)
		if stream, resp, err = b.openReauthenticated(req); err != nil {
			return err
		}
	}

	start, ok := rangeStart(resp.Header.Get("Content-Range"))
	switch {
	case resp.StatusCode == http.StatusOK:
		stream.close()
		return &resumeError{fmt.Errorf("download blob %s from %s: the connection broke at %s and the registry ignored the request for the rest (HTTP 200 to a Range request), so the download cannot resume; pull again",
			b.blob, b.req.URL.Host, b.progress())}
	case resp.StatusCode != http.StatusPartialContent:
		stream.close()
		return &resumeError{fmt.Errorf("download blob %s from %s: the connection broke at %s and the request for the rest returned %s; pull again",
			b.blob, b.req.URL.Host, b.progress(), resp.Status)}
	case !ok || start != b.offset:
		stream.close()
		return &resumeError{fmt.Errorf("download blob %s from %s: requested the bytes from %d on, but the registry sent Content-Range %q; pull again",
			b.blob, b.req.URL.Host, b.offset, resp.Header.Get("Content-Range"))}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.ctx.Err(); err != nil {
		stream.close()
		return err
	}
	b.stream = stream
	return nil
}

// failure returns the error of a download that broke attempts times
// without new data, the last time with cause.
func (b *resumingBody) failure(cause error, attempts int) *downloadError {
	e := &downloadError{
		blob: b.blob, host: b.req.URL.Host, offset: b.offset, size: b.size,
		attempts: attempts, cause: cause,
	}
	var noResponse *noResponseError
	switch {
	case errors.Is(cause, errStalled):
		e.timeout, e.stalled = b.transport.stall, true
	case errors.As(cause, &noResponse):
		e.timeout = b.transport.headers
	}
	return e
}

// openReauthenticated sends req to the registry with fresh credentials,
// in place of the Authorization header of the first request.
func (b *resumingBody) openReauthenticated(req *http.Request) (*blobStream, *http.Response, error) {
	rt, err := b.transport.reauthenticate(b.ctx, req)
	if err != nil {
		return nil, nil, &resumeError{fmt.Errorf("download blob %s from %s: %w", b.blob, b.req.URL.Host, err)}
	}
	fresh := req.Clone(b.ctx)
	fresh.Header.Del("Authorization")
	return b.transport.openWith(rt, fresh)
}

// progress describes how far the download got.
func (b *resumingBody) progress() string {
	if b.size < 0 {
		return fmt.Sprintf("byte %d", b.offset)
	}
	return fmt.Sprintf("byte %d of %d", b.offset, b.size)
}

// rangeStart returns the first byte position of a Content-Range header
// such as "bytes 100-999/1000".
func rangeStart(header string) (int64, bool) {
	spec, ok := strings.CutPrefix(header, "bytes ")
	if !ok {
		return 0, false
	}
	first, _, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(first, 10, 64)
	return n, err == nil
}

// resumable reports whether a download that failed with err may continue
// with a range request. A download that the pull itself cancelled does
// not.
func resumable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var netErr net.Error
	return errors.Is(err, errStalled) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.As(err, &netErr)
}
