package unpack

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// hostileCase is a layer that tries to reach outside its root. Every case
// also checks that nothing outside the root changed.
type hostileCase struct {
	name    string
	entries func(s sandbox) []entry
	wantErr string                        // substring of the error, "" for success
	check   func(t *testing.T, s sandbox) // state inside the root, after success
}

// sentinelRel is the sandbox's sentinel file seen from the layer root.
const sentinelRel = "../outside/sentinel"

func abs(s sandbox, name string) string { return filepath.Join(s.outside, name) }

var hostileCases = []hostileCase{
	{
		name: "dotdot name",
		entries: func(s sandbox) []entry {
			return []entry{fileEntry(sentinelRel, "pwned", 0o644)}
		},
		check: checkContent("outside/sentinel", "pwned"),
	},
	{
		name: "deep dotdot name",
		entries: func(s sandbox) []entry {
			return []entry{fileEntry("a/../../../../outside/new", "pwned", 0o644)}
		},
		check: checkContent("outside/new", "pwned"),
	},
	{
		name: "absolute name",
		entries: func(s sandbox) []entry {
			return []entry{fileEntry(abs(s, "sentinel"), "pwned", 0o644)}
		},
		check: func(t *testing.T, s sandbox) {
			checkContent(abs(s, "sentinel"), "pwned")(t, s)
		},
	},
	{
		name: "write through absolute symlink",
		entries: func(s sandbox) []entry {
			return []entry{
				symlinkEntry("evil", s.outside),
				fileEntry("evil/sentinel", "pwned", 0o644),
			}
		},
		// The symlink resolves to root/<s.outside>, which does not exist.
		wantErr: `unpack entry "evil/sentinel"`,
	},
	{
		name: "write through relative symlink",
		entries: func(s sandbox) []entry {
			return []entry{
				symlinkEntry("evil", "../../../../.."),
				fileEntry("evil/outside/sentinel", "pwned", 0o644),
			}
		},
		check: checkContent("outside/sentinel", "pwned"),
	},
	{
		name: "write through symlinked parent chain",
		entries: func(s sandbox) []entry {
			return []entry{
				dirEntry(strings.TrimPrefix(s.outside, "/")+"/", 0o755),
				symlinkEntry("a", "b"),
				symlinkEntry("b", s.outside),
				fileEntry("a/sentinel", "pwned", 0o644),
			}
		},
		check: func(t *testing.T, s sandbox) {
			checkContent(abs(s, "sentinel"), "pwned")(t, s)
		},
	},
	{
		name: "file over symlink to outside",
		entries: func(s sandbox) []entry {
			return []entry{
				symlinkEntry("evil", abs(s, "sentinel")),
				fileEntry("evil", "pwned", 0o600),
			}
		},
		check: checkContent("evil", "pwned"),
	},
	{
		name: "chmod and chown through symlink",
		entries: func(s sandbox) []entry {
			link := symlinkEntry("evil", abs(s, "sentinel"))
			link.hdr.Mode, link.hdr.Uid, link.hdr.Gid = 0o7777, 1234, 1234
			return []entry{link}
		},
		check: func(t *testing.T, s sandbox) {
			if st := lstat(t, filepath.Join(s.root, "evil")); st.Uid != 1234 {
				t.Errorf("evil uid = %d, want 1234 on the symlink itself", st.Uid)
			}
		},
	},
	{
		name: "directory over symlink to outside",
		entries: func(s sandbox) []entry {
			return []entry{
				symlinkEntry("evil", filepath.Join(s.outside, "dir")),
				dirEntry("evil/", 0o777),
			}
		},
		check: checkMode("evil", unix.S_IFDIR|0o777),
	},
	{
		name: "xattr through symlink",
		entries: func(s sandbox) []entry {
			link := symlinkEntry("evil", abs(s, "sentinel"))
			link.hdr.PAXRecords = map[string]string{
				"SCHILY.xattr.trusted.pwned": "x",
				"SCHILY.xattr.user.pwned":    "x",
			}
			return []entry{link}
		},
		check: func(t *testing.T, s sandbox) {
			if got, _ := getXattr(t, filepath.Join(s.root, "evil"), "trusted.pwned"); got != "x" {
				t.Errorf("trusted.pwned on the symlink = %q, want x", got)
			}
		},
	},
	{
		name: "hardlink to dotdot target",
		entries: func(s sandbox) []entry {
			return []entry{hardlinkEntry("h", sentinelRel)}
		},
		wantErr: "resolve hardlink target",
	},
	{
		name: "hardlink to absolute target",
		entries: func(s sandbox) []entry {
			return []entry{hardlinkEntry("h", abs(s, "sentinel"))}
		},
		wantErr: "resolve hardlink target",
	},
	{
		name: "hardlink through symlink",
		entries: func(s sandbox) []entry {
			return []entry{
				symlinkEntry("evil", s.outside),
				hardlinkEntry("h", "evil/sentinel"),
			}
		},
		wantErr: "resolve hardlink target",
	},
	{
		name: "hardlink to symlink to outside",
		entries: func(s sandbox) []entry {
			return []entry{
				symlinkEntry("evil", abs(s, "sentinel")),
				hardlinkEntry("h", "evil"),
				fileEntry("h", "replaces the link, not the sentinel", 0o644),
			}
		},
		check: checkContent("h", "replaces the link, not the sentinel"),
	},
	{
		name: "hardlink to directory",
		entries: func(s sandbox) []entry {
			return []entry{dirEntry("d/", 0o755), hardlinkEntry("h", "d")}
		},
		wantErr: "is a directory",
	},
	{
		name: "hardlink to root",
		entries: func(s sandbox) []entry {
			return []entry{hardlinkEntry("h", "../..")}
		},
		wantErr: "hardlink target is the layer root",
	},
	{
		name:    "symlink named dot",
		entries: func(s sandbox) []entry { return []entry{symlinkEntry(".", s.outside)} },
		wantErr: `unpack entry ".": entry would replace the layer root`,
	},
	{
		name:    "symlink named slash",
		entries: func(s sandbox) []entry { return []entry{symlinkEntry("/", s.outside)} },
		wantErr: `unpack entry "/": entry would replace the layer root`,
	},
	{
		name:    "hardlink named dotdot",
		entries: func(s sandbox) []entry { return []entry{fileEntry("f", "", 0), hardlinkEntry("../", "f")} },
		wantErr: "entry would replace the layer root",
	},
	{
		name:    "file named dotdot",
		entries: func(s sandbox) []entry { return []entry{fileEntry("..", "pwned", 0o644)} },
		wantErr: "entry would replace the layer root",
	},
	{
		name: "whiteout outside",
		entries: func(s sandbox) []entry {
			return []entry{fileEntry("../outside/.wh.sentinel", "", 0o644)}
		},
		check: func(t *testing.T, s sandbox) { checkWhiteout(t, filepath.Join(s.root, "outside/sentinel")) },
	},
	{
		name: "whiteout through symlink",
		entries: func(s sandbox) []entry {
			return []entry{
				symlinkEntry("evil", "../../.."),
				fileEntry("evil/outside/.wh.sentinel", "", 0o644),
			}
		},
		check: func(t *testing.T, s sandbox) { checkWhiteout(t, filepath.Join(s.root, "outside/sentinel")) },
	},
	{
		name: "opaque marker outside",
		entries: func(s sandbox) []entry {
			return []entry{fileEntry("../outside/dir/.wh..wh..opq", "", 0o644)}
		},
		check: func(t *testing.T, s sandbox) { checkOpaque(t, filepath.Join(s.root, "outside/dir")) },
	},
	{
		name: "device over symlink to outside",
		entries: func(s sandbox) []entry {
			return []entry{
				symlinkEntry("evil", abs(s, "sentinel")),
				{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "evil", Mode: 0o666}},
			}
		},
		check: checkMode("evil", unix.S_IFIFO|0o666),
	},
	{
		name: "symlink swapped in after its directory",
		entries: func(s sandbox) []entry {
			return []entry{
				dirEntry("a/", 0o755),
				fileEntry("a/x", "x", 0o644),
				symlinkEntry("a", s.outside),
				fileEntry("a/sentinel", "pwned", 0o644),
			}
		},
		wantErr: `unpack entry "a/sentinel"`,
	},
	{
		name: "symlink loop",
		entries: func(s sandbox) []entry {
			return []entry{
				symlinkEntry("loop1", "loop2"),
				symlinkEntry("loop2", "loop1"),
				fileEntry("loop1/x", "x", 0o644),
			}
		},
		wantErr: `unpack entry "loop1/x"`,
	},
}

func checkContent(name, want string) func(*testing.T, sandbox) {
	return func(t *testing.T, s sandbox) {
		t.Helper()
		if got := readFile(t, filepath.Join(s.root, name)); got != want {
			t.Errorf("%s content = %q, want %q", name, got, want)
		}
	}
}

func checkMode(name string, want uint32) func(*testing.T, sandbox) {
	return func(t *testing.T, s sandbox) {
		t.Helper()
		if got := lstat(t, filepath.Join(s.root, name)).Mode; got != want {
			t.Errorf("%s mode = %#o, want %#o", name, got, want)
		}
	}
}

func TestLayerHostile(t *testing.T) {
	requireRoot(t)
	for _, tt := range hostileCases {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			before := s.snapshot(t)
			stream := buildTar(t, tt.entries(s)...)

			_, err := Layer(context.Background(), bytes.NewReader(stream), s.root, Options{})

			s.checkUntouched(t, before)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Layer error = %v, want one containing %q", err, tt.wantErr)
				}
				checkEmpty(t, s.root)
				return
			}
			if err != nil {
				t.Fatalf("Layer: %v", err)
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

func checkEmpty(t *testing.T, dir string) {
	t.Helper()
	names, err := os.ReadDir(dir)
	if err != nil || len(names) != 0 {
		t.Errorf("layer directory holds %v (%v) after a failed unpack, want it empty", names, err)
	}
}
