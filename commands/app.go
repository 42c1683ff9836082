// Package commands implements kist's command line: one file per verb,
// each parsing its flags into options, calling the package that does the
// work and printing the result. Results go to stdout and everything else
// to stderr.
package commands

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/kist-project/kist/rootless"
	"github.com/kist-project/kist/store"
)

// Version is set at build time with -ldflags "-X".
var Version = "dev"

// NewApp returns kist's command line application.
func NewApp() *cli.App {
	app := &cli.App{
		Name:                   "kist",
		UseShortOptionHandling: true,
		// -e A=x,y sets A to "x,y", as in docker, not two variables.
		DisableSliceFlagSeparator: true,
		Usage:                     "run OCI containers without root and without a daemon",
		Version:                   Version,
		EnableBashCompletion:      true,
		// main decides the exit status; urfave/cli must not exit itself.
		ExitErrHandler: func(*cli.Context, error) {},
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name:    "root",
				Usage:   "store directory (default: $XDG_DATA_HOME/kist or ~/.local/share/kist)",
				EnvVars: []string{"KIST_ROOT"},
			},
			&cli.StringFlag{
				Name:  "log-level",
				Usage: "log messages at this level and above: debug, info, warn or error",
				Value: "warn",
			},
			&cli.BoolFlag{
				Name:  "debug",
				Usage: "log debug messages, the same as --log-level debug",
			},
		},
		Before: setupLogging,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("unknown command %q; see kist --help for the list", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
		Commands: []*cli.Command{
			pullCommand(),
			runCommand(),
			imagesCommand(),
			imageCommand(),
			rmiCommand("rmi"),
			tagCommand(),
			psCommand(),
			rmCommand(),
			systemCommand(),
			loginCommand(),
			logoutCommand(),
			saveCommand(),
			loadCommand(),
			importCommand(),
			pushCommand(),
		},
		OnUsageError: usageError,
	}
	for _, cmd := range app.Commands {
		cmd.OnUsageError = usageError
		for _, sub := range cmd.Subcommands {
			sub.OnUsageError = usageError
		}
	}
	return app
}

// usageError reports a flag error in one line on stderr, as docker does,
// instead of printing the whole help text to stdout.
func usageError(c *cli.Context, err error, _ bool) error {
	if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); ok {
		// Go's flag package drops the dashes the user typed.
		dashes := "--"
		if len(name) == 1 {
			dashes = "-"
		}
		err = fmt.Errorf("unknown flag %s%s", dashes, name)
	}
	return fmt.Errorf("%w; see kist %s--help", err, commandPrefix(c))
}

// commandPrefix returns the command path of c, such as "image inspect ",
// or "" for kist itself.
func commandPrefix(c *cli.Context) string {
	var names []string
	for _, ctx := range c.Lineage() {
		if ctx.Command != nil && ctx.Command.Name != "" && ctx.Command.Name != c.App.Name {
			names = append([]string{ctx.Command.Name}, names...)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return strings.Join(names, " ") + " "
}

func setupLogging(c *cli.Context) error {
	level := c.String("log-level")
	if c.Bool("debug") {
		level = "debug"
	}
	parsed, err := logrus.ParseLevel(level)
	if err != nil {
		return fmt.Errorf("invalid --log-level %q: use debug, info, warn or error", level)
	}
	logrus.SetOutput(os.Stderr)
	logrus.SetLevel(parsed)
	// Debug output carries microsecond timestamps, which show where the
	// time of a run goes.
	if parsed < logrus.DebugLevel {
		logrus.SetFormatter(plainFormatter{})
		return nil
	}
	logrus.SetFormatter(&logrus.TextFormatter{FullTimestamp: true, TimestampFormat: "15:04:05.000000"})
	return nil
}

// openStore opens the store that --root, KIST_ROOT or the XDG default
// names.
func openStore(c *cli.Context) (*store.Store, error) {
	root := c.String("root")
	if root == "" {
		var err error
		if root, err = store.DefaultRoot(); err != nil {
			return nil, err
		}
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("invalid --root %q: %w", root, err)
	}
	return store.Open(abs)
}

// StatusError makes kist exit with a status and print nothing more, for
// a container's own exit status or a namespace child that has already
// reported its error.
type StatusError int

func (e StatusError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// namespaceMode says what a command needs from package rootless.
type namespaceMode int

const (
	// userNamespace: an unprivileged caller needs a user namespace, to
	// own the files it unpacks; real root runs the command as it is.
	userNamespace namespaceMode = iota
	// mountNamespace: also real root needs a private mount namespace,
	// for mounts that must vanish with the command.
	mountNamespace
	// anyIDMap: as userNamespace, but the store may have been filled
	// under another ID map.
	anyIDMap
)

// inNamespace runs action inside the namespaces mode requires, by
// re-executing kist there, and passes the child's exit status on.
func inNamespace(mode namespaceMode, action cli.ActionFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		if err := rootless.CheckSettings(); err != nil {
			return err
		}
		if rootless.Inside() || os.Geteuid() == 0 && mode != mountNamespace {
			if mode == anyIDMap {
				return action(c)
			}
			if err := checkStoreIDMap(c); err != nil {
				return err
			}
			return action(c)
		}

		// Resolve the store before the user namespace hides who the
		// caller is, so both processes agree on it.
		root, err := openStore(c)
		if err != nil {
			return err
		}
		if err := os.Setenv("KIST_ROOT", root.Root()); err != nil {
			return err
		}
		code, err := rootless.Reexec(os.Args)
		if err != nil {
			return err
		}
		if code != 0 {
			return StatusError(code)
		}
		return nil
	}
}

// checkStoreIDMap refuses a store that was filled under another user
// namespace ID map than the current one.
func checkStoreIDMap(c *cli.Context) error {
	st, err := openStore(c)
	if err != nil {
		return err
	}
	idmap, err := rootless.CurrentMap()
	if err != nil {
		return err
	}
	return st.CheckIDMap(idmap.String())
}

// plainFormatter prints a log entry as one line in kist's error voice,
// "kist: warning: message key=value".
type plainFormatter struct{}

func (plainFormatter) Format(e *logrus.Entry) ([]byte, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "kist: %s: %s", e.Level, e.Message)
	keys := make([]string, 0, len(e.Data))
	for k := range e.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%v", k, e.Data[k])
	}
	b.WriteByte('\n')
	return []byte(b.String()), nil
}
