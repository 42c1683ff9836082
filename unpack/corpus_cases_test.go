package unpack

import (
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// corpusCase is the expected result of one case in testdata/layers.
type corpusCase struct {
	// want is the merged tree as root in the initial user namespace sees
	// it. inSingleIDNamespace derives the tree in a single-ID namespace.
	want tree
	// wantErr, if set, is a substring of the error that unpacking the top
	// layer must return. The layers below must unpack.
	wantErr string
	// check makes further checks, on the layer directories, before the
	// merged tree is read.
	check func(t *testing.T, r corpusResult)
}

// Values that testdata/mklayers writes into the corpus.
var (
	corpusTime = time.Date(2021, 2, 3, 4, 5, 6, 0, time.UTC)
	lowerTime  = time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)
	capNetRaw  = string([]byte{
		0x01, 0x00, 0x00, 0x02,
		0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	})
	longDir    = strings.Repeat("d", 120)
	longName   = longDir + "/" + strings.Repeat("f", 150)
	longTarget = strings.Repeat("t", 200)
	prefixDir  = strings.Repeat("p", 100)
	prefixName = prefixDir + "/" + strings.Repeat("q", 40)
)

func wantFile(content string, mode uint32) treeEntry {
	return treeEntry{Type: "file", Mode: octalMode(mode), Content: contentOf([]byte(content)), Nlink: 1}
}

func wantDir(mode uint32) treeEntry { return treeEntry{Type: "dir", Mode: octalMode(mode)} }

func wantSymlink(target string) treeEntry {
	return treeEntry{Type: "symlink", Mode: octalMode(0o777), Target: target, Nlink: 1}
}

func wantFIFO(mode uint32) treeEntry { return treeEntry{Type: "fifo", Mode: octalMode(mode), Nlink: 1} }

func wantDevice(kind string, major, minor, mode uint32) treeEntry {
	return treeEntry{Type: kind, Mode: octalMode(mode), Rdev: fmt.Sprintf("%d:%d", major, minor), Nlink: 1}
}

func (n treeEntry) owner(uid, gid uint32) treeEntry {
	n.UID, n.GID = uid, gid
	return n
}

// links sets the link count, and the first in byte order of the names that
// the tree shows for the inode. first is "" when the tree shows one name.
func (n treeEntry) links(count uint64, first string) treeEntry {
	n.Nlink, n.FirstLink = count, first
	return n
}

func (n treeEntry) xattr(name, value string) treeEntry {
	n.Xattrs = maps.Clone(n.Xattrs)
	if n.Xattrs == nil {
		n.Xattrs = make(map[string]string)
	}
	n.Xattrs[name] = value
	return n
}

func (n treeEntry) modTime(mtime time.Time) treeEntry {
	n.Mtime = mtime.UTC()
	return n
}

// inSingleIDNamespace returns the tree that root of a user namespace
// mapping one ID gets from the layers that give want to real root. Owners
// other than 0:0 become 0:0, recorded in user.kist.owner on files and
// directories. Device nodes other than whiteouts are skipped, and trusted.*
// xattrs are not set.
func (want tree) inSingleIDNamespace() tree {
	out := make(tree)
	for name, n := range want {
		if (n.Type == "char" || n.Type == "block") && n.Rdev != "0:0" {
			continue
		}
		n.Xattrs = maps.Clone(n.Xattrs)
		maps.DeleteFunc(n.Xattrs, func(name, _ string) bool { return strings.HasPrefix(name, "trusted.") })
		if n.UID != 0 || n.GID != 0 {
			if n.Type == "file" || n.Type == "dir" {
				n = n.xattr(ownerXattr, fmt.Sprintf("%d:%d", n.UID, n.GID))
			}
			n.UID, n.GID = 0, 0
		}
		out[name] = n
	}
	return out
}

// sparseContent is the file that each sparse format of sparse.tar encodes.
func sparseContent() string {
	b := make([]byte, 1<<20)
	copy(b, strings.Repeat("head", 128))
	copy(b[512<<10:], strings.Repeat("mid.", 128))
	copy(b[len(b)-512:], strings.Repeat("tail", 128))
	return string(b)
}

