package oci

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func findMount(s *specs.Spec, dest string) *specs.Mount {
	for i := range s.Mounts {
		if s.Mounts[i].Destination == dest {
			return &s.Mounts[i]
		}
	}
	return nil
}

func hasNamespace(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == t {
			return true
		}
	}
	return false
}

func TestSpecNetworkNamespace(t *testing.T) {
	if hasNamespace(Spec(Options{Network: NetworkHost}), specs.NetworkNamespace) {
		t.Error("host network has a network namespace")
	}
	if !hasNamespace(Spec(Options{Network: NetworkNone}), specs.NetworkNamespace) {
		t.Error("network none has no network namespace")
	}
}

func TestSpecSysfs(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		wantType string
	}{
		{"root host network", Options{Network: NetworkHost}, "sysfs"},
		{"user namespace host network", Options{Network: NetworkHost, UserNS: true}, "none"},
		{"user namespace no network", Options{Network: NetworkNone, UserNS: true}, "sysfs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := findMount(Spec(tt.opts), "/sys")
			if m == nil {
				t.Fatal("no /sys mount")
			}
			if m.Type != tt.wantType {
				t.Errorf("/sys type = %q, want %q", m.Type, tt.wantType)
			}
		})
	}
}

func TestSpecDevptsGroup(t *testing.T) {
	hasGID := func(o Options) bool {
		for _, opt := range findMount(Spec(o), "/dev/pts").Options {
			if opt == "gid=5" {
				return true
			}
		}
		return false
	}
	if !hasGID(Options{TTYGroupMapped: true}) {
		t.Error("devpts lacks gid=5 when the tty group is mapped")
	}
	if hasGID(Options{}) {
		t.Error("devpts has gid=5 although the tty group is not mapped")
	}
}

func TestSpecProcess(t *testing.T) {
	s := Spec(Options{Rootfs: "/r", Args: []string{"sh"}, Cwd: "/w", Hostname: "h", User: specs.User{UID: 7, GID: 8}})
	if s.Root.Path != "/r" {
		t.Errorf("root = %q", s.Root.Path)
	}
	if s.Process.Cwd != "/w" {
		t.Errorf("cwd = %q", s.Process.Cwd)
	}
	if s.Process.User.UID != 7 || s.Process.User.GID != 8 {
		t.Errorf("user = %+v", s.Process.User)
	}
	if s.Hostname != "h" {
		t.Errorf("hostname = %q", s.Hostname)
	}
	if len(s.Process.Capabilities.Bounding) != len(defaultCapabilities) {
		t.Errorf("bounding set has %d capabilities, want %d", len(s.Process.Capabilities.Bounding), len(defaultCapabilities))
	}
}
