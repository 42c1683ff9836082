package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"strconv"
)

// blockSize is the size of a tar header and the unit content is padded to.
const blockSize = 512

// Offsets of header fields, as archive/tar's format.go defines them. The
// old GNU header has four sparse entries of two 12-byte numbers at
// offSparse, then the isextended flag, then the real size of the file.
const (
	offName     = 0
	offMode     = 100
	offUID      = 108
	offGID      = 116
	offSize     = 124
	offMtime    = 136
	offChecksum = 148
	offTypeflag = 156
	offMagic    = 257
	offSparse   = 386
	offRealSize = 483
)

// rawHeader returns a header block with mode 0644, owner 0:0 and
// corpusTime, in the ustar layout, or in the old GNU layout when gnu is set.
// The caller sets any further field and then calls setChecksum.
func rawHeader(name string, typeflag byte, size int64, gnu bool) []byte {
	b := make([]byte, blockSize)
	copy(b[offName:offName+100], name)
	putOctal(b[offMode:offMode+8], 0o644)
	putOctal(b[offUID:offUID+8], 0)
	putOctal(b[offGID:offGID+8], 0)
	putOctal(b[offSize:offSize+12], size)
	putOctal(b[offMtime:offMtime+12], corpusTime.Unix())
	b[offTypeflag] = typeflag
	if gnu {
		copy(b[offMagic:], "ustar  \x00")
	} else {
		copy(b[offMagic:], "ustar\x0000")
	}
	return b
}

// putOctal writes n as zero-padded octal digits followed by a NUL, filling
// field.
func putOctal(field []byte, n int64) {
	s := fmt.Sprintf("%0*o", len(field)-1, n)
	copy(field, s+"\x00")
}

// setChecksum sets the checksum of a header block: the sum of its bytes,
// with the checksum field itself counted as spaces.
func setChecksum(b []byte) {
	copy(b[offChecksum:offChecksum+8], "        ")
	var sum int64
	for _, c := range b[:blockSize] {
		sum += int64(c)
	}
	copy(b[offChecksum:offChecksum+8], fmt.Sprintf("%06o\x00 ", sum))
}

func padToBlock(b []byte) []byte {
	if rem := len(b) % blockSize; rem != 0 {
		b = append(b, make([]byte, blockSize-rem)...)
	}
	return b
}

// paxRecord formats one pax record, "LEN KEY=VALUE\n", whose decimal
// length counts the whole record, its own digits included.
func paxRecord(key, value string) string {
	rest := " " + key + "=" + value + "\n"
	size := len(rest) + 1
	for len(strconv.Itoa(size))+len(rest) != size {
		size++
	}
	return strconv.Itoa(size) + rest
}

// paxHeader returns a pax extended header (typeflag 'x') holding records,
// in the order given, with its padded content.
func paxHeader(name string, records [][2]string) []byte {
	var body string
	for _, r := range records {
		body += paxRecord(r[0], r[1])
	}
	hdr := rawHeader(name, 'x', int64(len(body)), false)
	setChecksum(hdr)
	return append(hdr, padToBlock([]byte(body))...)
}

// sparseFragment is a run of data in a sparse file. Everything between
// fragments is a hole.
type sparseFragment struct {
	offset int64
	data   string
}

func sparseData(fragments []sparseFragment) string {
	var data string
	for _, f := range fragments {
		data += f.data
	}
	return data
}

// sparsePAX10 returns a file in GNU's pax sparse format 1.0: pax records
// name the file and its size, and the content starts with the sparse map
// as decimal lines, padded to a block, followed by the data fragments.
func sparsePAX10(name string, size int64, fragments []sparseFragment) []byte {
	sparseMap := fmt.Sprintf("%d\n", len(fragments))
	for _, f := range fragments {
		sparseMap += fmt.Sprintf("%d\n%d\n", f.offset, len(f.data))
	}
	body := append(padToBlock([]byte(sparseMap)), sparseData(fragments)...)

	out := paxHeader("PaxHeaders/"+name, [][2]string{
		{"GNU.sparse.major", "1"},
		{"GNU.sparse.minor", "0"},
		{"GNU.sparse.name", name},
		{"GNU.sparse.realsize", strconv.FormatInt(size, 10)},
	})
	hdr := rawHeader("GNUSparseFile.0/"+name, '0', int64(len(body)), false)
	setChecksum(hdr)
	out = append(out, hdr...)
	return append(out, padToBlock(body)...)
}

