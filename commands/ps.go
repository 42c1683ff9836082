package commands

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/kist-project/kist/store"
)

func psCommand() *cli.Command {
	return &cli.Command{
		Name:  "ps",
		Usage: "list containers",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "list stopped containers too"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print container IDs only"},
			&cli.StringFlag{Name: "format", Usage: "output format: table or json"},
		},
		Action: listContainers,
	}
}

// containerJSON is one container in the --format json output.
type containerJSON struct {
	ID       string    `json:"Id"`
	Image    string    `json:"Image"`
	ImageID  string    `json:"ImageID"`
	Command  []string  `json:"Command"`
	Created  time.Time `json:"Created"`
	State    string    `json:"State"`
	ExitCode int       `json:"ExitCode"`
}

func listContainers(c *cli.Context) error {
	if err := checkFormat(c.String("format")); err != nil {
		return err
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	states, err := st.Containers()
	if err != nil {
		return err
	}
	var listed []store.ContainerState
	for _, s := range states {
		s = refreshStatus(s)
		if c.Bool("all") || s.Status != store.StatusExited {
			listed = append(listed, s)
		}
	}

	out := c.App.Writer
	switch {
	case c.String("format") == "json":
		list := make([]containerJSON, 0, len(listed))
		for _, s := range listed {
			list = append(list, containerJSON{ID: s.ID, Image: s.Image, ImageID: s.ImageID, Command: s.Command,
				Created: s.Created, State: s.Status, ExitCode: s.ExitCode})
		}
		return writeJSON(out, list)
	case c.Bool("quiet"):
		for _, s := range listed {
			fmt.Fprintln(out, s.ID[:12])
		}
		return nil
	}

	w := tabwriter.NewWriter(out, 0, 8, 3, ' ', 0)
	fmt.Fprintln(w, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS")
	now := time.Now()
	for _, s := range listed {
		fmt.Fprintf(w, "%s\t%s\t%q\t%s\t%s\n", s.ID[:12], s.Image, shorten(strings.Join(s.Command, " "), 20),
			humanAgo(s.Created, now), describeStatus(s, now))
	}
	return w.Flush()
}

// refreshStatus marks a running container whose kist process is gone as
// exited: kist was killed, so its exit code is unknown.
func refreshStatus(s store.ContainerState) store.ContainerState {
	if (s.Status == store.StatusRunning || s.Status == store.StatusCreated) && !processAlive(s.Pid) {
		s.Status = store.StatusExited
		s.ExitCode = -1
	}
	return s
}

// processAlive reports whether process pid runs. A zombie does not: a
// killed kist stays one until its parent, which may be slow, reaps it.
func processAlive(pid int) bool {
	if pid <= 0 || unix.Kill(pid, 0) == unix.ESRCH {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the command name, which is in parentheses and
	// may itself contain ") ".
	i := strings.LastIndex(string(stat), ") ")
	return i < 0 || !strings.HasPrefix(string(stat[i+2:]), "Z")
}

func describeStatus(s store.ContainerState, now time.Time) string {
	switch {
	case s.Status == store.StatusRunning:
		return "Up since " + humanAgo(s.Created, now)
	case s.ExitCode < 0:
		return "Exited (unknown: kist was killed)"
	}
	return fmt.Sprintf("Exited (%d) %s", s.ExitCode, humanAgo(s.Finished, now))
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
