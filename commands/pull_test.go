package commands

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/kist-project/kist/platforms"
	"github.com/kist-project/kist/pull"
)

func TestParsePlatform(t *testing.T) {
	host := pull.HostPlatform()
	tests := []struct {
		in   string
		want *v1.Platform
	}{
		{"", nil},
		{"linux/arm64", &v1.Platform{OS: "linux", Architecture: "arm64"}},
		{"linux/arm/v7", &v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
		{"linux", &v1.Platform{OS: "linux", Architecture: host.Architecture, Variant: platforms.Normalize(host).Variant}},
		{"arm64", &v1.Platform{OS: "linux", Architecture: "arm64"}},
		{"LINUX/AMD64", &v1.Platform{OS: "linux", Architecture: "amd64"}},
		{"linux/arm64/v8", &v1.Platform{OS: "linux", Architecture: "arm64"}},
	}
	for _, tt := range tests {
		got, err := parsePlatform(tt.in)
		if err != nil {
			t.Errorf("parsePlatform(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("parsePlatform(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
	for _, bad := range []string{"/", "linux/", "/amd64", "linux/arm/", "a/b/c/d", "nosuchos"} {
		if _, err := parsePlatform(bad); err == nil {
			t.Errorf("parsePlatform(%q) accepted an invalid platform", bad)
		}
	}
}
