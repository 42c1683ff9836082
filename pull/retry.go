package pull

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/sirupsen/logrus"
)

// retryPolicy sets how often and how long a registry request is retried.
type retryPolicy struct {
	// attempts is the total number of tries, the first included.
	attempts int
	// delay is the wait before the second try. It doubles for each
	// further try.
	delay time.Duration
	// maxDelay caps one wait, including one that a Retry-After header
	// requests, so a registry cannot stall a pull for an hour.
	maxDelay time.Duration
}

// defaultRetry tries four times over about seven seconds: long enough to
// ride out a registry restart or a short rate limit, short enough that a
// registry that is really down fails the pull quickly.
var defaultRetry = retryPolicy{attempts: 4, delay: time.Second, maxDelay: 30 * time.Second}

// wait returns the pause before try number next (2 for the first retry).
func (p retryPolicy) wait(next int) time.Duration {
	d := p.delay << (next - 2)
	if d > p.maxDelay || d <= 0 {
		return p.maxDelay
	}
	return d
}

// retryTransport retries a registry request that failed in a way that
// may pass: HTTP 429 and 5xx other than 501, and a connection that broke
// before the response arrived. It retries only requests whose body can
// be sent again. go-containerregistry's own retries are turned off in
// RemoteOptions, so attempts do not multiply and Retry-After is honoured.
type retryTransport struct {
	next   http.RoundTripper
	policy retryPolicy
}

// RoundTrip implements http.RoundTripper.
func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !replayable(req) {
		return t.next.RoundTrip(req)
	}
	for try := 1; ; try++ {
		resp, err := t.next.RoundTrip(req)
		if !retryable(resp, err) || req.Context().Err() != nil {
			return resp, err
		}
		if try >= t.policy.attempts {
			switch {
			case err != nil && noHeaders(err):
				err = &noResponseError{registry: req.URL.Host, err: err, attempts: try}
			case err != nil:
				err = &attemptsSpentError{err: err, attempts: try}
			}
			return resp, err
		}

		wait := t.policy.wait(try + 1)
		reason := ""
		if err != nil {
			reason = err.Error()
		} else {
			reason = resp.Status
			if after, ok := retryAfter(resp, time.Now()); ok {
				wait = min(after, t.policy.maxDelay)
			}
			drain(resp)
		}
		logrus.Warnf("%s %s: %s; retrying in %v (attempt %d of %d)",
			req.Method, req.URL.Redacted(), reason, wait, try+1, t.policy.attempts)

		if err := sleep(req.Context(), wait); err != nil {
			return nil, err
		}
		if req, err = rewind(req); err != nil {
			return nil, err
		}
	}
}

// attemptsSpentError is the last error of a request that was tried as
// often as the policy allows.
type attemptsSpentError struct {
	err      error
	attempts int
}

func (e *attemptsSpentError) Error() string {
	return fmt.Sprintf("%v (tried %d times)", e.err, e.attempts)
}

func (e *attemptsSpentError) Unwrap() error { return e.err }

// noResponseError reports that a registry accepted a request but sent
// no response headers in time, on every attempt.
type noResponseError struct {
	registry string
	err      error
	attempts int
}

func (e *noResponseError) Error() string {
	return fmt.Sprintf("registry %s sent no response headers before the timeout, on %d attempts (%v); "+
		"check that the registry is working and try again", e.registry, e.attempts, e.err)
}

func (e *noResponseError) Unwrap() error { return e.err }

// retryOutside is the retry predicate that go-containerregistry uses,
// for its own transport and for push uploads. It retries a broken
// connection as its default does, but not once retryTransport has spent
// its attempts on the request, so that attempts do not multiply.
func retryOutside(err error) bool {
	var spent *attemptsSpentError
	var noResponse *noResponseError
	if err == nil || errors.As(err, &spent) || errors.As(err, &noResponse) {
		return false
	}
	return retryable(nil, err)
}

// resilience is the retry policy and the timeouts of registry requests.
type resilience struct {
	retry retryPolicy
	stall time.Duration
	// headers is how long a request waits for the response headers
	// before the try counts as failed.
	headers time.Duration
}

var defaultResilience = resilience{retry: defaultRetry, stall: defaultStall, headers: defaultHeaderTimeout}

// wrap adds retries and resumed blob downloads to t. A resumed download
// whose credentials expired authenticates again with keychain.
func (r resilience) wrap(t http.RoundTripper, keychain authn.Keychain) http.RoundTripper {
	retrying := &retryTransport{next: t, policy: r.retry}
	return &resumeTransport{next: retrying, policy: r.retry, stall: r.stall, headers: r.headers, keychain: keychain}
}

// replayable reports whether req can be sent more than once.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// rewind returns req with a fresh copy of its body.
func rewind(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, fmt.Errorf("%s %s: rewind request body: %w", req.Method, req.URL.Redacted(), err)
	}
	clone := req.Clone(req.Context())
	clone.Body = body
	return clone, nil
}

// retryable reports whether a try that ended with resp or err may
// succeed when sent again.
func retryable(resp *http.Response, err error) bool {
	if err != nil {
		// A refused connection is not retried: nothing listens there, and
		// a pull through a mirror that is down should fall back at once.
		return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) ||
			errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.EPIPE) || noHeaders(err)
	}
	return retryableStatus(resp.StatusCode)
}

// noHeaders reports whether err is a timeout of a registry that accepted
// the connection, which the transport's ResponseHeaderTimeout raises.
// A dial that timed out is not one, because no registry accepted a
// connection at that address, and neither is the end of the request's
// own context.
func noHeaders(err error) bool {
	if endsContext(err) {
		return false
	}
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		return false
	}
	var opErr *net.OpError
	return !errors.As(err, &opErr) || opErr.Op != "dial"
}

// endsContext reports whether err is, or wraps, the error of a context
// that ended. It compares identity, not errors.Is, because net/http's
// response header timeout reports itself as context.DeadlineExceeded to
// errors.Is (Go 1.23 and later) although no context ended.
func endsContext(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if err == context.DeadlineExceeded || err == context.Canceled { //nolint:errorlint // see above
			return true
		}
	}
	return false
}

// retryableStatus reports whether a registry may respond differently to
// the same request a little later.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryAfter reads the Retry-After header of resp, in seconds or as an
// HTTP date (RFC 9110, section 10.2.3).
func retryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	value := resp.Header.Get("Retry-After")
	if value == "" {
		return 0, false
	}
	if seconds, err := strconv.Atoi(value); err == nil && seconds >= 0 {
		return time.Duration(seconds) * time.Second, true
	}
	if when, err := http.ParseTime(value); err == nil {
		return max(when.Sub(now), 0), true
	}
	return 0, false
}

// drain reads a little of a response that is dropped, so its connection
// can be reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
