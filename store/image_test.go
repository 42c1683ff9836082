package store

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAddAndLookupImage(t *testing.T) {
	st := openTest(t)
	img := Image{ID: digestOf([]byte("config a")), Manifest: digestOf([]byte("manifest a")), Created: time.Unix(100, 0)}
	if err := st.AddImage(img, "docker.io/library/a:latest", "docker.io/library/a@sha256:1234"); err != nil {
		t.Fatalf("AddImage: %v", err)
	}

	for _, ref := range []string{"docker.io/library/a:latest", "docker.io/library/a@sha256:1234", img.ID.String(), img.ID.Hex[:12], img.ID.Hex[:4]} {
		got, err := st.LookupImage(ref)
		if err != nil {
			t.Errorf("LookupImage(%q): %v", ref, err)
			continue
		}
		if got.ID != img.ID {
			t.Errorf("LookupImage(%q) = %s, want %s", ref, got.ID, img.ID)
		}
	}
	for _, ref := range []string{"docker.io/library/b:latest", "abc", "zzzz"} {
		if _, err := st.LookupImage(ref); !errors.Is(err, ErrNotFound) {
			t.Errorf("LookupImage(%q): got %v, want ErrNotFound", ref, err)
		}
	}
}

func TestAddImageMovesName(t *testing.T) {
	st := openTest(t)
	old := Image{ID: digestOf([]byte("old")), Manifest: digestOf([]byte("old manifest")), Created: time.Unix(1, 0)}
	newer := Image{ID: digestOf([]byte("new")), Manifest: digestOf([]byte("new manifest")), Created: time.Unix(2, 0)}
	if err := st.AddImage(old, "r/x:latest", ""); err != nil {
		t.Fatal(err)
	}
	if err := st.AddImage(newer, "r/x:latest", ""); err != nil {
		t.Fatal(err)
	}

	images, err := st.Images()
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != 2 {
		t.Fatalf("Images returned %d images, want 2", len(images))
	}
	if images[0].ID != newer.ID {
		t.Errorf("first image = %s, want the newest", images[0].ID)
	}
	if diff := cmp.Diff([]string{"r/x:latest"}, images[0].Names); diff != "" {
		t.Errorf("names of new image (-want +got):\n%s", diff)
	}
	if len(images[1].Names) != 0 {
		t.Errorf("old image keeps names %v", images[1].Names)
	}
}