// sparsePAX01 returns a file in GNU's pax sparse format 0.1, which keeps
// the whole sparse map in one pax record, "OFFSET,LENGTH,...", and the
// file's name in the ustar header.
func sparsePAX01(name string, size int64, fragments []sparseFragment) []byte {
	var sparseMap string
	for i, f := range fragments {
		if i > 0 {
			sparseMap += ","
		}
		sparseMap += fmt.Sprintf("%d,%d", f.offset, len(f.data))
	}
	data := sparseData(fragments)

	out := paxHeader("PaxHeaders/"+name, [][2]string{
		{"GNU.sparse.major", "0"},
		{"GNU.sparse.minor", "1"},
		{"GNU.sparse.size", strconv.FormatInt(size, 10)},
		{"GNU.sparse.numblocks", strconv.Itoa(len(fragments))},
		{"GNU.sparse.map", sparseMap},
	})
	hdr := rawHeader(name, '0', int64(len(data)), false)
	setChecksum(hdr)
	out = append(out, hdr...)
	return append(out, padToBlock([]byte(data))...)
}

// sparseOldGNU returns a file in the old GNU sparse format (typeflag 'S'),
// whose header holds up to four sparse entries and the real size.
func sparseOldGNU(name string, size int64, fragments []sparseFragment) ([]byte, error) {
	if len(fragments) > 4 {
		return nil, fmt.Errorf("old GNU sparse header has room for 4 fragments, not %d: extension blocks are not written", len(fragments))
	}
	data := sparseData(fragments)
	hdr := rawHeader(name, 'S', int64(len(data)), true)
	for i, f := range fragments {
		entry := hdr[offSparse+24*i:]
		putOctal(entry[0:12], f.offset)
		putOctal(entry[12:24], int64(len(f.data)))
	}
	putOctal(hdr[offRealSize:offRealSize+12], size)
	setChecksum(hdr)
	return append(hdr, padToBlock([]byte(data))...), nil
}

// gzipStored compresses stream as one gzip member per part, split at the
// given offsets, using stored deflate blocks so the bytes do not depend on
// the Go version. The header has no name and mtime 0.
func gzipStored(stream []byte, splits ...int) ([]byte, error) {
	var buf bytes.Buffer
	start := 0
	for _, end := range append(splits, len(stream)) {
		zw, err := gzip.NewWriterLevel(&buf, gzip.NoCompression)
		if err != nil {
			return nil, err
		}
		if _, err := zw.Write(stream[start:end]); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		start = end
	}
	return buf.Bytes(), nil
}

// zstdRaw wraps stream in one zstd frame (RFC 8878) of raw, uncompressed
// blocks: a single-segment frame header with a 4-byte content size, then
// blocks of at most 128 KiB, with no checksum.
func zstdRaw(stream []byte) ([]byte, error) {
	const maxBlock = 128 << 10
	if int64(len(stream)) >= 1<<32 {
		return nil, fmt.Errorf("stream of %d bytes needs an 8-byte content size", len(stream))
	}
	out := []byte{0x28, 0xb5, 0x2f, 0xfd}
	// Frame header descriptor: content size field of 4 bytes (flag 2 in
	// bits 7-6) and single segment (bit 5), so no window descriptor.
	out = append(out, 2<<6|1<<5)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(stream)))
	for start := 0; ; start += maxBlock {
		end := min(start+maxBlock, len(stream))
		last := uint32(0)
		if end == len(stream) {
			last = 1
		}
		// Block header, 3 bytes little-endian: last-block bit, block type
		// 0 (raw) in bits 1-2, block size in bits 3-23.
		h := last | uint32(end-start)<<3
		out = append(out, byte(h), byte(h>>8), byte(h>>16))
		out = append(out, stream[start:end]...)
		if last == 1 {
			return out, nil
		}
	}
}
