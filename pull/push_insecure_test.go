package pull

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

func TestPushInsecure(t *testing.T) {
	writeRegistries(t, `
[[registry]]
prefix = "Registry.Example.com:5000/team"
insecure = true

[[registry]]
prefix = "registry.example.com:5000"
`)
	tests := []struct {
		ref  string
		want bool
	}{
		{"registry.example.com:5000/team/app:1", true},
		{"registry.example.com:5000/team:1", true},
		{"registry.example.com:5000/other/app:1", false},
		{"registry.example.com:5000/teamwork/app:1", false},
		{"other.example.com/team/app:1", false},
	}
	for _, tt := range tests {
		ref, err := name.ParseReference(tt.ref)
		if err != nil {
			t.Fatal(err)
		}
		got, err := PushInsecure(ref)
		if err != nil {
			t.Fatalf("PushInsecure(%s): %v", tt.ref, err)
		}
		if got != tt.want {
			t.Errorf("PushInsecure(%s) = %v, want %v", tt.ref, got, tt.want)
		}
	}
}

func TestPushInsecureInvalidFile(t *testing.T) {
	path := writeRegistries(t, "[[registry]]\nprefix = \"docker.io/\"\ninsecure = true\n")
	ref, err := name.ParseReference("docker.io/library/busybox:1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PushInsecure(ref); err == nil {
		t.Fatalf("PushInsecure with the invalid file %s returned no error", path)
	}
}
