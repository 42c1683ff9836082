package pull

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/registry"
)

// basicAuthRegistry serves go-containerregistry's in-memory registry on
// 127.0.0.1 behind HTTP basic authentication, as distribution's htpasswd
// authentication does.
func basicAuthRegistry(t *testing.T, user, password string) string {
	t.Helper()
	reg := registry.New()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(server.Close)
	return strings.TrimPrefix(server.URL, "http://")
}

func TestCheckLogin(t *testing.T) {
	addr := basicAuthRegistry(t, "user", "right-pw")
	ctx := context.Background()

	err := CheckLogin(ctx, addr, &authn.Basic{Username: "user", Password: "right-pw"}, Options{})
	if err != nil {
		t.Errorf("right password: %v", err)
	}

	err = CheckLogin(ctx, addr, &authn.Basic{Username: "user", Password: "wrong-pw"}, Options{})
	if err == nil {
		t.Fatal("wrong password: no error")
	}
	for _, want := range []string{"log in to " + addr, "HTTP 401 Unauthorized"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "wrong-pw") {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestCheckLoginUnreachable(t *testing.T) {
	// Port 1 on loopback has no listener on a test machine.
	err := CheckLogin(context.Background(), "127.0.0.1:1", authn.Anonymous, Options{})
	if err == nil || !strings.Contains(err.Error(), "log in to 127.0.0.1:1: the registry is unreachable (connection refused)") {
		t.Errorf("error %v, want one saying the registry is unreachable", err)
	}
}
