package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// registryBinary is the registry server from Debian's docker-registry
// package (distribution 2.8).
const registryBinary = "/usr/bin/docker-registry"

// registryConfig serves storage from a directory on 127.0.0.1 only, and
// keeps the log to warnings so that a failure's log is short.
const registryConfig = `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
`

// setupRegistry starts the registry and returns the function that stops
// it. When the registry cannot start, it marks needRegistry as missing.
func setupRegistry(base string) (stop func()) {
	if _, err := os.Stat(registryBinary); err != nil {
		markMissing(needRegistry, fmt.Sprintf("%v; install Debian's docker-registry package", err))
		return func() {}
	}
	stop, addr, err := startRegistry(filepath.Join(base, "registry"))
	if err != nil {
		markMissing(needRegistry, err.Error())
		return func() {}
	}
	env.registry = addr
	return stop
}

// startRegistry runs the registry with its storage and config in dir,
// waits until GET /v2/ returns 200 and returns the function that kills it.
func startRegistry(dir string) (stop func(), addr string, err error) {
	return startConfiguredRegistry(dir, "", "http", http.DefaultClient)
}

// startConfiguredRegistry is startRegistry with extra lines appended to
// the config, whose first lines may continue its http section, and with
// client probing scheme://addr/v2/ until it returns 200 or 401.
func startConfiguredRegistry(dir, extra, scheme string, client *http.Client) (stop func(), addr string, err error) {
	if addr, err = freeAddr(); err != nil {
		return nil, "", err
	}
	storage := filepath.Join(dir, "storage")
	if err := os.MkdirAll(storage, 0o700); err != nil {
		return nil, "", err
	}
	config := filepath.Join(dir, "config.yml")
	text := fmt.Sprintf(registryConfig, storage, addr) + extra
	if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
		return nil, "", err
	}
	logPath := filepath.Join(dir, "registry.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, "", err
	}
	defer logFile.Close()

	cmd := exec.Command(registryBinary, "serve", config)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	// exited is closed when the process has exited and waitErr is set.
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	stop = func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	if err := waitForRegistry(client, scheme+"://"+addr+"/v2/", exited); err != nil {
		if errors.Is(err, errExited) {
			err = fmt.Errorf("%w: %v", err, waitErr)
		}
		stop()
		log, _ := os.ReadFile(logPath)
		return nil, "", fmt.Errorf("%w; registry log:\n%s", err, log)
	}
	return stop, addr, nil
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago. Another process could take it before the registry binds it, which
// the registry's start then reports.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// errExited reports that the registry process ended while starting.
var errExited = errors.New("registry exited during start")

// waitForRegistry polls GET url for up to 20 seconds until it returns 200,
// or 401 from a registry that requires authentication, and stops early
// when exited is closed.
func waitForRegistry(client *http.Client, url string, exited <-chan struct{}) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errExited
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			cancel()
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		cancel()
		if err == nil && (resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("registry at %s did not answer GET /v2/ within 20s", url)
}
