package commands

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/kist-project/kist/auth"
	"github.com/kist-project/kist/pull"
)

// loginCommand needs no user namespace: it reads and writes only files
// in the caller's home, which must stay owned by the caller.
func loginCommand() *cli.Command {
	return &cli.Command{
		Name:      "login",
		Usage:     "check credentials for a registry and save them",
		ArgsUsage: "REGISTRY",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "username", Aliases: []string{"u"}, Usage: "user name (prompted for on a terminal when missing)"},
			&cli.StringFlag{Name: "password", Aliases: []string{"p"}, Usage: "password; visible to other users in the process list, so prefer --password-stdin"},
			&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from standard input"},
			authFileFlag(),
			&cli.BoolFlag{Name: "tls-verify", Value: true, Usage: "verify the registry's TLS certificate, and use plain HTTP only for localhost (false: allow both for any registry)"},
			certDirFlag(),
		},
		Action: login,
	}
}

func login(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("kist login takes one registry, got %d arguments; usage: kist login [-u USER] [--password-stdin] REGISTRY", c.NArg())
	}
	registry, err := auth.Registry(c.Args().First())
	if err != nil {
		return err
	}
	cred, err := loginCredential(c)
	if err != nil {
		return err
	}

	opts := pull.Options{Insecure: !c.Bool("tls-verify"), CertDir: c.String("cert-dir")}
	if err := pull.CheckLogin(c.Context, auth.Host(registry), cred.Authenticator(), opts); err != nil {
		return err
	}
	where, err := auth.Store(registry, cred, c.String("authfile"))
	if err != nil {
		return fmt.Errorf("save credentials for %s: %w", registry, err)
	}
	logrus.WithFields(logrus.Fields{"registry": registry, "location": where}).Debug("saved credentials")
	fmt.Fprintln(c.App.Writer, "Login Succeeded")
	return nil
}

// loginCredential collects the user name and password from the flags,
// standard input or, on a terminal, prompts.
func loginCredential(c *cli.Context) (auth.Credential, error) {
	cred := auth.Credential{Username: c.String("username"), Password: c.String("password")}
	fromStdin := c.Bool("password-stdin")
	switch {
	case fromStdin && c.IsSet("password"):
		return cred, errors.New("--password and --password-stdin are mutually exclusive; use --password-stdin")
	case fromStdin && cred.Username == "":
		return cred, errors.New("--password-stdin needs the user name in --username (-u)")
	case c.IsSet("password"):
		fmt.Fprintln(os.Stderr, "kist: warning: a password given with --password is visible to other users; use --password-stdin")
	}

	if fromStdin {
		password, err := readPasswordStdin(os.Stdin)
		if err != nil {
			return cred, err
		}
		cred.Password = password
	}

	interactive := term.IsTerminal(int(os.Stdin.Fd()))
	if cred.Username == "" {
		if !interactive {
			return cred, errors.New("no user name given and standard input is not a terminal to prompt on; pass --username (-u)")
		}
		user, err := promptLine("Username: ")
		if err != nil {
			return cred, err
		}
		cred.Username = user
	}
	if cred.Password == "" && !fromStdin {
		if !interactive {
			return cred, errors.New("no password given and standard input is not a terminal to prompt on; pass --password-stdin")
		}
		password, err := promptPassword("Password: ")
		if err != nil {
			return cred, err
		}
		cred.Password = password
	}

	if cred.Username == "" {
		return cred, errors.New("the user name is empty; pass --username (-u)")
	}
	if cred.Password == "" {
		return cred, errors.New("the password is empty")
	}
	return cred, nil
}

// readPasswordStdin reads the whole of r and drops one trailing line
// end, as `echo $TOKEN | kist login --password-stdin` adds one.
func readPasswordStdin(r io.Reader) (string, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	password := strings.TrimSuffix(string(data), "\n")
	return strings.TrimSuffix(password, "\r"), nil
}

// promptLine prints prompt on stderr and reads one line from the
// terminal on stdin.
func promptLine(prompt string) (string, error) {
	fmt.Fprint(os.Stderr, prompt)
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read user name: %w", err)
	}
	return strings.TrimSpace(line), nil
}

// promptPassword prints prompt on stderr and reads a line from the
// terminal on stdin with echo turned off.
func promptPassword(prompt string) (string, error) {
	fmt.Fprint(os.Stderr, prompt)
	password, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return string(password), nil
}

// authFileFlag is --authfile, shared by login, logout, pull and run.
func authFileFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "authfile",
		Usage:   "credential file to use instead of docker's and podman's files",
		EnvVars: []string{auth.AuthFileEnv},
	}
}

// certDirFlag is --cert-dir, shared by login, pull and run.
func certDirFlag() cli.Flag {
	return &cli.StringFlag{
		Name:  "cert-dir",
		Usage: "directory of CA certificates (*.crt) and client certificates (*.cert and *.key) for TLS, used instead of the registry's certs.d directory",
	}
}
