package platforms

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestParse(t *testing.T) {
	host := Normalize(Host())
	tests := []struct {
		in   string
		want v1.Platform
	}{
		{"linux/arm64", v1.Platform{OS: "linux", Architecture: "arm64"}},
		{"linux/arm64/v8", v1.Platform{OS: "linux", Architecture: "arm64"}},
		{"linux/aarch64", v1.Platform{OS: "linux", Architecture: "arm64"}},
		{"linux/arm", v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
		{"linux/arm/7", v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
		{"linux/arm/v6", v1.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}},
		{"linux/x86_64", v1.Platform{OS: "linux", Architecture: "amd64"}},
		{"linux/amd64/v1", v1.Platform{OS: "linux", Architecture: "amd64"}},
		{"linux/amd64/v3", v1.Platform{OS: "linux", Architecture: "amd64", Variant: "v3"}},
		{"LINUX/AMD64", v1.Platform{OS: "linux", Architecture: "amd64"}},
		{"amd64", v1.Platform{OS: "linux", Architecture: "amd64"}},
		{"arm64", v1.Platform{OS: "linux", Architecture: "arm64"}},
		{"arm", v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
		{"i386", v1.Platform{OS: "linux", Architecture: "386"}},
		{"linux", host},
		{"Windows", v1.Platform{OS: "windows", Architecture: host.Architecture, Variant: host.Variant}},
		{"windows/amd64", v1.Platform{OS: "windows", Architecture: "amd64"}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got.String() != tt.want.String() {
			t.Errorf("Parse(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	for _, bad := range []string{"", "/", "linux/", "/amd64", "linux/arm/", "a/b/c/d", "nosuchthing", "linux/am d64"} {
		if p, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %s, want an error", bad, p)
		}
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		want, have string
		match      bool
	}{
		{"linux/arm64", "linux/arm64/v8", true},
		{"linux/arm64/v8", "linux/arm64", true},
		{"linux/arm/v7", "linux/arm", true},
		{"linux/arm", "linux/arm/v7", true},
		{"linux/arm", "linux/arm/v6", false},
		{"linux/arm/v6", "linux/arm/v7", false},
		{"linux/amd64", "linux/amd64/v3", true},
		{"linux/amd64/v3", "linux/amd64", false},
		{"linux/amd64", "linux/x86_64", true},
		{"linux/amd64", "LINUX/AMD64", true},
		{"linux/amd64", "windows/amd64", false},
		{"linux/amd64", "linux/arm64", false},
		{"linux/arm64", "linux/arm64/v9", true},
		{"linux/arm64/v9", "linux/arm64", false},
	}
	for _, tt := range tests {
		got := Match(platform(t, tt.want), platform(t, tt.have))
		if got != tt.match {
			t.Errorf("Match(%s, %s) = %v, want %v", tt.want, tt.have, got, tt.match)
		}
	}
}

// platform splits s into its fields without normalising them, as an
// image's config or index entry may spell them.
func platform(t *testing.T, s string) v1.Platform {
	t.Helper()
	p, err := v1.ParsePlatform(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return *p
}

func TestOffered(t *testing.T) {
	var o Offered
	o.Add(v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}})
	o.Add(v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}})
	o.Add(v1.Descriptor{})
	o.Add(v1.Descriptor{
		Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
		Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest"},
	})
	o.Extend(Offered{"linux/amd64", "linux/arm64"})
	if got, want := o.String(), "linux/arm64/v8, linux/arm64, linux/amd64"; got != want {
		t.Errorf("Offered = %q, want %q", got, want)
	}
}