// compressedTree is the tree of compressed.tar and its compressed variants.
var compressedTree = tree{
	"etc":                wantDir(0o755),
	"etc/os-release":     wantFile("ID=corpus\n", 0o644).links(2, "etc/hardlink"),
	"etc/hardlink":       wantFile("ID=corpus\n", 0o644).links(2, "etc/hardlink"),
	"etc/alias":          wantSymlink("os-release"),
	"usr":                wantDir(0o755),
	"usr/share":          wantDir(0o755),
	"usr/share/doc":      wantDir(0o755),
	"usr/share/doc/text": wantFile(strings.Repeat("compressible text ", 200), 0o644),
}

var corpusCases = map[string]corpusCase{
	// Whiteouts and opaque directories.
	"whiteout-file": {want: tree{
		"etc":       wantDir(0o755),
		"etc/group": wantFile("root:x:0:\n", 0o644),
	}},
	"whiteout-dir": {want: tree{
		"opt":       wantDir(0o755),
		"opt/other": wantFile("other", 0o644),
	}},
	"whiteout-then-recreate": {
		want: tree{
			"data":     wantDir(0o755),
			"data/new": wantFile("new", 0o644),
			"conf":     wantDir(0o750),
			"conf/x":   wantFile("x", 0o644),
		},
		check: func(t *testing.T, r corpusResult) {
			checkOpaque(t, filepath.Join(r.layers[1], "data"))
			checkOpaque(t, filepath.Join(r.layers[1], "conf"))
			checkWhiteout(t, filepath.Join(r.layers[1], "log"))
		},
	},
	"whiteout-lower-symlink": {want: tree{
		"target":      wantDir(0o755),
		"target/file": wantFile("kept", 0o644),
	}},
	"opaque-marker-positions": {want: tree{
		"first":                wantDir(0o755),
		"first/new":            wantFile("new", 0o644),
		"last":                 wantDir(0o755),
		"last/new":             wantFile("new", 0o644),
		"before-dir-entry":     wantDir(0o700),
		"before-dir-entry/new": wantFile("new", 0o644),
		"no-dir-entry":         wantDir(0o750).owner(7, 8),
		"no-dir-entry/new":     wantFile("new", 0o644),
		"nested":               wantDir(0o755),
		"nested/keep":          wantFile("kept", 0o644),
		"nested/inner":         wantDir(0o755),
	}},
	"opaque-over-lower-symlink": {
		want: tree{
			"target":      wantDir(0o755),
			"target/keep": wantFile("kept", 0o644),
			"link":        wantDir(0o755),
			"link/new":    wantFile("new", 0o644),
			"abs-link":    wantDir(0o755),
		},
		check: func(t *testing.T, r corpusResult) {
			checkOpaque(t, filepath.Join(r.layers[1], "link"))
			checkOpaque(t, filepath.Join(r.layers[1], "abs-link"))
		},
	},
	"opaque-root": {
		want: tree{"new": wantFile("new", 0o644)},
		check: func(t *testing.T, r corpusResult) {
			if !r.stats[1].OpaqueRoot {
				t.Errorf("Stats.OpaqueRoot of layer 1 = false, want true")
			}
		},
	},
	"aufs-metadata.tar": {
		want: tree{"kept": wantFile("kept", 0o644)},
		check: func(t *testing.T, r corpusResult) {
			if got := r.stats[0].Skipped; got != 4 {
				t.Errorf("Stats.Skipped = %d, want the 4 aufs entries", got)
			}
		},
	},

	// Entries that replace entries of another type.
	"file-replaced-by-dir": {want: tree{
		"x":       wantDir(0o700),
		"x/inner": wantFile("inner", 0o644),
		"y":       wantDir(0o755),
		"y/inner": wantFile("inner", 0o644),
	}},
	"dir-0555-replaced-by-file": {want: tree{
		"ro": wantFile("now a file", 0o600),
	}},
	"dir-replaced-by-symlink": {want: tree{
		"d": wantSymlink("elsewhere"),
	}},
	"implicit-parents.tar": {want: tree{
		"a":           wantDir(0o755),
		"a/b":         wantDir(0o755),
		"a/b/c":       wantDir(0o755),
		"a/b/c/file":  wantFile("deep", 0o644),
		"sg":          wantDir(0o2775).owner(0, 50),
		"sg/x":        wantDir(0o755),
		"sg/x/y":      wantDir(0o755),
		"sg/x/y/file": wantFile("under setgid", 0o644),
	}},
	"implicit-parent-over-lower-dir": {
		want: tree{
			"home":               wantDir(0o755),
			"home/user":          wantDir(0o700).owner(1000, 100).xattr("user.note", "home").modTime(corpusTime),
			"home/user/.profile": wantFile("profile", 0o644).owner(1000, 100),
			"tmp":                wantDir(0o1777),
			"tmp/new":            wantFile("new", 0o600),
			"srv":                wantDir(0o2750).owner(0, 50),
			"srv/a":              wantDir(0o755),
			"srv/a/b":            wantFile("b", 0o644),
		},
		check: func(t *testing.T, r corpusResult) {
			// home, home/user, tmp and srv copy the lower directories.
			if got := r.stats[1].LowerCopies; got != 4 {
				t.Errorf("Stats.LowerCopies of layer 1 = %d, want 4", got)
			}
		},
	},
	"implicit-parent-over-lower-symlink": {want: tree{
		"usr":             wantDir(0o755),
		"usr/lib":         wantDir(0o755),
		"usr/lib/libc.so": wantFile("libc", 0o755),
		"lib":             wantDir(0o755),
		"lib/extra.so":    wantFile("extra", 0o755),
	}},
	"duplicate-entries.tar": {want: tree{
		"file":           wantFile("second", 0o644).owner(1, 2),
		"dir":            wantDir(0o700).owner(7, 7),
		"dir/kept":       wantFile("kept", 0o644),
		"file-then-dir":  wantDir(0o711),
		"dir-then-file":  wantFile("replaced a read-only tree", 0o644),
		"link-then-file": wantFile("y", 0o600),
		"file-then-link": wantSymlink("target"),
		"self":           wantFile("listed twice", 0o644),
		"linked":         wantFile("shared", 0o644),
		"second-name":    wantFile("no longer shared", 0o644),
	}},

	// Hardlinks.
	"hardlink-to-lower": {
		want: tree{
			"usr":               wantDir(0o755),
			"usr/bin":           wantDir(0o755),
			"usr/bin/tool":      lowerTool(),
			"usr/bin/alias":     lowerTool().links(2, "usr/bin/alias"),
			"usr/bin/alias-abs": lowerTool().links(2, "usr/bin/alias"),
			"usr/bin/sym":       wantSymlink("tool"),
			"usr/bin/sym-copy":  wantSymlink("tool"),
		},
		check: func(t *testing.T, r corpusResult) {
			if got := r.stats[1].Hardlinks; got != 3 {
				t.Errorf("Stats.Hardlinks of layer 1 = %d, want 3", got)
			}
			// The three hardlinks, and usr, the parent of usr/bin/.
			if got := r.stats[1].LowerCopies; got != 4 {
				t.Errorf("Stats.LowerCopies of layer 1 = %d, want 4", got)
			}
		},
	},
	"hardlink-to-symlink.tar": {want: tree{
		"target":           wantFile("target", 0o644),
		"sym":              wantSymlink("target").links(2, "hard"),
		"hard":             wantSymlink("target").links(2, "hard"),
		"dangling":         wantSymlink("nowhere").links(2, "dangling"),
		"hard-to-dangling": wantSymlink("nowhere").links(2, "dangling"),
	}},
	"hardlink-absolute-name.tar": {want: tree{
		"etc":   wantDir(0o755),
		"etc/a": wantFile("shared", 0o644).links(4, "etc/a"),
		"etc/b": wantFile("shared", 0o644).links(4, "etc/a"),
		"etc/c": wantFile("shared", 0o644).links(4, "etc/a"),
		"etc/d": wantFile("shared", 0o644).links(4, "etc/a"),
	}},
	"hardlink-rewrite-one-name": {want: tree{
		// The inode of a keeps its two links in the lower layer, where b
		// is still its second name, hidden by the upper b.
		"a": wantFile("shared", 0o644).links(2, ""),
		"b": wantFile("rewritten", 0o644),
		"c": wantFile("shared in one layer", 0o644),
		"d": wantFile("rewritten in one layer", 0o644),
	}},

	// Modes, times, xattrs and owners.
	"modes-setuid-setgid-sticky.tar": {want: tree{
		"bin":             wantDir(0o755),
		"bin/su":          wantFile("su", 0o4755),
		"bin/wall":        wantFile("wall", 0o2755).owner(0, 5),
		"bin/user-setuid": wantFile("x", 0o4711).owner(1000, 1000),
		"bin/user-setgid": wantFile("x", 0o2711).owner(1000, 1000),
		"bin/all-bits":    wantFile("x", 0o7777),
		"tmp":             wantDir(0o1777),
		"shared":          wantDir(0o2775).owner(0, 50),
		"shared/file":     wantFile("group 0 despite the setgid parent", 0o644),
		"sticky-ro":       wantDir(0o1555),
	}},
	"dir-0555-written-into.tar": {want: tree{
		"ro":          wantDir(0o555),
		"ro/file":     wantFile("x", 0o444),
		"ro/sub":      wantDir(0o555),
		"ro/sub/file": wantFile("x", 0o400),
		"ro/late":     wantFile("written after ro/sub", 0o644),
	}},
	"dir-0000-written-into.tar": {want: tree{
		"locked":            wantDir(0),
		"locked/inner":      wantDir(0o700),
		"locked/inner/file": wantFile("x", 0),
		"locked/file":       wantFile("x", 0o600),
		"locked/link":       wantSymlink("file"),
	}},
	"dir-0000-written-into-by-later-layer": {want: tree{
		"locked":     wantDir(0).owner(3, 3),
		"locked/old": wantFile("old", 0o600),
		"locked/new": wantFile("new", 0o600),
		"ro":         wantDir(0o555),
		"ro/old":     wantFile("old", 0o444),
		"ro/new":     wantFile("new", 0o444),
	}},
	"file-0000-rewritten": {want: tree{
		"secret":          wantFile("v2", 0),
		"secret-in-layer": wantFile("second", 0),
	}},
	"mtimes.tar": {
		want: tree{
			".":   wantDir(0o755).modTime(time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)),
			"dir": wantDir(0o755).modTime(time.Date(2002, 3, 4, 5, 6, 7, 0, time.UTC)),
			// Only the pax entry keeps nanoseconds: archive/tar rounds
			// the time of a ustar entry to the second.
			"dir/file":              wantFile("x", 0o644).modTime(time.Date(2003, 4, 5, 6, 7, 8, 123456789, time.UTC)),
			"dir/link":              wantSymlink("file").modTime(time.Date(2005, 6, 7, 8, 9, 10, 0, time.UTC)),
			"dir/later":             wantFile("changes dir's mtime when created", 0o644).modTime(time.Date(2003, 4, 5, 6, 7, 8, 0, time.UTC)),
			"dir/sub":               wantDir(0o755).modTime(time.Date(2006, 7, 8, 9, 10, 11, 0, time.UTC)),
			"dir/sub/implicit":      wantDir(0o755),
			"dir/sub/implicit/file": wantFile("creates an implicit parent", 0o644).modTime(time.Date(2003, 4, 5, 6, 7, 8, 0, time.UTC)),
			"before-1970":           wantFile("x", 0o644).modTime(time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)),
			"after-2038":            wantFile("x", 0o644).modTime(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)),
			"after-2242":            wantFile("x", 0o644).modTime(time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)),
		},
		check: func(t *testing.T, r corpusResult) {
			st := lstat(t, filepath.Join(r.layers[0], "dir/file"))
			want := time.Date(2004, 5, 6, 7, 8, 9, 0, time.UTC)
			if got := time.Unix(st.Atim.Unix()); !got.Equal(want) {
				t.Errorf("dir/file atime = %v, want %v", got.UTC(), want)
			}
		},
	},
	"xattrs-security-capability.tar": {
		want: tree{
			"bin":            wantDir(0o755),
			"bin/ping":       wantFile("ping", 0o755).xattr("security.capability", capNetRaw).xattr("user.note", "plain"),
			"bin/owned-ping": wantFile("ping", 0o4755).owner(1000, 1000).xattr("security.capability", capNetRaw),
			"libarchive":     wantFile("x", 0o644).xattr("user.encoded=name", "binary\x00\x01").xattr("user.both", "schily wins"),
			"trusted":        wantFile("x", 0o644).xattr("trusted.note", "root only"),
			"data":           wantDir(0o755).xattr("user.dir", "d"),
			"reserved":       wantFile("x", 0o644).xattr("user.kept", "kept"),
		},
		check: func(t *testing.T, r corpusResult) {
			// Overlayfs hides user.overlay.* in the merged tree, so look
			// at the layer itself.
			path := filepath.Join(r.layers[0], "reserved")
			for _, name := range []string{ownerXattr, "user.overlay.redirect", "trusted.overlay.opaque"} {
				if _, ok := getXattr(t, path, name); ok {
					t.Errorf("reserved has xattr %s, want it skipped", name)
				}
			}
		},
	},
	"xattr-overlay-reserved": {
		want: tree{
			"d":            wantDir(0o755),
			"d/lower-file": wantFile("lower", 0o644),
			"d/upper-file": wantFile("upper", 0o644),
			"e":            wantDir(0o755),
			"e/lower-file": wantFile("lower", 0o644),
		},
		check: func(t *testing.T, r corpusResult) {
			for _, name := range []string{"d", "e"} {
				if _, ok := getXattr(t, filepath.Join(r.layers[1], name), opaqueXattr); ok {
					t.Errorf("%s in layer 1 has %s, want it skipped", name, opaqueXattr)
				}
			}
		},
	},
	"uid-above-65535.tar": {want: tree{
		"uid-65536":          wantFile("x", 0o644).owner(65536, 65536),
		"uid-2097152-pax":    wantFile("x", 0o644).owner(2097152, 3000000),
		"uid-2147483648-gnu": wantFile("x", 0o644).owner(1<<31, 1<<31),
		"uid-4294967294":     wantFile("x", 0o644).owner(1<<32-2, 1<<32-2),
		"dir-100000":         wantDir(0o755).owner(100000, 100000),
		"link-100000":        wantSymlink("uid-65536").owner(100000, 100001),
	}},
	"uid-4294967295.tar": {wantErr: "invalid owner 4294967295:0"},
	"device-and-fifo.tar": {
		want: tree{
			"dev":       wantDir(0o755),
			"dev/null":  wantDevice("char", 1, 3, 0o666),
			"dev/loop9": wantDevice("block", 7, 9, 0o660).owner(0, 6),
			"dev/max":   wantDevice("char", 1<<12-1, 1<<20-1, 0o600),
			"run":       wantDir(0o755),
			"run/fifo":  wantFIFO(0o620).owner(1000, 1000),
			// A character device 0/0 is a whiteout to overlayfs.
			"dev/zero-zero": {Type: listedNotFound},
		},
		check: func(t *testing.T, r corpusResult) {
			checkWhiteout(t, filepath.Join(r.layers[0], "dev/zero-zero"))
			wantSkipped := 0
			if r.userns {
				wantSkipped = 3
			}
			if got := r.stats[0].Skipped; got != wantSkipped {
				t.Errorf("Stats.Skipped = %d, want %d", got, wantSkipped)
			}
		},
	},
	"device-number-too-large.tar": {wantErr: "invalid device number 4096:0"},

	// Tar formats.
	"pax-long-name.tar": {want: tree{
		longDir:          wantDir(0o755),
		longName:         wantFile("pax", 0o644).links(2, longName),
		"long-hardlink":  wantFile("pax", 0o644).links(2, longName),
		"long-link":      wantSymlink(longTarget),
		"ünïcödé":        wantDir(0o755),
		"ünïcödé/名前.txt": wantFile("utf-8", 0o644),
		prefixDir:        wantDir(0o755),
		prefixName:       wantFile("ustar prefix", 0o644),
	}},
	"gnu-long-name.tar": {want: tree{
		longDir:         wantDir(0o755),
		longName:        wantFile("gnu", 0o644).links(2, longName),
		"long-hardlink": wantFile("gnu", 0o644).links(2, longName),
		"long-link":     wantSymlink(longTarget),
	}},
	"name-longer-than-path-max.tar": {wantErr: "name is 4097 bytes long, more than the 4096 allowed"},
	"pax-global-header.tar": {want: tree{
		"after-global": wantFile("x", 0o644),
	}},
	"sparse.tar": {
		want: tree{
			"pax-1.0": wantFile(sparseContent(), 0o644),
			"pax-0.1": wantFile(sparseContent(), 0o644),
			"gnu-old": wantFile(sparseContent(), 0o644),
		},
		check: func(t *testing.T, r corpusResult) {
			// Each of the three runs of data costs at most the copy
			// chunk that holds it.
			for _, name := range []string{"pax-1.0", "pax-0.1", "gnu-old"} {
				st := lstat(t, filepath.Join(r.layers[0], name))
				if used := st.Blocks * 512; used > 3*copyChunk {
					t.Errorf("%s uses %d bytes of disk, want its holes kept as holes", name, used)
				}
			}
		},
	},
	"empty.tar":                      {want: tree{}},
	"truncated.tar":                  {wantErr: "unexpected EOF"},
	"compressed.tar":                 {want: compressedTree},
	"compressed.tar.gz":              {want: compressedTree},
	"compressed-multi-member.tar.gz": {want: compressedTree},
	"compressed-zero-padded.tar.gz":  {want: compressedTree},
	"compressed.tar.zst":             {want: compressedTree},

	// Escape attempts. runCorpusCase checks that nothing outside the layer
	// directories changed and that corpusEscapeDir did not appear.
	"escape-dotdot.tar": {want: tree{
		"outside":                       wantDir(0o755),
		"outside/sentinel":              wantFile("pwned", 0o644),
		"outside/new":                   wantFile("pwned", 0o644),
		"tmp":                           wantDir(0o755),
		"tmp/kist-corpus-escape":        wantDir(0o755),
		"tmp/kist-corpus-escape/dotdot": wantFile("pwned", 0o644),
	}},
	"escape-absolute.tar": {want: tree{
		"tmp":                             wantDir(0o755),
		"tmp/kist-corpus-escape":          wantDir(0o755),
		"tmp/kist-corpus-escape/absolute": wantFile("pwned", 0o644),
		"outside":                         wantDir(0o755),
		"outside/sentinel":                wantFile("pwned", 0o644),
	}},
	"escape-symlink-then-write.tar": {want: tree{
		"up":                     wantSymlink("../../../../../../.."),
		"tmp":                    wantDir(0o755),
		"tmp/kist-corpus-escape": wantDir(0o755),
		"tmp/kist-corpus-escape/through-relative": wantFile("pwned", 0o644),
		"abs": wantSymlink(corpusEscapeDir),
		"tmp/kist-corpus-escape/through-absolute": wantFile("pwned", 0o644),
		"outside":          wantDir(0o755),
		"out":              wantSymlink("../outside"),
		"outside/sentinel": wantFile("pwned", 0o644),
	}},
	"escape-symlink-dangling-then-write.tar": {wantErr: `unpack entry "out/sentinel"`},
	"escape-symlink-swapped-after-dir.tar":   {wantErr: `unpack entry "a/sentinel"`},
	"escape-symlink-loop.tar":                {wantErr: `unpack entry "loop1/x"`},
	"escape-hardlink-outside.tar":            {wantErr: `resolve hardlink target "../outside/sentinel"`},
	"escape-hardlink-through-symlink.tar":    {wantErr: `resolve hardlink target "out/sentinel"`},
	"escape-hardlink-host-absolute.tar":      {wantErr: `resolve hardlink target "/etc/passwd"`},
	"escape-symlink-named-dot.tar":           {wantErr: "entry would replace the layer root"},
	"escape-symlink-named-slash.tar":         {wantErr: "entry would replace the layer root"},
	"escape-symlink-named-dotdot.tar":        {wantErr: "entry would replace the layer root"},
	"escape-chmod-through-link.tar": {want: tree{
		"evil":           evilSymlink(),
		"evil-hardlink":  evilSymlink(),
		"evil-dir":       wantSymlink("../outside/dir").owner(1234, 1234),
		"dir-over-link":  wantDir(0o777).owner(1234, 1234),
		"fifo-over-link": wantFIFO(0o666),
	}},
	"escape-whiteout-outside.tar": {
		want: tree{
			"outside":          wantDir(0o755),
			"outside/dir":      wantDir(0o755),
			"outside/sentinel": {Type: listedNotFound},
		},
		check: func(t *testing.T, r corpusResult) {
			checkWhiteout(t, filepath.Join(r.layers[0], "outside/sentinel"))
			checkOpaque(t, filepath.Join(r.layers[0], "outside/dir"))
		},
	},
	"escape-through-lower-symlink": {want: tree{
		"abs":          wantDir(0o755),
		"abs/x":        wantFile("x", 0o644),
		"rel":          wantDir(0o755),
		"rel/sentinel": wantFile("pwned", 0o644),
	}},
	"escape-hardlink-through-lower-symlink": {wantErr: `resolve hardlink target "rel/sentinel"`},
}

// lowerTool is usr/bin/tool of hardlink-to-lower, and each copy of it.
func lowerTool() treeEntry {
	return wantFile("tool", 0o4750).owner(10, 20).xattr("user.origin", "lower").modTime(lowerTime)
}

// evilSymlink is the symlink of escape-chmod-through-link with its
// hardlink: user.* xattrs are not allowed on symlinks, trusted.* are.
func evilSymlink() treeEntry {
	return wantSymlink("../outside/sentinel").owner(1234, 1234).xattr("trusted.pwned", "x").links(2, "evil")
}
