package pull

import (
	"strings"
	"testing"
)

func TestParseReference(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"busybox", "docker.io/library/busybox:latest"},
		{"docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36"},
		{"127.0.0.1:5000/debian:bookworm", "127.0.0.1:5000/debian:bookworm"},
		{"localhost:5000/a/b", "localhost:5000/a/b:latest"},
		{"ghcr.io/x/y@sha256:" + strings.Repeat("a", 64), "ghcr.io/x/y@sha256:" + strings.Repeat("a", 64)},
	}
	for _, tt := range tests {
		ref, err := ParseReference(tt.in)
		if err != nil {
			t.Errorf("ParseReference(%q): %v", tt.in, err)
			continue
		}
		if ref.Name != tt.want {
			t.Errorf("ParseReference(%q).Name = %q, want %q", tt.in, ref.Name, tt.want)
		}
	}
}

func TestParseReferenceInvalid(t *testing.T) {
	for _, in := range []string{"", "BAD::ref", "Upper/case", "x@sha256:12", "../../etc:passwd", "a//b", "host-/x", "x/.y"} {
		_, err := ParseReference(in)
		if err == nil {
			t.Errorf("ParseReference(%q) accepted an invalid reference", in)
			continue
		}
		if !strings.Contains(err.Error(), `"`+in+`"`) {
			t.Errorf("error %q does not name the value %q", err, in)
		}
	}
}

func TestParseLayoutReference(t *testing.T) {
	ref, err := ParseReference("oci:/images/hello:v1")
	if err != nil {
		t.Fatalf("ParseReference: %v", err)
	}
	if ref.LayoutPath != "/images/hello" {
		t.Errorf("LayoutPath = %q", ref.LayoutPath)
	}
	if ref.LayoutTag != "v1" {
		t.Errorf("LayoutTag = %q", ref.LayoutTag)
	}
	if ref.Name != "localhost/hello:v1" {
		t.Errorf("Name = %q", ref.Name)
	}
	if _, err := ParseReference("oci:"); err == nil {
		t.Error("ParseReference accepted oci: without a path")
	}
}
