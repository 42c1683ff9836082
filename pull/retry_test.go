package pull

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		// A date in the past means at once.
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	}
	for _, tt := range tests {
		resp := &http.Response{Header: http.Header{}}
		if tt.value != "" {
			resp.Header.Set("Retry-After", tt.value)
		}
		got, ok := retryAfter(resp, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %v, %v, want %v, %v", tt.value, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRetryPolicyWait(t *testing.T) {
	got := []time.Duration{defaultRetry.wait(2), defaultRetry.wait(3), defaultRetry.wait(4)}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("wait before try %d = %v, want %v", i+2, got[i], want[i])
		}
	}
	if capped := defaultRetry.wait(40); capped != defaultRetry.maxDelay {
		t.Errorf("wait before try 40 = %v, want the cap %v", capped, defaultRetry.maxDelay)
	}
}

func TestRangeStart(t *testing.T) {
	tests := map[string]int64{"bytes 100-999/1000": 100, "bytes 0-0/1": 0, "bytes 5-9/*": 5}
	for header, want := range tests {
		if got, ok := rangeStart(header); !ok || got != want {
			t.Errorf("rangeStart(%q) = %d, %v, want %d", header, got, ok, want)
		}
	}
	for _, header := range []string{"", "bytes */1000", "items 1-2/3", "bytes x-9/10"} {
		if _, ok := rangeStart(header); ok {
			t.Errorf("rangeStart(%q) accepted an invalid header", header)
		}
	}
}

func TestRetryOnlyReplayableBodies(t *testing.T) {
	var calls atomic.Int32
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if body, _ := io.ReadAll(r.Body); r.Method == http.MethodPut && string(body) != "manifest" {
			t.Errorf("attempt %d sent body %q, want %q", calls.Load(), body, "manifest")
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer server.Close()
	rt := &retryTransport{next: http.DefaultTransport, policy: fastResilience.retry}

	// A body that cannot be read again is sent once.
	req, _ := http.NewRequest(http.MethodPatch, server.URL, nil)
	req.Body = readCloser{strings.NewReader("chunk")}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := calls.Swap(0); n != 1 {
		t.Errorf("a streamed body was sent %d times, want 1", n)
	}

	// A body with GetBody is sent again, whole each time.
	req, _ = http.NewRequest(http.MethodPut, server.URL, strings.NewReader("manifest"))
	resp, err = rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := calls.Load(); n != int32(fastResilience.retry.attempts) {
		t.Errorf("a replayable body was sent %d times, want %d", n, fastResilience.retry.attempts)
	}
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }
