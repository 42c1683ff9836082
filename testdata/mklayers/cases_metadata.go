package main

import (
	"archive/tar"
	"encoding/base64"
	"time"
)

// Times that the metadata cases set on purpose.
var (
	lowerTime  = time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)
	rootTime   = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	dirTime    = time.Date(2002, 3, 4, 5, 6, 7, 0, time.UTC)
	fileTime   = time.Date(2003, 4, 5, 6, 7, 8, 123456789, time.UTC)
	accessTime = time.Date(2004, 5, 6, 7, 8, 9, 0, time.UTC)
	linkTime   = time.Date(2005, 6, 7, 8, 9, 10, 0, time.UTC)
	before1970 = time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)
	after2038  = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	after2242  = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	subdirTime = time.Date(2006, 7, 8, 9, 10, 11, 0, time.UTC)
)

// capNetRaw is a security.capability value, struct vfs_cap_data revision 2
// from linux/capability.h, little-endian: magic 0x02000000 with the
// effective flag, then permitted and inheritable sets of two 32-bit words,
// with only CAP_NET_RAW (bit 13) permitted.
var capNetRaw = string([]byte{
	0x01, 0x00, 0x00, 0x02,
	0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
})

func metadataCases() []corpusCase {
	return []corpusCase{
		{
			name: "modes-setuid-setgid-sticky.tar",
			doc: "setuid, setgid and sticky bits on files and directories, also on files owned by a user other " +
				"than root, whose chown would clear them if it came last.",
			layers: oneLayer(
				dir("bin/", 0o755),
				file("bin/su", "su", 0o4755),
				owned(file("bin/wall", "wall", 0o2755), 0, 5),
				owned(file("bin/user-setuid", "x", 0o4711), 1000, 1000),
				owned(file("bin/user-setgid", "x", 0o2711), 1000, 1000),
				file("bin/all-bits", "x", 0o7777),
				dir("tmp/", 0o1777),
				owned(dir("shared/", 0o2775), 0, 50),
				file("shared/file", "group 0 despite the setgid parent", 0o644),
				dir("sticky-ro/", 0o1555),
			),
		},
		{
			name: "dir-0555-written-into.tar",
			doc:  "Entries written into directories after their entries made them 0555.",
			layers: oneLayer(
				dir("ro/", 0o555),
				file("ro/file", "x", 0o444),
				dir("ro/sub/", 0o555),
				file("ro/sub/file", "x", 0o400),
				file("ro/late", "written after ro/sub", 0o644),
			),
		},
		{
			name: "dir-0000-written-into.tar",
			doc:  "Entries written into directories of mode 0000, and a file of mode 0000.",
			layers: oneLayer(
				dir("locked/", 0o000),
				dir("locked/inner/", 0o700),
				file("locked/inner/file", "x", 0o000),
				file("locked/file", "x", 0o600),
				symlink("locked/link", "file"),
			),
		},
		{
			name: "dir-0000-written-into-by-later-layer",
			doc:  "A later layer writes into lower directories of mode 0000 and 0555 without entries for them.",
			layers: layers(
				[]entry{
					owned(dir("locked/", 0o000), 3, 3),
					file("locked/old", "old", 0o600),
					dir("ro/", 0o555),
					file("ro/old", "old", 0o444),
				},
				[]entry{file("locked/new", "new", 0o600), file("ro/new", "new", 0o444)},
			),
		},
		{
			name: "file-0000-rewritten",
			doc:  "Files of mode 0000 rewritten by a later layer and by a later entry of the same layer.",
			layers: layers(
				[]entry{
					file("secret", "v1", 0o000),
					file("secret-in-layer", "first", 0o000),
					file("secret-in-layer", "second", 0o000),
				},
				[]entry{file("secret", "v2", 0o000)},
			),
		},
		{
			name:   "mtimes.tar",
			doc:    mtimesDoc,
			layers: oneLayer(mtimeEntries()...),
		},
		{
			name:   "xattrs-security-capability.tar",
			doc:    "File capabilities, user and trusted xattrs in SCHILY and LIBARCHIVE records, and xattrs reserved for overlayfs and kist.",
			layers: oneLayer(xattrEntries()...),
		},
		{
			name: "xattr-overlay-reserved",
			doc: "A layer sets overlayfs's own opaque xattrs on directories that also exist below: they are " +
				"skipped, so the lower files stay visible.",
			layers: layers(
				[]entry{file("d/lower-file", "lower", 0o644), file("e/lower-file", "lower", 0o644)},
				[]entry{
					withPAX(dir("d/", 0o755), map[string]string{
						"SCHILY.xattr.user.overlay.opaque":    "y",
						"SCHILY.xattr.trusted.overlay.opaque": "y",
					}),
					file("d/upper-file", "upper", 0o644),
					withPAX(dir("e/", 0o755), map[string]string{
						"LIBARCHIVE.xattr.user.overlay.opaque": base64.StdEncoding.EncodeToString([]byte("y")),
					}),
				},
			),
		},
		{
			name: "uid-above-65535.tar",
			doc:  "Owners above 65535 in ustar octal, pax records and GNU base-256 fields, up to 4294967294.",
			layers: oneLayer(
				owned(file("uid-65536", "x", 0o644), 65536, 65536),
				inFormat(owned(file("uid-2097152-pax", "x", 0o644), 2097152, 3000000), tar.FormatPAX),
				inFormat(owned(file("uid-2147483648-gnu", "x", 0o644), 1<<31, 1<<31), tar.FormatGNU),
				inFormat(owned(file("uid-4294967294", "x", 0o644), 1<<32-2, 1<<32-2), tar.FormatPAX),
				owned(dir("dir-100000/", 0o755), 100000, 100000),
				owned(symlink("link-100000", "uid-65536"), 100000, 100001),
			),
		},
		{
			name:   "uid-4294967295.tar",
			doc:    "Owner 4294967295, which chown reads as \"leave unchanged\": rejected.",
			layers: oneLayer(inFormat(owned(file("f", "x", 0o644), 1<<32-1, 0), tar.FormatPAX)),
		},
		{
			name: "device-and-fifo.tar",
			doc: "Character and block devices, the largest Linux device number, a FIFO, and a character device " +
				"0/0, which overlayfs reads as a whiteout.",
			layers: oneLayer(
				dir("dev/", 0o755),
				device("dev/null", tar.TypeChar, 1, 3, 0o666),
				owned(device("dev/loop9", tar.TypeBlock, 7, 9, 0o660), 0, 6),
				device("dev/max", tar.TypeChar, 1<<12-1, 1<<20-1, 0o600),
				device("dev/zero-zero", tar.TypeChar, 0, 0, 0o600),
				owned(fifo("run/fifo", 0o620), 1000, 1000),
			),
		},
		{
			name:   "device-number-too-large.tar",
			doc:    "A device with major number 4096, which Linux cannot represent: rejected.",
			layers: oneLayer(device("dev/big", tar.TypeChar, 1<<12, 0, 0o600)),
		},
	}
}

