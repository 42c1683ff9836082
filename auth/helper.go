package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// errHelperNotFound reports that a credential helper holds no
// credentials for the server.
var errHelperNotFound = errors.New("credentials not found")

// identityTokenUser is the user name through which docker's credential
// helper protocol marks a secret as an identity token.
const identityTokenUser = "<token>"

// helperCredentials is the JSON that docker-credential-NAME reads on
// store and writes on get.
type helperCredentials struct {
	ServerURL string `json:"ServerURL"`
	Username  string `json:"Username"`
	Secret    string `json:"Secret"`
}

// helperGet runs docker-credential-NAME get for server.
func helperGet(helper, server string) (Credential, error) {
	out, err := runHelper(helper, "get", strings.NewReader(server), "")
	if err != nil {
		return Credential{}, err
	}
	var hc helperCredentials
	if err := json.Unmarshal(out, &hc); err != nil {
		return Credential{}, fmt.Errorf("credential helper docker-credential-%s returned invalid JSON for %s: %w", helper, server, err)
	}
	if hc.Username == identityTokenUser {
		return Credential{IdentityToken: hc.Secret}, nil
	}
	return Credential{Username: hc.Username, Password: hc.Secret}, nil
}

// helperStore runs docker-credential-NAME store for server.
func helperStore(helper, server string, cred Credential) error {
	hc := helperCredentials{ServerURL: server, Username: cred.Username, Secret: cred.Password}
	if cred.IdentityToken != "" {
		hc.Username, hc.Secret = identityTokenUser, cred.IdentityToken
	}
	input, err := json.Marshal(hc)
	if err != nil {
		return err
	}
	_, err = runHelper(helper, "store", bytes.NewReader(input), hc.Secret)
	return err
}

// helperErase runs docker-credential-NAME erase for server.
func helperErase(helper, server string) error {
	_, err := runHelper(helper, "erase", strings.NewReader(server), "")
	return err
}

// runHelper runs docker-credential-NAME with action and returns its
// standard output. A helper reports failure on standard output, so a
// failure's output goes into the error, with secret masked in case the
// helper echoes its input.
func runHelper(helper, action string, input io.Reader, secret string) ([]byte, error) {
	program := "docker-credential-" + helper
	path, err := exec.LookPath(program)
	if err != nil {
		return nil, fmt.Errorf("credential helper %s is not installed or not in PATH; install it, or remove %q from the credential file", program, helper)
	}
	cmd := exec.Command(path, action)
	cmd.Stdin = input
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}

	message := strings.TrimSpace(stdout.String() + " " + stderr.String())
	if secret != "" {
		message = strings.ReplaceAll(message, secret, "********")
	}
	if action == "get" && strings.Contains(message, "credentials not found") {
		return nil, errHelperNotFound
	}
	return nil, fmt.Errorf("credential helper %s %s: %w: %s", program, action, err, message)
}
