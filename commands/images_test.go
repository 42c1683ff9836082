package commands

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kist-project/kist/store"
)

func TestRepositoryFilter(t *testing.T) {
	images := []store.Image{
		{Names: []string{"docker.io/library/busybox:latest", "docker.io/library/busybox:1", "127.0.0.1:5000/busybox:latest"}},
		{Names: []string{"docker.io/library/debian:bookworm"}},
		{},
	}
	tests := []struct {
		arg  string
		want [][]string
	}{
		{"busybox", [][]string{{"docker.io/library/busybox:latest", "docker.io/library/busybox:1"}}},
		{"busybox:1", [][]string{{"docker.io/library/busybox:1"}}},
		{"127.0.0.1:5000/busybox", [][]string{{"127.0.0.1:5000/busybox:latest"}}},
		{"docker.io/library/debian", [][]string{{"docker.io/library/debian:bookworm"}}},
		{"alpine", nil},
	}
	for _, tt := range tests {
		match, err := repositoryFilter(tt.arg)
		if err != nil {
			t.Fatalf("repositoryFilter(%q): %v", tt.arg, err)
		}
		var got [][]string
		for _, img := range filterNames(images, match) {
			got = append(got, img.Names)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("kist images %s (-want +got):\n%s", tt.arg, diff)
		}
	}
}

func TestTagNameRejectsInvalidNames(t *testing.T) {
	for _, bad := range []string{"x::y", "UPPER:x", "../../etc:passwd", "a b", "", "x@sha256:" + sixtyFourA, "oci:/tmp/layout", "abcdef12"} {
		if got, err := tagName(bad); err == nil {
			t.Errorf("tagName(%q) = %q, want an error", bad, got)
		}
	}
	got, err := tagName("mybox:1")
	if err != nil || got != "docker.io/library/mybox:1" {
		t.Errorf("tagName(mybox:1) = %q, %v; want docker.io/library/mybox:1", got, err)
	}
}

const sixtyFourA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
