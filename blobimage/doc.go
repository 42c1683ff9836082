// Package blobimage builds a go-containerregistry v1.Image from a raw
// config, the descriptors of its layer blobs and a function that opens
// each blob. Every blob reader checks the content against the
// descriptor's digest and size, so an image read from the store or from
// an archive cannot pass on bytes that do not match their digest.
package blobimage
