package pull

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// stallRest sends the headers of the requested part of the blob, all of
// it or the rest after "Range: bytes=N-", and n bytes of that part, then
// sends nothing more until the client gives up or the test ends.
func stallRest(n int) func(*faultProxy, http.ResponseWriter, *http.Request) {
	return func(p *faultProxy, w http.ResponseWriter, r *http.Request) {
		body := p.blob(r)
		status := http.StatusOK
		if start := rangeFrom(r); start >= 0 {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(body)-1, len(body)))
			body = body[start:]
			status = http.StatusPartialContent
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body[:min(n, len(body))])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-p.release:
		}
	}
}

func TestDownloadTimeoutMessage(t *testing.T) {
	requireRoot(t)
	cases := []struct {
		name  string
		setup func(p *faultProxy, layer string)
		want  []string
	}{
		{
			name:  "no response headers",
			setup: func(p *faultProxy, layer string) { p.add(layer, -1, holdHeaders) },
			want:  []string{"failed at the start, before any data arrived", "timed out after 200ms waiting for the response headers", "(4 attempts)"},
		},
		{
			name: "stall after 1000 bytes",
			setup: func(p *faultProxy, layer string) {
				p.add(layer, 1, stallRest(1000))
				p.add(layer, -1, stallRest(0))
			},
			want: []string{"failed at byte 1000 of ", "timed out after 200ms without data", "(4 attempts)"},
		},
		{
			name: "resume without response headers",
			setup: func(p *faultProxy, layer string) {
				p.add(layer, 1, stallRest(1000))
				p.add(layer, -1, holdHeaders)
			},
			want: []string{"failed at byte 1000 of ", "timed out after 200ms waiting for the response headers", "(4 attempts)"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			proxy, ref, _, layer := faultImage(t)
			tc.setup(proxy, layer)
			r := fastResilience
			r.headers = 200 * time.Millisecond
			r.stall = 200 * time.Millisecond

			_, err := pullVia(t, openStore(t), ref, r)
			host := strings.Split(ref, "/")[0]
			want := append([]string{"download blob " + layer + " from " + host, "check the network", "pull again"}, tc.want...)
			expectOneLine(t, err, want...)
			for _, noise := range []string{"unpack entry", "decompress", "net/http:"} {
				if strings.Contains(err.Error(), noise) {
					t.Errorf("error %q contains %q", err, noise)
				}
			}
		})
	}
}
