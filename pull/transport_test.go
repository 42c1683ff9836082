package pull

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestIsLoopback(t *testing.T) {
	tests := map[string]bool{
		"localhost": true, "LOCALHOST": true, "127.0.0.1": true, "127.8.9.10": true, "::1": true, "[::1]": true,
		"10.0.0.1": false, "192.168.1.1": false, "example.com": false, "localhost.example.com": false,
	}
	for host, want := range tests {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestPlainHTTPPolicy(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer server.Close()

	resp, err := newTransport(Options{}, defaultHeaderTimeout).RoundTrip(mustRequest(t, server.URL))
	if err != nil {
		t.Fatalf("plain HTTP to loopback: %v", err)
	}
	resp.Body.Close()

	// The policy rejects the request before any connection is made, so
	// this sends nothing to the private address.
	_, err = newTransport(Options{}, defaultHeaderTimeout).RoundTrip(mustRequest(t, "http://10.0.0.1:5000/v2/"))
	if err == nil || !strings.Contains(err.Error(), "--tls-verify=false") {
		t.Fatalf("plain HTTP to a private address: got %v, want a rejection naming --tls-verify=false", err)
	}
}

func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
