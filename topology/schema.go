package topology

import (
	"bytes"
	_ "embed"
)

// schema.json is generated from the types of this package and their doc
// comments (TestSchemaIsCurrent checks it; UPDATE_SCHEMA=1 rewrites it).
//
//go:embed schema.json
var schemaFile []byte

// SchemaModeline is the first line of a topology file that tells editors
// (yaml-language-server: VS Code's YAML extension, Neovim, Helix, ...)
// where its schema is: a path relative to the file, or a URL.
const SchemaModeline = "# yaml-language-server: $schema="

// Schema returns the JSON Schema (draft-07) of a topology file: every key
// with its type, description, allowed values and default, the required
// ones, and no other keys but x- ones at the top. It checks shapes;
// validation (obslink validate) checks the rest.
func Schema() []byte { return bytes.Clone(schemaFile) }
