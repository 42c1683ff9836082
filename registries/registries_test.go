package registries

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const example = `# Mirrors for Docker Hub, tried in order.
[[registry]]
prefix = "docker.io"
location = "docker.io"

[[registry.mirror]]
location = "mirror.example.com:5000"

[[registry.mirror]]
location = "127.0.0.1:5001/hub"
insecure = true

[[registry]]
location = "registry.internal:5000"
insecure = true

[[registry]]
prefix = "docker.io/library/busybox"
location = "registry.internal:5000/mirrored/busybox"

[[registry]]
prefix = "quay.io"
blocked = true
`

func TestParseExample(t *testing.T) {
	c, err := Parse("/etc/example.toml", []byte(example))
	if err != nil {
		t.Fatal(err)
	}
	want := []Registry{
		{Prefix: "docker.io", Location: "docker.io", Line: 2, Mirrors: []Mirror{
			{Location: "mirror.example.com:5000"},
			{Location: "127.0.0.1:5001/hub", Insecure: true},
		}},
		{Prefix: "registry.internal:5000", Location: "registry.internal:5000", Insecure: true, Line: 13},
		{Prefix: "docker.io/library/busybox", Location: "registry.internal:5000/mirrored/busybox", Line: 17},
		{Prefix: "quay.io", Location: "quay.io", Blocked: true, Line: 21},
	}
	if diff := cmp.Diff(want, c.Registries); diff != "" {
		t.Errorf("registries (-want +got):\n%s", diff)
	}
}

