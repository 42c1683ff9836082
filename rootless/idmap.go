package rootless

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// IDMap is the set of user and group ID mappings of a user namespace.
type IDMap struct {
	UIDs []specs.LinuxIDMapping
	GIDs []specs.LinuxIDMapping
}

// Single reports whether the map holds only one ID each for users and
// groups, which is what an unprivileged user gets without subordinate IDs.
func (m IDMap) Single() bool {
	return rangeSize(m.UIDs) <= 1 && rangeSize(m.GIDs) <= 1
}

// HasUID reports whether uid is mapped inside the namespace.
func (m IDMap) HasUID(uid uint32) bool { return contains(m.UIDs, uid) }

// HasGID reports whether gid is mapped inside the namespace.
func (m IDMap) HasGID(gid uint32) bool { return contains(m.GIDs, gid) }

func contains(ranges []specs.LinuxIDMapping, id uint32) bool {
	for _, r := range ranges {
		if id >= r.ContainerID && uint64(id) < uint64(r.ContainerID)+uint64(r.Size) {
			return true
		}
	}
	return false
}

func rangeSize(ranges []specs.LinuxIDMapping) uint64 {
	var n uint64
	for _, r := range ranges {
		n += uint64(r.Size)
	}
	return n
}

// subIDRange is one line of /etc/subuid or /etc/subgid.
type subIDRange struct {
	start, count uint32
}

// CheckSettings rejects a KIST_USERNS value that kist does not know,
// which would otherwise be ignored.
func CheckSettings() error {
	if v := os.Getenv("KIST_USERNS"); v != "" && v != "single" {
		return fmt.Errorf("invalid KIST_USERNS %q: set it to single to map only your own user, "+
			"or unset it to map the subordinate IDs in /etc/subuid and /etc/subgid", v)
	}
	return nil
}

// planMap returns the mapping for a new user namespace of the calling user:
// the caller as root plus every subordinate range, when the newuidmap and
// newgidmap helpers and the ranges exist, or else the caller alone.
func planMap(uid, gid int) (m IDMap, helpers bool) {
	m = IDMap{
		UIDs: []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(uid), Size: 1}},
		GIDs: []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(gid), Size: 1}},
	}
	if os.Getenv("KIST_USERNS") == "single" {
		return m, false
	}
	if _, err := exec.LookPath("newuidmap"); err != nil {
		return m, false
	}
	if _, err := exec.LookPath("newgidmap"); err != nil {
		return m, false
	}

	names := []string{strconv.Itoa(uid)}
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		names = append(names, u.Username)
	}
	uids, err := readSubIDs("/etc/subuid", names)
	if err != nil || len(uids) == 0 {
		return m, false
	}
	groupNames := []string{strconv.Itoa(gid)}
	groupNames = append(groupNames, names[1:]...)
	gids, err := readSubIDs("/etc/subgid", groupNames)
	if err != nil || len(gids) == 0 {
		return m, false
	}

	m.UIDs = appendRanges(m.UIDs, uids)
	m.GIDs = appendRanges(m.GIDs, gids)
	return m, true
}

// appendRanges maps subordinate ranges to consecutive IDs after root.
func appendRanges(m []specs.LinuxIDMapping, ranges []subIDRange) []specs.LinuxIDMapping {
	next := uint32(1)
	for _, r := range ranges {
		m = append(m, specs.LinuxIDMapping{ContainerID: next, HostID: r.start, Size: r.count})
		next += r.count
	}
	return m
}

// readSubIDs returns the ranges that path grants to any of names, which
// may be user names or numeric IDs, as shadow-utils accepts both. A
// missing file grants none.
func readSubIDs(path string, names []string) ([]subIDRange, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseSubIDs(f, path, names)
}

