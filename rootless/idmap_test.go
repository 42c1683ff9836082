package rootless

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
)

func TestReadSubIDs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "subuid")
	content := "alice:100000:65536\nbob:165536:65536\n1000:300000:10\nbad line\nalice:x:1\nalice:400000:0\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}

	got, err := readSubIDs(path, []string{"1000", "alice"})
	if err != nil {
		t.Fatalf("readSubIDs: %v", err)
	}
	want := []subIDRange{{100000, 65536}, {300000, 10}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(subIDRange{})); diff != "" {
		t.Errorf("ranges (-want +got):\n%s", diff)
	}
}

func TestReadSubIDsMissingFile(t *testing.T) {
	got, err := readSubIDs(filepath.Join(t.TempDir(), "none"), []string{"alice"})
	if err != nil {
		t.Fatalf("readSubIDs of a missing file: %v", err)
	}
	if len(got) != 0 {
		t.Errorf("ranges = %v, want none", got)
	}
}

func TestAppendRanges(t *testing.T) {
	root := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
	got := appendRanges(root, []subIDRange{{100000, 65536}, {300000, 10}})
	want := []specs.LinuxIDMapping{
		{ContainerID: 0, HostID: 1000, Size: 1},
		{ContainerID: 1, HostID: 100000, Size: 65536},
		{ContainerID: 65537, HostID: 300000, Size: 10},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("map (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"42", "0", "1000", "1", "1", "100000", "65536", "65537", "300000", "10"}, formatMapArgs(42, got)); diff != "" {
		t.Errorf("newuidmap arguments (-want +got):\n%s", diff)
	}
}

func TestIDMapContains(t *testing.T) {
	m := IDMap{
		UIDs: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65536}},
		GIDs: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}},
	}
	if !m.HasUID(0) || !m.HasUID(65536) {
		t.Error("mapped uids reported missing")
	}
	if m.HasUID(65537) {
		t.Error("uid 65537 reported mapped")
	}
	if m.HasGID(5) {
		t.Error("gid 5 reported mapped")
	}
	if m.Single() {
		t.Error("a map with a subordinate range reported single")
	}
}

func TestPlanMapSingleOverride(t *testing.T) {
	t.Setenv("KIST_USERNS", "single")
	m, helpers := planMap(1000, 1000)
	if helpers {
		t.Error("KIST_USERNS=single still plans newuidmap")
	}
	if !m.Single() {
		t.Errorf("map %+v is not the caller alone", m)
	}
}

func TestCheckSettings(t *testing.T) {
	for value, valid := range map[string]bool{"": true, "single": true, "bogus": false, "Single": false} {
		t.Setenv("KIST_USERNS", value)
		err := CheckSettings()
		if valid != (err == nil) {
			t.Errorf("KIST_USERNS=%q: CheckSettings() = %v, want valid=%v", value, err, valid)
		}
		if err != nil && !strings.Contains(err.Error(), value) {
			t.Errorf("error %q does not name the value %q", err, value)
		}
	}
}

func TestReadSubIDsWarnsOnMalformedLines(t *testing.T) {
	content := strings.Join([]string{
		"# ranges for the build users",
		"",
		"alice:100000:65536",
		"alice:200000",         // line 4: two fields
		"alice:x:10",           // line 5: start not a number
		"alice:300000:0",       // line 6: empty range
		"alice:4294967290:100", // line 7: past the last 32-bit ID
		":400000:10",           // line 8: no name
		"bob:500000:65536",
		"alice:600000:10",
	}, "\n")
	path := filepath.Join(t.TempDir(), "subuid")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	hook := logtest.NewGlobal()
	defer hook.Reset()

	got, err := readSubIDs(path, []string{"alice"})
	if err != nil {
		t.Fatalf("readSubIDs: %v", err)
	}
	want := []subIDRange{{100000, 65536}, {600000, 10}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(subIDRange{})); diff != "" {
		t.Errorf("ranges (-want +got):\n%s", diff)
	}

	wantWarnings := []struct{ line, problem string }{
		{"line 4:", "has 2 fields"},
		{"line 5:", `start "x"`},
		{"line 6:", `count "0"`},
		{"line 7:", "past ID 4294967295"},
		{"line 8:", "missing user name"},
	}
	entries := hook.AllEntries()
	if len(entries) != len(wantWarnings) {
		t.Fatalf("got %d log entries, want %d: %v", len(entries), len(wantWarnings), entries)
	}
	for i, w := range wantWarnings {
		entry := entries[i]
		if entry.Level != logrus.WarnLevel {
			t.Errorf("entry %d level = %v, want warning", i, entry.Level)
		}
		for _, part := range []string{path, w.line, w.problem, "NAME:START:COUNT"} {
			if !strings.Contains(entry.Message, part) {
				t.Errorf("warning %q does not contain %q", entry.Message, part)
			}
		}
	}
}

func TestHostUIDOutsideNamespace(t *testing.T) {
	// The tests run in the initial user namespace, where every uid maps
	// to itself.
	if got := HostUID(); got != os.Getuid() {
		t.Errorf("HostUID() = %d, want %d", got, os.Getuid())
	}
}

func TestHostIDTranslatesRanges(t *testing.T) {
	ranges := []specs.LinuxIDMapping{
		{ContainerID: 0, HostID: 1001, Size: 1},
		{ContainerID: 1, HostID: 100000, Size: 65536},
	}
	for id, want := range map[uint32]uint32{0: 1001, 1: 100000, 65536: 165535, 70000: 70000} {
		if got := hostID(ranges, id); got != want {
			t.Errorf("hostID(%d) = %d, want %d", id, got, want)
		}
	}
}
