package blobimage

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ErrMismatch is returned when a blob does not match its descriptor.
var ErrMismatch = errors.New("blob does not match its descriptor")

// Verify wraps rc so that reading it to the end fails unless the content
// has the descriptor's size and sha256 digest. It also fails as soon as
// more bytes than the size arrive.
func Verify(rc io.ReadCloser, d v1.Descriptor) io.ReadCloser {
	return &verifier{rc: rc, want: d, hash: sha256.New()}
}

type verifier struct {
	rc   io.ReadCloser
	want v1.Descriptor
	hash hash.Hash
	n    int64
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.rc.Read(p)
	v.hash.Write(p[:n])
	v.n += int64(n)
	if v.n > v.want.Size {
		return n, fmt.Errorf("blob %s: %w: more than %d bytes", v.want.Digest, ErrMismatch, v.want.Size)
	}
	if !errors.Is(err, io.EOF) {
		return n, err
	}
	if v.n != v.want.Size {
		return n, fmt.Errorf("blob %s: %w: %d bytes, not %d", v.want.Digest, ErrMismatch, v.n, v.want.Size)
	}
	got := hex.EncodeToString(v.hash.Sum(nil))
	if v.want.Digest.Algorithm != "sha256" || got != v.want.Digest.Hex {
		return n, fmt.Errorf("blob %s: %w: content has digest sha256:%s", v.want.Digest, ErrMismatch, got)
	}
	return n, io.EOF
}

func (v *verifier) Close() error { return v.rc.Close() }
