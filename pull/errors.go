package pull

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/kist-project/kist/auth"
)

// operation is a pull or push of one image, as error messages name it.
type operation struct {
	// action opens each message, as in "pull NAME" or "push SOURCE to NAME".
	action string
	// verb is the command that the user runs again: pull or push.
	verb string
	// image is the remote reference as the user wrote it.
	image string
	// registry is the registry's host[:port].
	registry string
}

// PushError turns a failed push of source to ref into one line that
// names the registry and what to do about it, as pull's errors do.
func PushError(source string, ref name.Reference, err error) error {
	op := operation{
		action:   fmt.Sprintf("push %s to %s", source, ref.Name()),
		verb:     "push",
		image:    ref.Name(),
		registry: ref.Context().RegistryStr(),
	}
	return op.describe(err)
}

// describe turns a registry failure into one line that names the image
// or registry and what to do about it.
func (op operation) describe(err error) error {
	var certErr *CertificateError
	var trustErr *TrustConfigError
	var noResponse *noResponseError
	if fault := registryFault(err); fault != nil {
		return fmt.Errorf("%s: %w", op.action, fault)
	}
	switch {
	case errors.As(err, &certErr):
		return fmt.Errorf("%s: %w", op.action, certErr)
	case errors.As(err, &trustErr):
		return fmt.Errorf("%s: %w", op.action, trustErr)
	case errors.As(err, &noResponse):
		return fmt.Errorf("%s: %w", op.action, noResponse)
	}

	var terr *transport.Error
	if errors.As(err, &terr) {
		return op.describeStatus(terr)
	}

	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.As(err, &dnsErr):
		return fmt.Errorf("%s: cannot resolve registry host %s; check the registry name and your DNS", op.action, dnsErr.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%s: registry %s is unreachable (connection refused); check the address and that the registry is running",
			op.action, op.registry)
	case errors.As(err, &opErr):
		return fmt.Errorf("%s: registry %s is unreachable (%v); check the address and that the registry is running",
			op.action, op.registry, opErr.Err)
	}
	return fmt.Errorf("%s: %w", op.action, err)
}

// describeStatus explains an HTTP error status of the registry.
func (op operation) describeStatus(terr *transport.Error) error {
	notFound := terr.StatusCode == http.StatusNotFound ||
		hasCode(terr, transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode)
	switch {
	case notFound && op.verb == "pull":
		return fmt.Errorf("image %s not found in registry %s; check the name and tag", op.image, op.registry)
	case terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%s: registry %s denied access (HTTP %d); log in with kist login %s or check the name",
			op.action, op.registry, terr.StatusCode, loginName(op.registry))
	case retryableStatus(terr.StatusCode):
		return fmt.Errorf("%s: registry %s returned HTTP %d on every attempt; wait and %s again: %v",
			op.action, op.registry, terr.StatusCode, op.verb, terr)
	default:
		return fmt.Errorf("%s: registry %s returned HTTP %d: %v", op.action, op.registry, terr.StatusCode, terr)
	}
}

// loginName spells registry as kist login takes it, with Docker Hub as
// docker.io.
func loginName(registry string) string {
	if registry == name.DefaultRegistry {
		return auth.DockerHub
	}
	return registry
}

func hasCode(terr *transport.Error, codes ...transport.ErrorCode) bool {
	for _, d := range terr.Errors {
		for _, c := range codes {
			if d.Code == c {
				return true
			}
		}
	}
	return false
}

// resumeError reports why a broken blob download could not resume. Its
// message names the blob and the registry already.
type resumeError struct{ err error }

func (e *resumeError) Error() string { return e.err.Error() }

func (e *resumeError) Unwrap() error { return e.err }

// downloadError reports a blob download that failed for good, after the
// retries and resumed requests that the retry policy allows.
type downloadError struct {
	blob, host string
	// offset is the number of bytes received. size is the blob's length,
	// or -1 when no response contained it.
	offset, size int64
	attempts     int
	cause        error
	// timeout is the limit that ran out, or zero when cause is no
	// time-out. stalled marks the limit on a gap in the data, as opposed
	// to the wait for response headers.
	timeout time.Duration
	stalled bool
}

func (e *downloadError) Error() string {
	return fmt.Sprintf("download blob %s from %s failed at %s: %s (%d attempts); check the network and that the registry is working, then pull again",
		e.blob, e.host, e.progress(), e.happened(), e.attempts)
}

func (e *downloadError) Unwrap() error { return e.cause }

// progress describes how far the download got.
func (e *downloadError) progress() string {
	switch {
	case e.size >= 0:
		return fmt.Sprintf("byte %d of %d", e.offset, e.size)
	case e.offset == 0:
		return "the start, before any data arrived"
	}
	return fmt.Sprintf("byte %d", e.offset)
}

// happened describes the last failure without the URL that net/http
// puts in front of it.
func (e *downloadError) happened() string {
	switch {
	case e.timeout > 0 && e.stalled:
		return fmt.Sprintf("timed out after %v without data", e.timeout)
	case e.timeout > 0:
		return fmt.Sprintf("timed out after %v waiting for the response headers", e.timeout)
	}
	var urlErr *url.Error
	if errors.As(e.cause, &urlErr) {
		return urlErr.Err.Error()
	}
	return e.cause.Error()
}
