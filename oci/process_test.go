package oci

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestCommand(t *testing.T) {
	empty := ""
	sh := "/bin/sh"
	tests := []struct {
		name       string
		config     v1.Config
		entrypoint *string
		args       []string
		want       []string
	}{
		{"cmd only", v1.Config{Cmd: []string{"sh"}}, nil, nil, []string{"sh"}},
		{"entrypoint and cmd", v1.Config{Entrypoint: []string{"/init"}, Cmd: []string{"-v"}}, nil, nil, []string{"/init", "-v"}},
		{"args replace cmd", v1.Config{Entrypoint: []string{"/init"}, Cmd: []string{"-v"}}, nil, []string{"-q"}, []string{"/init", "-q"}},
		{"entrypoint flag drops cmd", v1.Config{Entrypoint: []string{"/init"}, Cmd: []string{"-v"}}, &sh, nil, []string{"/bin/sh"}},
		{"entrypoint flag with args", v1.Config{Cmd: []string{"-v"}}, &sh, []string{"-c", "true"}, []string{"/bin/sh", "-c", "true"}},
		{"empty entrypoint flag", v1.Config{Entrypoint: []string{"/init"}}, &empty, []string{"ls"}, []string{"ls"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Command(tt.config, tt.entrypoint, tt.args)
			if err != nil {
				t.Fatalf("Command: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCommandMissing(t *testing.T) {
	_, err := Command(v1.Config{}, nil, nil)
	if !errors.Is(err, ErrNoCommand) {
		t.Fatalf("Command with no entrypoint or cmd: got %v, want ErrNoCommand", err)
	}
}

func TestEnvMerge(t *testing.T) {
	lookup := func(k string) (string, bool) {
		if k == "FROM_HOST" {
			return "host value", true
		}
		return "", false
	}
	got, err := Env(
		[]string{"PATH=/bin", "A=1", "B=2"},
		[]string{"B=3", "C=x=y", "FROM_HOST", "UNSET_ON_HOST"},
		lookup)
	if err != nil {
		t.Fatalf("Env: %v", err)
	}
	want := []string{"PATH=/bin", "A=1", "B=3", "C=x=y", "FROM_HOST=host value"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
}

func TestEnvDefaultPath(t *testing.T) {
	got, err := Env(nil, nil, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("Env: %v", err)
	}
	if diff := cmp.Diff([]string{"PATH=" + DefaultPath}, got); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
}

func TestEnvEmptyName(t *testing.T) {
	if _, err := Env(nil, []string{"=x"}, nil); err == nil {
		t.Fatal("Env accepted a variable with an empty name")
	}
}

func TestWorkingDir(t *testing.T) {
	tests := []struct {
		image, flag, want string
		wantErr           bool
	}{
		{"", "", "/", false},
		{"/app", "", "/app", false},
		{"/app", "/tmp/", "/tmp", false},
		{"", "relative", "", true},
	}
	for _, tt := range tests {
		got, err := WorkingDir(v1.Config{WorkingDir: tt.image}, tt.flag)
		if (err != nil) != tt.wantErr {
			t.Errorf("WorkingDir(%q, %q) error = %v, want error %v", tt.image, tt.flag, err, tt.wantErr)
		}
		if got != tt.want {
			t.Errorf("WorkingDir(%q, %q) = %q, want %q", tt.image, tt.flag, got, tt.want)
		}
	}
}
