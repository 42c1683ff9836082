package commands

import (
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/kist-project/kist/store"
)

func systemCommand() *cli.Command {
	return &cli.Command{
		Name:  "system",
		Usage: "manage the store as a whole",
		Subcommands: []*cli.Command{
			{
				Name:  "df",
				Usage: "show the space that images and containers use",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "format", Usage: "output format: table or json"},
				},
				// Container directories may hold files of subordinate IDs
				// that only the user namespace can read.
				Action: inNamespace(userNamespace, diskUsage),
			},
			systemPruneCommand(),
			systemResetCommand(),
		},
	}
}

// diskUsageJSON is one row of kist system df --format json; sizes are
// bytes.
type diskUsageJSON struct {
	Type        string `json:"Type"`
	Total       int    `json:"Total"`
	Active      int    `json:"Active"`
	Size        int64  `json:"Size"`
	Reclaimable int64  `json:"Reclaimable"`
}

func diskUsage(c *cli.Context) error {
	if err := checkFormat(c.String("format")); err != nil {
		return err
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	u, err := st.Usage()
	if err != nil {
		return err
	}

	running, err := runningContainers(st)
	if err != nil {
		return err
	}
	rows := []diskUsageJSON{
		{Type: "Images", Total: u.Images, Active: u.ActiveImages, Size: u.ImageBytes, Reclaimable: u.ReclaimableImageBytes},
		{Type: "Containers", Total: u.Containers, Active: running, Size: u.ContainerBytes, Reclaimable: u.StoppedContainerBytes},
		// kist stages downloads and unpacks in tmp/, and a killed
		// command leaves them there.
		{Type: "Temporary files", Total: u.Temporaries, Active: u.ActiveTemporaries, Size: u.TemporaryBytes, Reclaimable: u.LeftoverTemporaryBytes},
	}
	if c.String("format") == "json" {
		return writeJSON(c.App.Writer, rows)
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 8, 3, ' ', 0)
	fmt.Fprintln(w, "TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\n", r.Type, r.Total, r.Active, humanSize(r.Size), humanSize(r.Reclaimable))
	}
	return w.Flush()
}

func runningContainers(st *store.Store) (int, error) {
	states, err := st.Containers()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range states {
		if refreshStatus(s).Status != store.StatusExited {
			n++
		}
	}
	return n, nil
}
