package main

import (
	"archive/tar"
	"strings"
)

// Names longer than the 100 bytes of a ustar name field.
var (
	longName   = strings.Repeat("d", 120) + "/" + strings.Repeat("f", 150)
	longTarget = strings.Repeat("t", 200)
	// prefixName fits ustar's 155-byte prefix and 100-byte name fields.
	prefixName = strings.Repeat("p", 100) + "/" + strings.Repeat("q", 40)
)

// sparseSize and sparseFragments describe the file that each sparse format
// of sparse.tar encodes: 1 MiB with three runs of data. GNU tar writes
// runs of whole 512-byte blocks and reads them back that way, while
// archive/tar also reads shorter runs, so each run is one block for both
// to agree.
const sparseSize = 1 << 20

var sparseFragments = []sparseFragment{
	{0, strings.Repeat("head", blockSize/4)},
	{512 << 10, strings.Repeat("mid.", blockSize/4)},
	{sparseSize - blockSize, strings.Repeat("tail", blockSize/4)},
}

func formatCases() ([]corpusCase, error) {
	oldGNU, err := sparseOldGNU("gnu-old", sparseSize, sparseFragments)
	if err != nil {
		return nil, err
	}
	compressed := compressedLayer()
	return []corpusCase{
		{
			name: "pax-long-name.tar",
			doc:  "pax records for a long name, a long symlink target, a long hardlink name and a UTF-8 name, and a ustar name split into prefix and name.",
			layers: oneLayer(
				inFormat(file(longName, "pax", 0o644), tar.FormatPAX),
				inFormat(symlink("long-link", longTarget), tar.FormatPAX),
				inFormat(hardlink("long-hardlink", longName), tar.FormatPAX),
				inFormat(file("ünïcödé/名前.txt", "utf-8", 0o644), tar.FormatPAX),
				inFormat(file(prefixName, "ustar prefix", 0o644), tar.FormatUSTAR),
			),
		},
		{
			name: "gnu-long-name.tar",
			doc:  "GNU long name and long link records (typeflags L and K).",
			layers: oneLayer(
				inFormat(file(longName, "gnu", 0o644), tar.FormatGNU),
				inFormat(symlink("long-link", longTarget), tar.FormatGNU),
				inFormat(hardlink("long-hardlink", longName), tar.FormatGNU),
			),
		},
		{
			name:   "name-longer-than-path-max.tar",
			doc:    "A name of 4097 bytes, longer than Linux's PATH_MAX: rejected.",
			layers: oneLayer(inFormat(file(strings.Repeat("a/", 2048)+"f", "x", 0o644), tar.FormatPAX)),
		},
		{
			name: "pax-global-header.tar",
			doc:  "A pax global header, whose records apply to no entry of a layer.",
			layers: oneLayer(
				entry{hdr: tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "global", PAXRecords: map[string]string{
					"comment": "ignored by the unpacker",
				}}},
				file("after-global", "x", 0o644),
			),
		},
		{
			name: "sparse.tar",
			doc:  "The same sparse file in GNU pax sparse formats 1.0 and 0.1 and the old GNU format.",
			layers: oneLayer(
				rawBlocks(sparsePAX10("pax-1.0", sparseSize, sparseFragments)),
				rawBlocks(sparsePAX01("pax-0.1", sparseSize, sparseFragments)),
				rawBlocks(oldGNU),
			),
		},
		{
			name:   "empty.tar",
			doc:    "An archive with no entries, only the two zero blocks that end it.",
			layers: oneLayer(),
		},
		{
			name:   "truncated.tar",
			doc:    "An archive cut off in the middle of a file's content: rejected, and the partial layer removed.",
			layers: oneLayer(file("complete", "x", 0o644), file("cut", strings.Repeat("c", 2000), 0o644)),
			encode: func(stream []byte) ([]byte, error) {
				// Two end blocks, the content's padding and 500 bytes of it.
				return stream[:len(stream)-2*blockSize-48-500], nil
			},
		},
		{
			name:   "compressed.tar",
			doc:    "The small layer that the compressed cases encode, uncompressed.",
			layers: oneLayer(compressed...),
		},
		{
			name:   "compressed.tar.gz",
			doc:    "The layer of compressed.tar in one gzip member.",
			layers: oneLayer(compressed...),
			encode: func(stream []byte) ([]byte, error) { return gzipStored(stream) },
		},
		{
			name:   "compressed-multi-member.tar.gz",
			doc:    "The layer of compressed.tar in three gzip members.",
			layers: oneLayer(compressed...),
			encode: func(stream []byte) ([]byte, error) { return gzipStored(stream, 100, 1500) },
		},
		{
			name:   "compressed-zero-padded.tar.gz",
			doc:    "The layer of compressed.tar in gzip followed by zero bytes, as some image tools write it.",
			layers: oneLayer(compressed...),
			encode: func(stream []byte) ([]byte, error) {
				blob, err := gzipStored(stream)
				return append(blob, make([]byte, 1536)...), err
			},
		},
		{
			name:   "compressed.tar.zst",
			doc:    "The layer of compressed.tar in a zstd frame.",
			layers: oneLayer(compressed...),
			encode: zstdRaw,
		},
	}, nil
}

func compressedLayer() []entry {
	return []entry{
		dir("etc/", 0o755),
		file("etc/os-release", "ID=corpus\n", 0o644),
		symlink("etc/alias", "os-release"),
		hardlink("etc/hardlink", "etc/os-release"),
		file("usr/share/doc/text", strings.Repeat("compressible text ", 200), 0o644),
	}
}
