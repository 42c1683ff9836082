package commands

import (
	"strings"
	"testing"
)

func TestOpenImportSourceURL(t *testing.T) {
	for _, source := range []string{"http://127.0.0.1:5000/rootfs.tar", "HTTPS://example.com/rootfs.tar.xz"} {
		t.Run(source, func(t *testing.T) {
			_, err := openImportSource(source)
			if err == nil {
				t.Fatal("openImportSource succeeded")
			}
			if !strings.Contains(err.Error(), "kist import reads a file or stdin, not a URL") {
				t.Errorf("error %q does not say that URLs are not supported", err)
			}
			if !strings.Contains(err.Error(), "curl -fsSL "+source+" | kist import - NAME") {
				t.Errorf("error %q does not show how to download the URL", err)
			}
		})
	}
}
