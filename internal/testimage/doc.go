// Package testimage builds real container images for kist's tests and
// pushes them to a registry.
//
// Layers come from a directory tree on disk or from a list of entries,
// which may include OCI whiteouts. Each layer is written once to a file as
// a gzip, zstd or uncompressed tar blob, so large layers such as a Debian
// root filesystem are hashed and compressed a single time and never held
// in memory. Images carry Docker v2 schema 2 or OCI media types, and an
// index groups images for several platforms.
package testimage
