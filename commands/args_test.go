package commands

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPermuteArgs(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"flag after image", []string{"kist", "pull", "busybox", "-q"}, []string{"kist", "pull", "-q", "busybox"}},
		{"value flag after image", []string{"kist", "pull", "busybox", "--platform", "linux/arm64"},
			[]string{"kist", "pull", "--platform", "linux/arm64", "busybox"}},
		{"global flags stay", []string{"kist", "--root", "/s", "--debug", "images", "-q"},
			[]string{"kist", "--root", "/s", "--debug", "images", "-q"}},
		{"subcommand", []string{"kist", "image", "rm", "a", "-f", "b"}, []string{"kist", "image", "rm", "-f", "a", "b"}},
		{"combined short flags", []string{"kist", "system", "prune", "-af"}, []string{"kist", "system", "prune", "-af"}},
		{"equals form", []string{"kist", "pull", "busybox", "--tls-verify=false"}, []string{"kist", "pull", "--tls-verify=false", "busybox"}},
		{"dash is standard input", []string{"kist", "rm", "-", "-x"}, []string{"kist", "rm", "-x", "-"}},
		{"after double dash", []string{"kist", "rm", "a", "--", "-b"}, []string{"kist", "rm", "--", "a", "-b"}},
		{"flags before double dash", []string{"kist", "save", "busybox", "-o", "f", "--", "-x"}, []string{"kist", "save", "-o", "f", "--", "busybox", "-x"}},
		{"value attached to a short flag", []string{"kist", "run", "-eA=1", "-u1000", "-it", "busybox"},
			[]string{"kist", "run", "--env", "A=1", "-u", "1000", "-it", "busybox"}},
		{"run keeps the container's flags", []string{"kist", "run", "--rm", "busybox", "ls", "-l"},
			[]string{"kist", "run", "--rm", "busybox", "ls", "-l"}},
		{"both spellings of a slice flag", []string{"kist", "run", "-e", "A=1", "--env", "B=2", "-e=C=3", "busybox", "env", "-e", "x"},
			[]string{"kist", "run", "--env", "A=1", "--env", "B=2", "--env", "C=3", "busybox", "env", "-e", "x"}},
		{"global flags after the command", []string{"kist", "images", "--debug", "-q", "--root", "/s"},
			[]string{"kist", "--debug", "--root", "/s", "images", "-q"}},
		{"global flag after run's image stays the container's", []string{"kist", "run", "--root", "/s", "busybox", "--debug"},
			[]string{"kist", "--root", "/s", "run", "busybox", "--debug"}},
		{"unknown command", []string{"kist", "bogus", "x", "-q"}, []string{"kist", "bogus", "x", "-q"}},
	}
	app := NewApp()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, PermuteArgs(app, tt.in)); diff != "" {
				t.Errorf("PermuteArgs(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}
