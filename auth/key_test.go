package auth

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormalizeKey(t *testing.T) {
	tests := map[string]string{
		"registry.example.com:5000":           "registry.example.com:5000",
		"https://registry.example.com:5000":   "registry.example.com:5000",
		"http://registry.example.com/v2/":     "registry.example.com",
		"https://index.docker.io/v1/":         "docker.io",
		"index.docker.io":                     "docker.io",
		"registry-1.docker.io":                "docker.io",
		"docker.io":                           "docker.io",
		"quay.io/team/app":                    "quay.io/team/app",
		"quay.io/team/":                       "quay.io/team",
		"https://quay.io/team/app":            "quay.io",
		"registry.example.com:5000/v2/":       "registry.example.com:5000/v2",
		"https://registry.example.com:5000/x": "registry.example.com:5000",
	}
	for key, want := range tests {
		if got := normalizeKey(key); got != want {
			t.Errorf("normalizeKey(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestRegistryArgument(t *testing.T) {
	valid := map[string]string{
		"127.0.0.1:5000":          "127.0.0.1:5000",
		"https://127.0.0.1:5000/": "127.0.0.1:5000",
		"docker.io":               "docker.io",
		"quay.io/team":            "quay.io/team",
	}
	for arg, want := range valid {
		got, err := Registry(arg)
		if err != nil || got != want {
			t.Errorf("Registry(%q) = %q, %v; want %q", arg, got, err, want)
		}
	}
	for _, arg := range []string{"", "https://", "/path", "user@host", "a b"} {
		if got, err := Registry(arg); err == nil {
			t.Errorf("Registry(%q) = %q, want an error", arg, got)
		}
	}
}

func TestCandidates(t *testing.T) {
	got := candidates("quay.io", "team/app/web")
	want := []string{"quay.io/team/app/web", "quay.io/team/app", "quay.io/team", "quay.io"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("candidates (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"quay.io"}, candidates("quay.io", "")); diff != "" {
		t.Errorf("candidates without a repository (-want +got):\n%s", diff)
	}
}

func TestServerURL(t *testing.T) {
	if got := serverURL(DockerHub); got != "https://index.docker.io/v1/" {
		t.Errorf("serverURL(docker.io) = %q, want docker's key https://index.docker.io/v1/", got)
	}
	if got := serverURL("127.0.0.1:5000"); got != "127.0.0.1:5000" {
		t.Errorf("serverURL(127.0.0.1:5000) = %q, want it unchanged", got)
	}
}
