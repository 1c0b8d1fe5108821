package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/obslink/obslink/topology"
)

const schemaLong = `Print the JSON Schema (draft-07) of a topology file: every key with its
type, description, allowed values and default, the required keys, and no
other keys (but x- ones at the top). Editors that speak yaml-language-server
(VS Code's YAML extension, Neovim, Helix, ...) then complete keys and flag
mistakes as you type: save the schema beside your topology files and start
each file with the line

  # yaml-language-server: $schema=obslink.schema.json

(a path relative to the file, or a URL). The schema checks shapes only;
obslink validate checks everything, with line numbers. docs/reference.md
is the same reference as a page.`

// schemaCmd is obslink schema.
func schemaCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of a topology file, for editors",
		Long:  schemaLong,
		Example: `  obslink schema > obslink.schema.json
  sed -i '1i # yaml-language-server: $schema=obslink.schema.json' my-topology.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{cmd, fmt.Sprintf("unexpected argument %q; obslink schema takes none (redirect its output to a file)", args[0])}
			}
			return nil
		},
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(*cobra.Command, []string) error {
			_, err := stdout.Write(topology.Schema())
			return err
		},
	}
}
