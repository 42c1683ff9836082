// Package store keeps kist's images, layers and containers in one
// directory per user, with no daemon and no database.
//
// Layout under the root:
//
//	blobs/sha256/<hex>          content-addressed blobs: manifests, configs, layers
//	layers/sha256/<hex>/diff/   one unpacked layer per diff ID, in overlayfs form
//	layers/sha256/<hex>/layer.json
//	images.json                 images by ID and the names that point at them
//	containers/<id>/            one directory per container
//	tmp/                        work in progress; never trusted
//	locks/                      lock files, one per object
//
// Every object appears through an atomic rename of a finished temporary
// file or directory, so an interrupted kist never leaves an object that a
// later command trusts. Sweep removes what it leaves in tmp/. Writers
// of one object serialise on that object's lock file (flock), so parallel
// invocations never download or unpack the same layer twice.
package store
