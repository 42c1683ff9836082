package container

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/kist-project/kist/oci"
	"github.com/kist-project/kist/rootless"
)

func TestCheckUserMapped(t *testing.T) {
	single := rootless.IDMap{
		UIDs: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}},
		GIDs: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}},
	}
	full := rootless.IDMap{
		UIDs: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65536}},
		GIDs: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65536}},
	}
	nobody := func() *oci.User {
		u := &oci.User{}
		u.UID, u.GID = 65534, 65534
		return u
	}

	if err := checkUserMapped(full, "nobody", nobody()); err != nil {
		t.Errorf("nobody with a full map: %v", err)
	}
	err := checkUserMapped(single, "nobody", nobody())
	if err == nil {
		t.Fatal("nobody with a single-ID map was accepted")
	}
	for _, want := range []string{`"nobody"`, "65534", "/etc/subuid", "--user 0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}

	root := &oci.User{}
	root.AdditionalGids = []uint32{0, 10, 5}
	if err := checkUserMapped(single, "root", root); err != nil {
		t.Fatalf("root with a single-ID map: %v", err)
	}
	if diff := cmp.Diff([]uint32{0}, root.AdditionalGids); diff != "" {
		t.Errorf("supplementary groups (-want +got):\n%s", diff)
	}
}
