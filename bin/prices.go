package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/obslink/obslink/internal/plan"
	"github.com/obslink/obslink/internal/pricelist"
)

// endpointEnv overrides the pricing endpoint refresh reads (a copy of the
// offer files, a proxy, a test server).
const endpointEnv = "OBSLINK_PRICING_ENDPOINT"

// shownChanges is how many added or removed figures refresh names before
// it counts the rest.
const shownChanges = 10

const pricesLong = `Keep the prices obslink plan uses: refresh rebuilds a prices file from
AWS's own price lists (the Price List Bulk API's offer files, public, no
credentials) for every commercial region. The only verb that uses the
network; plan reads the file offline.`

// pricesCmd is obslink prices and its subcommand refresh.
func pricesCmd(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "prices",
		Short: "Rebuild the prices plan uses from AWS's price lists (network)",
		Long:  pricesLong,
		Example: `  obslink prices refresh                       # in the repository: rewrites ` + plan.PriceFile + `
  obslink prices refresh --help                # its flags: the file to write, the endpoint`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{cmd, fmt.Sprintf("unknown subcommand %q; the subcommand is refresh", args[0])}
			}
			return usageError{cmd, "give a subcommand: obslink prices refresh [--out FILE] [--endpoint URL]"}
		},
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE:              func(*cobra.Command, []string) error { return nil },
	}
	cmd.AddCommand(pricesRefreshCmd(stdout, stderr))
	return cmd
}

func pricesRefreshCmd(stdout, stderr io.Writer) *cobra.Command {
	var out, endpoint string
	cmd := &cobra.Command{
		Use:   "refresh",
		Short: "Rebuild a prices file from AWS's Price List Bulk API (network)",
		Long: `Read AWS's public price lists (the Price List Bulk API: an offer index, a
region index per service, one offer file per service and region; no
credentials) and write the prices obslink plan uses for every commercial
region, with their source and date: VPC interface endpoints (hours, GB),
NLB (hours, capacity units), Transit Gateway (attachment hours, GB),
inter-region and cross-zone transfer, CloudWatch Logs ingestion, EBS gp3,
Route 53 hosted zones, and the t3, t3a and t4g instance types and their
surplus CPU credits (on-demand, Linux, first tier). The EC2 files are large:
a refresh reads gigabytes and takes minutes.

It prints what changed since the file it replaces, and what the offer files
do not price (plan names those where a topology needs them, and leaves them
out of its totals). The file is written whole or not at all. Plan with it:
obslink plan --prices FILE. The default --out is the file obslink embeds at
its next build: run there in the repository.`,
		Example: `  obslink prices refresh --out our-prices.yaml
  obslink prices refresh                        # in the repository: rewrites ` + plan.PriceFile + `
  OBSLINK_PRICING_ENDPOINT=http://127.0.0.1:8080 obslink prices refresh --out our-prices.yaml   # a copy of the offer files`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{cmd, fmt.Sprintf("unexpected argument %q; use --out FILE", args[0])}
			}
			return nil
		},
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if endpoint == "" {
				endpoint = os.Getenv(endpointEnv)
			}
			if endpoint == "" {
				endpoint = pricelist.DefaultEndpoint
			}
			if !strings.HasPrefix(endpoint, "https://") && !strings.HasPrefix(endpoint, "http://") {
				return usageError{cmd, fmt.Sprintf("--endpoint %q is not an http(s) URL; give one such as %s", endpoint, pricelist.DefaultEndpoint)}
			}
			if dir := filepath.Dir(out); dir != "." {
				if info, err := os.Stat(dir); err != nil || !info.IsDir() {
					return usageError{cmd, fmt.Sprintf("--out %s: directory %s does not exist; run in the obslink repository for the default, or give --out FILE", out, dir)}
				}
			}
			return codeOf(refreshVerb(cmd.Context(), out, endpoint, stdout, stderr))
		},
	}
	cmd.Flags().StringVar(&out, "out", plan.PriceFile, "prices `FILE` to write")
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "the pricing endpoint that serves the offer files, `URL` (default: $"+endpointEnv+", else "+pricelist.DefaultEndpoint+")")
	_ = cmd.RegisterFlagCompletionFunc("out", completeTopology)
	return cmd
}

// refreshVerb reads the offer files at endpoint into the prices file out.
func refreshVerb(ctx context.Context, out, endpoint string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	r, err := pricelist.Refresh(ctx, pricelist.Options{Endpoint: endpoint, Date: time.Now().UTC().Format(time.DateOnly), Progress: stderr})
	if err != nil {
		fmt.Fprintf(stderr, "obslink prices refresh: %v\n", err)
		return 1
	}
	data, err := pricelist.Marshal(r.Prices)
	if err == nil {
		_, err = plan.ParsePrices(out, data) // what plan will read
	}
	if err != nil {
		fmt.Fprintf(stderr, "obslink prices refresh: %v\n", err)
		return 1
	}
	old, oldErr := plan.LoadPrices(out)
	if err := writeAtomically(out, data); err != nil {
		fmt.Fprintf(stderr, "obslink prices refresh: %v\n", err)
		return 1
	}

	fmt.Fprintf(stdout, "obslink prices refresh: wrote %s: %d regions, %d items, from %d offer files (%s)\n",
		out, len(r.Prices.Regions), len(r.Prices.Items), r.Files, r.Prices.Source)
	if oldErr == nil {
		reportChanges(stdout, old, pricelist.Changes(old, r.Prices))
	}
	if len(r.Missing) > 0 {
		fmt.Fprintf(stdout, "\nNot in the offer files (plan names these where a topology needs them, and leaves them out of its totals):\n")
		for _, m := range r.Missing {
			fmt.Fprintf(stdout, "- %s\n", m)
		}
	}
	if len(r.Ambiguous) > 0 {
		fmt.Fprintf(stdout, "\nLeft out, the offer files giving two prices for one figure:\n")
		for _, a := range r.Ambiguous {
			fmt.Fprintf(stdout, "- %s\n", a)
		}
	}
	return 0
}

// reportChanges prints every changed figure, and the added and removed
// ones counted, with the first few named.
func reportChanges(w io.Writer, old *plan.Prices, changes []string) {
	var changed, added, removed []string
	for _, c := range changes {
		switch {
		case strings.Contains(c, ": none -> "):
			added = append(added, strings.Split(c, ": ")[0])
		case strings.HasSuffix(c, " -> none"):
			removed = append(removed, strings.Split(c, ": ")[0])
		default:
			changed = append(changed, c)
		}
	}
	fmt.Fprintf(w, "\nAgainst the previous file (dated %s): %d figures changed, %d new, %d gone.\n", old.Date, len(changed), len(added), len(removed))
	for _, c := range changed {
		fmt.Fprintf(w, "- %s\n", c)
	}
	for _, list := range []struct {
		what  string
		names []string
	}{{"new", added}, {"gone", removed}} {
		if len(list.names) == 0 {
			continue
		}
		shown := list.names
		more := ""
		if len(shown) > shownChanges {
			shown, more = shown[:shownChanges], fmt.Sprintf(" and %d more", len(list.names)-shownChanges)
		}
		fmt.Fprintf(w, "- %s: %s%s\n", list.what, strings.Join(shown, ", "), more)
	}
}

// writeAtomically replaces file with data, so that an interrupted write
// leaves the old file.
func writeAtomically(file string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), ".prices-*.yaml")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}