const mtimesDoc = "Times of the root, of directories filled after their entry, of files with nanoseconds " +
	"and an access time, of symlinks, and before 1970 and after 2038 and 2242."

func mtimeEntries() []entry {
	withAtime := inFormat(modified(file("dir/file", "x", 0o644), fileTime), tar.FormatPAX)
	withAtime.hdr.AccessTime = accessTime
	return []entry{
		modified(dir("./", 0o755), rootTime),
		modified(dir("dir/", 0o755), dirTime),
		withAtime,
		modified(symlink("dir/link", "file"), linkTime),
		modified(file("dir/later", "changes dir's mtime when created", 0o644), fileTime),
		modified(dir("dir/sub/", 0o755), subdirTime),
		modified(file("dir/sub/implicit/file", "creates an implicit parent", 0o644), fileTime),
		modified(file("before-1970", "x", 0o644), before1970),
		modified(file("after-2038", "x", 0o644), after2038),
		modified(file("after-2242", "x", 0o644), after2242),
	}
}

func xattrEntries() []entry {
	b64 := base64.StdEncoding.EncodeToString
	return []entry{
		dir("bin/", 0o755),
		withPAX(file("bin/ping", "ping", 0o755), map[string]string{
			"SCHILY.xattr.security.capability": capNetRaw,
			"SCHILY.xattr.user.note":           "plain",
		}),
		withPAX(owned(file("bin/owned-ping", "ping", 0o4755), 1000, 1000), map[string]string{
			"SCHILY.xattr.security.capability": capNetRaw,
		}),
		withPAX(file("libarchive", "x", 0o644), map[string]string{
			"LIBARCHIVE.xattr.user.encoded%3Dname": b64([]byte("binary\x00\x01")),
			"LIBARCHIVE.xattr.user.both":           b64([]byte("libarchive loses")),
			"SCHILY.xattr.user.both":               "schily wins",
		}),
		withPAX(file("trusted", "x", 0o644), map[string]string{"SCHILY.xattr.trusted.note": "root only"}),
		withPAX(dir("data/", 0o755), map[string]string{"SCHILY.xattr.user.dir": "d"}),
		withPAX(file("reserved", "x", 0o644), map[string]string{
			"SCHILY.xattr.user.kist.owner":        "0:0",
			"SCHILY.xattr.user.overlay.redirect":  "/data",
			"SCHILY.xattr.trusted.overlay.opaque": "y",
			"SCHILY.xattr.user.kept":              "kept",
		}),
	}
}
