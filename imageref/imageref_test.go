package imageref

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

func TestCheck(t *testing.T) {
	valid := []string{"busybox", "127.0.0.1:5000/a/b:1", "[::1]:5000/x", "my_org/app__x/y-z", "a.b-c/x.y:TAG_1"}
	invalid := []string{"../../etc:passwd", "a//b", "host-/x", "x/.y", strings.Repeat("a", 250) + ":1", "x:-tag", "x:.tag"}
	for _, s := range valid {
		if err := Check(parse(t, s)); err != nil {
			t.Errorf("Check(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range invalid {
		ref, err := name.ParseReference(s)
		if err != nil {
			t.Fatalf("go-containerregistry rejects %q, so this case tests nothing: %v", s, err)
		}
		if err := Check(ref); err == nil {
			t.Errorf("Check(%q) = nil, want an error", s)
		}
	}
}

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{
		"busybox":                         "docker.io/library/busybox:latest",
		"index.docker.io/library/busybox": "docker.io/library/busybox:latest",
		"127.0.0.1:5000/app@sha256:" + strings.Repeat("a", 64): "127.0.0.1:5000/app@sha256:" + strings.Repeat("a", 64),
	} {
		if got := Canonical(parse(t, in)); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
	}
}

func parse(t *testing.T, s string) name.Reference {
	t.Helper()
	ref, err := name.ParseReference(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return ref
}
