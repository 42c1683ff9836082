package unpack

import "os"

// maxCachedDirs bounds the directory handles that dirCache keeps open.
// A layer usually lists a directory's entries together, so a few dozen
// cover the directories it moves between.
const maxCachedDirs = 64

// dirCache keeps the handles that openDir resolved, by cleaned directory
// name, so that the next entry in the same directory need not resolve its
// name again, the costliest step of a small entry.
//
// A resolved name leads to the same directory for as long as nothing is
// removed: creating an entry cannot change a path whose components all
// exist. So any removal invalidates the cache. Handles stay open until the
// next get or put, because the caller of openDir may still be using one.
type dirCache struct {
	files map[string]*os.File
	stale bool
}

// get returns the handle cached for name, or nil.
func (c *dirCache) get(name string) *os.File {
	if c.stale {
		c.close()
	}
	return c.files[name]
}

// put caches f under name. The cache owns f from then on.
func (c *dirCache) put(name string, f *os.File) {
	if c.stale || len(c.files) >= maxCachedDirs {
		c.close()
	}
	if c.files == nil {
		c.files = make(map[string]*os.File)
	}
	c.files[name] = f
}

// invalidate drops every handle before the next lookup.
func (c *dirCache) invalidate() {
	c.stale = true
}

// close closes every handle and empties the cache.
func (c *dirCache) close() {
	for _, f := range c.files {
		f.Close()
	}
	c.files = nil
	c.stale = false
}
