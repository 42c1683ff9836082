package pull

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// faultProxy serves a registry handler and breaks the requests its
// faults select. It serves blob GETs itself, from the full blob, so it
// can cut them anywhere and serve "Range: bytes=N-" (which the in-memory
// registry does not).
type faultProxy struct {
	t    *testing.T
	next http.Handler

	mu     sync.Mutex
	faults []*fault
	// requests lists "METHOD PATH" of every request, with " RANGE" when
	// the request had a Range header.
	requests []string
	// release ends every stalled response.
	release chan struct{}
}

// fault breaks the next count requests whose path ends in suffix.
type fault struct {
	suffix string
	count  int
	apply  func(p *faultProxy, w http.ResponseWriter, r *http.Request)
}

// newFaultProxy starts a proxy in front of the in-memory registry and
// returns it with its host:port.
func newFaultProxy(t *testing.T) (*faultProxy, string) {
	p := &faultProxy{t: t, release: make(chan struct{})}
	host := startRegistry(t, func(next http.Handler) http.Handler {
		p.next = next
		return p
	})
	t.Cleanup(func() { close(p.release) })
	return p, host
}

// add makes the next count requests whose path ends in suffix fail with
// apply.
func (p *faultProxy) add(suffix string, count int, apply func(p *faultProxy, w http.ResponseWriter, r *http.Request)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, &fault{suffix: suffix, count: count, apply: apply})
}

// gets returns the GET requests whose path ends in suffix, in order.
func (p *faultProxy) gets(suffix string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, r := range p.requests {
		path, _, _ := strings.Cut(strings.TrimPrefix(r, "GET "), " ")
		if strings.HasPrefix(r, "GET ") && strings.HasSuffix(path, suffix) {
			out = append(out, r)
		}
	}
	return out
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	apply := p.record(r)
	switch {
	case apply != nil:
		apply(p, w, r)
	case r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/"):
		p.serveBlob(w, r, true)
	default:
		p.next.ServeHTTP(w, r)
	}
}

// record logs r and returns the fault that applies to it, if any.
func (p *faultProxy) record(r *http.Request) func(*faultProxy, http.ResponseWriter, *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := r.Method + " " + r.URL.Path
	if rng := r.Header.Get("Range"); rng != "" {
		line += " " + rng
	}
	p.requests = append(p.requests, line)
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		return nil
	}
	for _, f := range p.faults {
		if f.count != 0 && strings.HasSuffix(r.URL.Path, f.suffix) {
			f.count--
			return f.apply
		}
	}
	return nil
}

// blob returns the full content of the blob r names.
func (p *faultProxy) blob(r *http.Request) []byte {
	inner := r.Clone(r.Context())
	inner.Header.Del("Range")
	rec := httptest.NewRecorder()
	p.next.ServeHTTP(rec, inner)
	if rec.Code != http.StatusOK {
		p.t.Errorf("proxy: GET %s from the registry: HTTP %d", r.URL.Path, rec.Code)
	}
	return rec.Body.Bytes()
}

// serveBlob serves a blob GET, honouring "Range: bytes=N-" when
// ranges is set.
func (p *faultProxy) serveBlob(w http.ResponseWriter, r *http.Request, ranges bool) {
	body := p.blob(r)
	start := rangeFrom(r)
	if !ranges || start < 0 {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
		return
	}
	w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(body)-1, len(body)))
	w.Header().Set("Content-Length", strconv.Itoa(len(body)-start))
	w.WriteHeader(http.StatusPartialContent)
	_, _ = w.Write(body[start:])
}

// rangeFrom returns N of "Range: bytes=N-", or -1.
func rangeFrom(r *http.Request) int {
	spec, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes=")
	if !ok || !strings.HasSuffix(spec, "-") {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSuffix(spec, "-"))
	if err != nil {
		return -1
	}
	return n
}

// status responds with code and headers, and no body.
func status(code int, headers ...string) func(*faultProxy, http.ResponseWriter, *http.Request) {
	return func(p *faultProxy, w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(code)
	}
}

// cutAfter sends the headers of the whole blob, or of the requested rest,
// and n bytes of it, then closes the connection. With reset set, the close
// is a TCP reset. Otherwise the client sees an unexpected EOF.
func cutAfter(n int, reset bool) func(*faultProxy, http.ResponseWriter, *http.Request) {
	return func(p *faultProxy, w http.ResponseWriter, r *http.Request) {
		body := p.blob(r)
		head := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(body))
		if start := rangeFrom(r); start >= 0 {
			head = fmt.Sprintf("HTTP/1.1 206 Partial Content\r\nContent-Length: %d\r\nContent-Range: bytes %d-%d/%d\r\n\r\n",
				len(body)-start, start, len(body)-1, len(body))
			body = body[start:]
		}
		conn := hijack(p.t, w)
		defer conn.Close()
		_, _ = conn.Write([]byte(head))
		_, _ = conn.Write(body[:min(n, len(body))])
		if tcp, ok := conn.(*net.TCPConn); ok && reset {
			_ = tcp.SetLinger(0)
		}
	}
}

// stallAfter sends the headers of the whole blob and n bytes of it, then
// sends nothing more until the client gives up or the test ends.
func stallAfter(n int) func(*faultProxy, http.ResponseWriter, *http.Request) {
	return func(p *faultProxy, w http.ResponseWriter, r *http.Request) {
		body := p.blob(r)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body[:n])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-p.release:
		}
	}
}

// ignoreRange responds to every blob GET with the whole blob and HTTP
// 200, as a server without range support does.
func ignoreRange(p *faultProxy, w http.ResponseWriter, r *http.Request) {
	p.serveBlob(w, r, false)
}

func hijack(t *testing.T, w http.ResponseWriter) net.Conn {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Errorf("proxy: hijack: %v", err)
	}
	return conn
}
