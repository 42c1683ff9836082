package pull

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// systemCertDirs are the per-registry trust directories of podman and
// docker, searched after the user's own $XDG_CONFIG_HOME/kist/certs.d.
var systemCertDirs = []string{"/etc/containers/certs.d", "/etc/docker/certs.d"}

// certDirs returns the directories that may hold the CA and client
// certificates for host (host[:port], as in the image reference), in
// lookup order. The first that exists is used, as in podman.
func certDirs(host string) []string {
	var dirs []string
	if config, err := os.UserConfigDir(); err == nil {
		dirs = append(dirs, filepath.Join(config, "kist", "certs.d", host))
	}
	for _, base := range systemCertDirs {
		dirs = append(dirs, filepath.Join(base, host))
	}
	return dirs
}

// tlsConfig returns the TLS configuration for host: the system roots
// plus the CA certificates and client certificates in certDir, or when
// certDir is empty in the first of certDirs(host) that exists.
func tlsConfig(host, certDir string, insecure bool) (*tls.Config, error) {
	config := &tls.Config{MinVersion: tls.VersionTLS12}
	if insecure {
		config.InsecureSkipVerify = true //nolint:gosec // the user turned verification off with --tls-verify=false
	}

	dir := certDir
	if dir == "" {
		dir = firstDir(certDirs(host))
	}
	if dir == "" {
		return config, nil
	}
	if err := loadCertDir(config, dir); err != nil {
		return nil, &TrustConfigError{Host: host, Err: err}
	}
	return config, nil
}

func firstDir(dirs []string) string {
	for _, dir := range dirs {
		if info, err := os.Stat(dir); err == nil && info.IsDir() {
			return dir
		}
	}
	return ""
}

// loadCertDir adds the certificates in dir to config, by the rules of
// docker and podman: each *.crt file holds CA certificates, and each
// *.cert file a client certificate whose key is the *.key file of the
// same name.
func loadCertDir(config *tls.Config, dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("certificate directory %s does not exist; check --cert-dir", dir)
	}
	if err != nil {
		return fmt.Errorf("read certificate directory: %w; make it readable or pass another --cert-dir", err)
	}

	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		switch filepath.Ext(e.Name()) {
		case ".crt", ".cert", ".key":
			// Reading a FIFO would block the command forever.
			special := fs.ModeNamedPipe | fs.ModeDevice | fs.ModeSocket
			if info, err := os.Stat(path); err == nil && info.Mode()&special != 0 {
				return fmt.Errorf("certificate file %s is not a regular file; replace it with a PEM file or remove it", path)
			}
		}
		switch filepath.Ext(e.Name()) {
		case ".crt":
			if err := addCA(config, path); err != nil {
				return err
			}
		case ".cert":
			if err := addClientCert(config, path); err != nil {
				return err
			}
		case ".key":
			cert := strings.TrimSuffix(path, ".key") + ".cert"
			if _, err := os.Stat(cert); err != nil {
				return fmt.Errorf("client key %s has no certificate %s; add the certificate or remove the key", path, cert)
			}
		}
	}
	return nil
}

// addCA adds the CA certificates in path to config's roots, which start
// as the system roots so that the directory adds trust and takes none
// away.
func addCA(config *tls.Config, path string) error {
	if config.RootCAs == nil {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		config.RootCAs = pool
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read CA certificate: %w; make the file readable or remove it", err)
	}
	if !config.RootCAs.AppendCertsFromPEM(pem) {
		return fmt.Errorf("CA certificate file %s contains no PEM certificate; "+
			"put the registry's CA certificate in it or remove it", path)
	}
	return nil
}

func addClientCert(config *tls.Config, certPath string) error {
	keyPath := strings.TrimSuffix(certPath, ".cert") + ".key"
	if _, err := os.Stat(keyPath); err != nil {
		return fmt.Errorf("client certificate %s has no key %s; add the key or remove the certificate", certPath, keyPath)
	}
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return fmt.Errorf("load client certificate %s with key %s: %w; replace them with a matching pair",
			certPath, keyPath, err)
	}
	config.Certificates = append(config.Certificates, pair)
	return nil
}

// CertificateError reports that a registry's TLS certificate failed
// verification, and names the ways to trust it.
type CertificateError struct {
	// Host is the registry's host[:port].
	Host string
	// Err is the verification error from crypto/tls.
	Err error
}

func (e *CertificateError) Error() string {
	dirs := certDirs(e.Host)
	return fmt.Sprintf("registry %s failed TLS certificate verification: %v; "+
		"trust its CA with --cert-dir DIR (the CA in DIR/ca.crt) or a certs.d directory (%s/ca.crt), "+
		"or pass --tls-verify=false to skip verification",
		e.Host, e.Err, dirs[0])
}

func (e *CertificateError) Unwrap() error { return e.Err }

// TrustConfigError reports that the certificates that --cert-dir or a
// certs.d directory holds for a registry cannot be used. No request,
// HTTPS or plain HTTP, is sent to that registry then.
type TrustConfigError struct {
	// Host is the registry's host[:port].
	Host string
	// Err names the bad file or directory and the fix.
	Err error
}

func (e *TrustConfigError) Error() string {
	return fmt.Sprintf("registry %s: %v", e.Host, e.Err)
}

func (e *TrustConfigError) Unwrap() error { return e.Err }