func TestParseSingleTable(t *testing.T) {
	// TOML decoders read [registry] as a list of one table.
	c, err := Parse("/p.toml", []byte("# comment\n[registry]  # the only one\nprefix = \"docker.io\"\nblocked = true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Registries) != 1 || c.Registries[0].Line != 2 {
		t.Errorf("registries = %+v, want one from line 2", c.Registries)
	}
}

func TestSources(t *testing.T) {
	c, err := Parse("/etc/example.toml", []byte(example))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		repository string
		want       []Source
	}{
		{"docker.io/library/debian", []Source{
			{Repository: "mirror.example.com:5000/library/debian", Mirror: true},
			{Repository: "127.0.0.1:5001/hub/library/debian", Insecure: true, Mirror: true},
			{Repository: "docker.io/library/debian"},
		}},
		// The longest prefix wins, and it has no mirrors.
		{"docker.io/library/busybox", []Source{{Repository: "registry.internal:5000/mirrored/busybox"}}},
		// A prefix ends at a path separator.
		{"docker.io/library/busyboxplus", []Source{
			{Repository: "mirror.example.com:5000/library/busyboxplus", Mirror: true},
			{Repository: "127.0.0.1:5001/hub/library/busyboxplus", Insecure: true, Mirror: true},
			{Repository: "docker.io/library/busyboxplus"},
		}},
		{"registry.internal:5000/app", []Source{{Repository: "registry.internal:5000/app", Insecure: true}}},
		{"registry.internal:50000/app", []Source{{Repository: "registry.internal:50000/app"}}},
		{"ghcr.io/owner/app", []Source{{Repository: "ghcr.io/owner/app"}}},
	}
	for _, tt := range tests {
		got, err := c.Sources(tt.repository)
		if err != nil {
			t.Errorf("Sources(%s): %v", tt.repository, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Sources(%s) (-want +got):\n%s", tt.repository, diff)
		}
	}
}

func TestSourcesBlocked(t *testing.T) {
	c, err := Parse("/etc/example.toml", []byte(example))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Sources("quay.io/app/server")
	if err == nil {
		t.Fatal("Sources of a blocked prefix returned no error")
	}
	for _, want := range []string{"quay.io", "blocked", "/etc/example.toml, line 21", "remove blocked = true"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text string
		// want are the parts the message must contain.
		want []string
	}{
		{"syntax", "[[registry]]\nprefix = \"docker.io\"\nlocation = mirror\n",
			[]string{"line 3", "fix the TOML syntax"}},
		{"unknown top-level key", "unqualified-search-registries = [\"docker.io\"]\n",
			[]string{"line 1", "unknown key unqualified-search-registries", "kist supports only"}},
		{"unknown registry key", "[[registry]]\nprefix = \"docker.io\"\n\npull-from-mirror = \"digest-only\"\n",
			[]string{"line 4", "unknown key registry.pull-from-mirror"}},
		{"unknown mirror key", "[[registry]]\nprefix = \"docker.io\"\n[[registry.mirror]]\nlocation = \"m.example\"\npull-from-mirror = \"all\"\n",
			[]string{"line 5", "registry.mirror.pull-from-mirror"}},
		{"wrong type", "[[registry]]\nprefix = \"docker.io\"\ninsecure = \"yes\"\n",
			[]string{"line 3", "insecure has the wrong type", "true or false"}},
		{"no prefix or location", "[[registry]]\ninsecure = true\n",
			[]string{"line 1", "neither prefix nor location"}},
		{"scheme", "\n[[registry]]\nlocation = \"https://registry.example.com\"\n",
			[]string{"line 2", "URL scheme", "https://registry.example.com"}},
		{"wildcard", "[[registry]]\nprefix = \"*.example.com\"\n",
			[]string{"line 1", "wildcard"}},
		{"empty mirror", "[[registry]]\nprefix = \"docker.io\"\n[[registry.mirror]]\ninsecure = true\n",
			[]string{"line 1", "mirror location is empty"}},
		{"bad host", "[[registry]]\nprefix = \"Not A Host\"\n",
			[]string{"line 1", "Not A Host"}},
		{"bad namespace", "[[registry]]\nprefix = \"docker.io/Library\"\n",
			[]string{"line 1", "HOST[:PORT][/NAMESPACE]"}},
		{"duplicate", "[[registry]]\nprefix = \"docker.io\"\n\n[[registry]]\nprefix = \"docker.io\"\n",
			[]string{"line 4", "already configured at line 1"}},
		{"duplicate Hub spelling", "[[registry]]\nprefix = \"docker.io\"\n\n[[registry]]\nprefix = \"Index.Docker.IO\"\n",
			[]string{"line 4", "already configured at line 1"}},
		{"trailing slash", "[[registry]]\nprefix = \"docker.io/\"\n",
			[]string{"line 1", `prefix "docker.io/" ends with /`, `"docker.io"`}},
		{"trailing slash after namespace", "[[registry]]\nprefix = \"quay.io/team/\"\n",
			[]string{"line 1", `"quay.io/team/" ends with /`}},
		{"trailing slash in location", "[[registry]]\nprefix = \"quay.io\"\nlocation = \"mirror.example.com/\"\n",
			[]string{"line 1", `location "mirror.example.com/" ends with /`}},
		{"empty namespace component", "[[registry]]\nprefix = \"docker.io//library\"\n",
			[]string{"line 1", "HOST[:PORT][/NAMESPACE]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("/home/u/.config/kist/registries.toml", []byte(tt.text))
			if err == nil {
				t.Fatal("Parse returned no error")
			}
			for _, want := range append(tt.want, "/home/u/.config/kist/registries.toml") {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	c, err := Load(filepath.Join(t.TempDir(), "registries.toml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Sources("docker.io/library/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Source{{Repository: "docker.io/library/busybox"}}, got); diff != "" {
		t.Errorf("sources without a file (-want +got):\n%s", diff)
	}
}

func TestLoadUnreadable(t *testing.T) {
	dir := t.TempDir()
	// A directory in place of the file cannot be read, even by root.
	path := filepath.Join(dir, "registries.toml")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Load of a directory: got %v, want an error naming %s", err, path)
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	if got, _ := DefaultPath(); got != "/xdg/kist/registries.toml" {
		t.Errorf("with XDG_CONFIG_HOME: %s", got)
	}
	// The XDG base directory specification ignores a relative path.
	t.Setenv("XDG_CONFIG_HOME", "relative")
	if got, _ := DefaultPath(); got != "/home/u/.config/kist/registries.toml" {
		t.Errorf("with a relative XDG_CONFIG_HOME: %s", got)
	}
	t.Setenv("XDG_CONFIG_HOME", "")
	if got, _ := DefaultPath(); got != "/home/u/.config/kist/registries.toml" {
		t.Errorf("without XDG_CONFIG_HOME: %s", got)
	}
}

// Every spelling of a Docker Hub prefix that podman accepts must match
// the repositories that Hub image names produce, so that blocked = true
// blocks them.
func TestHubPrefixBlocks(t *testing.T) {
	prefixes := []string{
		"docker.io", "DOCKER.IO", "index.docker.io", "Index.Docker.IO", "registry-1.docker.io", "docker.io:443",
		"docker.io/library", "index.docker.io/library", "docker.io/library/busybox",
		"INDEX.DOCKER.IO/library/busybox",
	}
	// docker.io/library/busybox is how pull names the repository of
	// busybox, library/busybox and index.docker.io/library/busybox. The
	// other spellings reach Docker Hub too when typed in an image name.
	repositories := []string{
		"docker.io/library/busybox", "index.docker.io/library/busybox",
		"registry-1.docker.io/library/busybox", "DOCKER.IO/library/busybox",
	}
	for _, prefix := range prefixes {
		c, err := Parse("/p.toml", []byte("[[registry]]\nprefix = \""+prefix+"\"\nblocked = true\n"))
		if err != nil {
			t.Errorf("prefix %q: %v", prefix, err)
			continue
		}
		for _, repository := range repositories {
			if _, err := c.Sources(repository); err == nil || !strings.Contains(err.Error(), "blocked") {
				t.Errorf("prefix %q: Sources(%s) = %v, want the blocked error", prefix, repository, err)
			}
		}
	}
}

func TestHubPrefixLeavesOthers(t *testing.T) {
	c, err := Parse("/p.toml", []byte("[[registry]]\nprefix = \"Index.Docker.IO/library\"\nblocked = true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Registries[0].Prefix; got != "docker.io/library" {
		t.Errorf("prefix = %q, want docker.io/library", got)
	}
	for _, repository := range []string{"docker.io/alice/busybox", "docker.io/libraryx/busybox", "quay.io/library/busybox"} {
		if _, err := c.Sources(repository); err != nil {
			t.Errorf("Sources(%s): %v, want no match", repository, err)
		}
	}
}

func TestHubPrefixMirror(t *testing.T) {
	c, err := Parse("/p.toml", []byte(`
[[registry]]
prefix = "INDEX.docker.io/library"
[[registry.mirror]]
location = "mirror.example.com:5000/hub"
`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Sources("docker.io/library/busybox")
	if err != nil {
		t.Fatal(err)
	}
	want := []Source{
		{Repository: "mirror.example.com:5000/hub/busybox", Mirror: true},
		{Repository: "docker.io/library/busybox"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Sources (-want +got):\n%s", diff)
	}
}