// parseSubIDs reads lines of the form NAME:START:COUNT from r, which
// was read from path, and returns the ranges granted to any of names.
// Blank lines and lines starting with # are skipped. A malformed line is
// skipped with a warning that names path and the line number, and the
// other lines still count, as they do for shadow-utils' newuidmap, which
// checks kist's ranges against the same file.
//
// NOTE: podman's own parser (containers/storage) rejects the whole file
// on a line without three fields, so podman may map the caller alone
// where kist maps the other lines' ranges.
func parseSubIDs(r io.Reader, path string, names []string) ([]subIDRange, error) {
	var ranges []subIDRange
	scanner := bufio.NewScanner(r)
	for number := 1; scanner.Scan(); number++ {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, entry, err := parseSubIDLine(line)
		if err != nil {
			logrus.Warnf("%s line %d: %v; kist ignores the line, so fix it to the form NAME:START:COUNT, such as alice:100000:65536", path, number, err)
			continue
		}
		if matchesAny(name, names) {
			ranges = append(ranges, entry)
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return ranges, nil
}

// parseSubIDLine parses one NAME:START:COUNT line. The range must fit in
// 32-bit IDs, as the kernel's ID maps do.
func parseSubIDLine(line string) (string, subIDRange, error) {
	fields := strings.Split(line, ":")
	if len(fields) != 3 {
		return "", subIDRange{}, fmt.Errorf("invalid entry %q: has %d fields separated by colons, expected 3", line, len(fields))
	}
	if fields[0] == "" {
		return "", subIDRange{}, fmt.Errorf("invalid entry %q: missing user name", line)
	}
	start, err := strconv.ParseUint(fields[1], 10, 32)
	if err != nil {
		return "", subIDRange{}, fmt.Errorf("invalid entry %q: start %q is not a number from 0 to %d", line, fields[1], uint32(math.MaxUint32))
	}
	count, err := strconv.ParseUint(fields[2], 10, 32)
	if err != nil || count == 0 {
		return "", subIDRange{}, fmt.Errorf("invalid entry %q: count %q is not a number from 1 to %d", line, fields[2], uint32(math.MaxUint32))
	}
	if start+count-1 > math.MaxUint32 {
		return "", subIDRange{}, fmt.Errorf("invalid entry %q: the range ends past ID %d", line, uint32(math.MaxUint32))
	}
	return fields[0], subIDRange{start: uint32(start), count: uint32(count)}, nil
}

func matchesAny(s string, names []string) bool {
	for _, n := range names {
		if s == n {
			return true
		}
	}
	return false
}

// formatMapArgs renders ranges as the triples newuidmap and newgidmap take.
func formatMapArgs(pid int, ranges []specs.LinuxIDMapping) []string {
	args := []string{strconv.Itoa(pid)}
	for _, r := range ranges {
		args = append(args,
			strconv.FormatUint(uint64(r.ContainerID), 10),
			strconv.FormatUint(uint64(r.HostID), 10),
			strconv.FormatUint(uint64(r.Size), 10))
	}
	return args
}

// CurrentMap reads the ID mappings of the calling process's user namespace.
func CurrentMap() (IDMap, error) {
	uids, err := readProcMap("/proc/self/uid_map")
	if err != nil {
		return IDMap{}, err
	}
	gids, err := readProcMap("/proc/self/gid_map")
	if err != nil {
		return IDMap{}, err
	}
	return IDMap{UIDs: uids, GIDs: gids}, nil
}

func readProcMap(path string) ([]specs.LinuxIDMapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ranges []specs.LinuxIDMapping
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var inside, outside, size uint32
		if _, err := fmt.Sscanf(line, "%d %d %d", &inside, &outside, &size); err != nil {
			return nil, fmt.Errorf("parse %s line %q: %w", path, line, err)
		}
		ranges = append(ranges, specs.LinuxIDMapping{ContainerID: inside, HostID: outside, Size: size})
	}
	return ranges, nil
}

// String formats the map as the kernel prints uid_map and gid_map, one
// range per comma, users and groups separated by a semicolon.
func (m IDMap) String() string {
	format := func(ranges []specs.LinuxIDMapping) string {
		parts := make([]string, 0, len(ranges))
		for _, r := range ranges {
			parts = append(parts, fmt.Sprintf("%d %d %d", r.ContainerID, r.HostID, r.Size))
		}
		return strings.Join(parts, ",")
	}
	return format(m.UIDs) + ";" + format(m.GIDs)
}

// HostUID returns the calling user's uid outside any user namespace, as
// paths such as /run/containers/UID name it. Inside the namespace that
// Reexec creates, os.Getuid returns 0 for every caller.
func HostUID() int {
	uid := os.Getuid()
	ranges, err := readProcMap("/proc/self/uid_map")
	if err != nil {
		return uid
	}
	return int(hostID(ranges, uint32(uid)))
}

// hostID translates id inside a user namespace to the ID outside that
// ranges map it to. An unmapped id is returned as it is.
func hostID(ranges []specs.LinuxIDMapping, id uint32) uint32 {
	for _, r := range ranges {
		if id >= r.ContainerID && uint64(id) < uint64(r.ContainerID)+uint64(r.Size) {
			return r.HostID + (id - r.ContainerID)
		}
	}
	return id
}
