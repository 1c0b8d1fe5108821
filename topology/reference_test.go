package topology_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// referenceFile is the topology file's reference, generated from the same
// source as the schema.
const referenceFile = "../docs/reference.md"

// schemaNode is the part of a JSON Schema the reference reads.
type schemaNode struct {
	Type                 string          `json:"type"`
	Description          string          `json:"description"`
	Enum                 []any           `json:"enum"`
	Pattern              string          `json:"pattern"`
	MinItems             *int            `json:"minItems"`
	Required             []string        `json:"required"`
	Items                *schemaNode     `json:"items"`
	AdditionalProperties json.RawMessage `json:"additionalProperties"`
	Properties           orderedProps    `json:"properties"`
}

// orderedProps keeps the keys of a schema's properties in file order.
type orderedProps struct {
	keys  []string
	nodes map[string]*schemaNode
}

func (o *orderedProps) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if _, err := dec.Token(); err != nil { // {
		return err
	}
	o.nodes = map[string]*schemaNode{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key := tok.(string)
		var n schemaNode
		if err := dec.Decode(&n); err != nil {
			return err
		}
		o.keys = append(o.keys, key)
		o.nodes[key] = &n
	}
	return nil
}

// sentences splits a description where a sentence ends: a period and a
// space before a capital letter.
func sentences(text string) []string {
	var out []string
	start := 0
	for i := 0; i+2 < len(text); i++ {
		if text[i] == '.' && text[i+1] == ' ' && unicode.IsUpper(rune(text[i+2])) {
			out = append(out, text[start:i+1])
			start = i + 2
		}
	}
	return append(out, text[start:])
}

// entry is one key of the reference.
type entry struct {
	key, typ, required, def, allowed, changing, what string
}

// entries walks the schema in key order.
func entries(t *testing.T, n *schemaNode, path string, required bool, out *[]entry) {
	t.Helper()
	e := entry{key: path, typ: typeName(n), required: "no"}
	var what []string
	for _, s := range sentences(n.Description) {
		switch {
		case s == "Required." || strings.HasPrefix(s, "Required: "):
			e.required = "yes" + strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(s, "Required."), "Required:"), ".")
			if e.required != "yes" {
				e.required = "yes (" + strings.TrimSpace(strings.TrimPrefix(e.required, "yes")) + ")"
			}
		case strings.HasPrefix(s, "Required "):
			e.required = strings.TrimSuffix(strings.TrimPrefix(s, "Required "), ".")
		case strings.HasPrefix(s, "Default: "):
			e.def = strings.TrimSuffix(strings.TrimPrefix(s, "Default: "), ".")
		case strings.HasPrefix(s, "Changing it"):
			e.changing = strings.TrimSuffix(strings.TrimPrefix(s, "Changing it"), ".")
		default:
			what = append(what, s)
		}
	}
	e.what = strings.Join(what, " ")
	if path != "" {
		assert.NotEmpty(t, e.what, "%s: its doc comment says what it does", path)
		assert.True(t, e.required != "no" || e.def != "", "%s: its doc comment says Required or Default:", path)
		assert.Equal(t, required, strings.HasPrefix(e.required, "yes"), "%s: Required in its doc comment and its jsonschema tag agree", path)
	}
	var allowed []string
	for _, v := range n.Enum {
		allowed = append(allowed, fmt.Sprintf("`%v`", v))
	}
	if n.Pattern != "" {
		allowed = append(allowed, "matches `"+n.Pattern+"`")
	}
	if n.MinItems != nil {
		allowed = append(allowed, fmt.Sprintf("at least %d", *n.MinItems))
	}
	e.allowed = strings.Join(allowed, ", ")
	if path != "" {
		*out = append(*out, e)
	}
	obj := n
	if n.Items != nil {
		obj, path = n.Items, path+"[]"
	}
	req := map[string]bool{}
	for _, r := range obj.Required {
		req[r] = true
	}
	for _, k := range obj.Properties.keys {
		p := k
		if path != "" {
			p = path + "." + k
		}
		entries(t, obj.Properties.nodes[k], p, req[k], out)
	}
}

// typeName says a schema's type in the file's words.
func typeName(n *schemaNode) string {
	switch n.Type {
	case "array":
		if n.Items.Type == "object" {
			return "list of mappings"
		}
		return "list of " + n.Items.Type + "s"
	case "object":
		if len(n.Properties.keys) == 0 {
			var v schemaNode
			if json.Unmarshal(n.AdditionalProperties, &v) == nil && v.Type != "" {
				return "mapping of " + v.Type + "s"
			}
		}
		return "mapping"
	}
	return n.Type
}

func anchor(key string) string {
	return strings.NewReplacer(".", "", "[", "", "]", "").Replace(strings.ToLower(key))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// reference renders docs/reference.md from a schema.
func reference(t *testing.T, schema []byte) string {
	t.Helper()
	var root schemaNode
	require.NoError(t, json.Unmarshal(schema, &root))
	var es []entry
	entries(t, &root, "", true, &es)
	var b strings.Builder
	b.WriteString(`# Topology file reference

<!-- Generated from the Go types of package topology and their doc comments,
like topology/schema.json; do not edit: ` + updateHint + ` -->

Every key of a topology file, in file order: its type, whether it is
required, its default, the values it allows, what changing it on a deployed
topology replaces, and what it does. The same text is in the JSON Schema
that ` + "`obslink schema`" + ` prints (start a file with ` + "`# yaml-language-server: $schema=<path of the schema>`" + ` and
editors complete and check keys) and in ` + "`go doc github.com/obslink/obslink/topology`" + `.

**Changing it** is what a change of the key makes ` + "`obslink diff`" + ` report
for a deployed topology: stacks to delete (new names or places), endpoints,
zones, VPCs, subnets, peerings or gateways replaced, the proxies rolled (an
instance refresh); test/replacements_test.go makes each such change and
checks. A key without it replaces none of these. Run ` + "`obslink diff`" + ` on
your own change before you deploy it.

| key | type | required | default |
|---|---|---|---|
`)
	for _, e := range es {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s | %s |\n", e.key, anchor(e.key), e.typ, e.required, orDash(e.def))
	}
	for _, e := range es {
		fmt.Fprintf(&b, "\n### `%s`\n\n%s\n\n", e.key, e.what)
		fmt.Fprintf(&b, "- Type: %s\n- Required: %s\n- Default: %s\n", e.typ, e.required, orDash(e.def))
		if e.allowed != "" {
			fmt.Fprintf(&b, "- Allowed: %s\n", e.allowed)
		}
		if e.changing != "" {
			fmt.Fprintf(&b, "- Changing it%s.\n", e.changing)
		}
	}
	return b.String()
}

// TestReferenceIsCurrent: docs/reference.md is what the types and their
// doc comments make, every key says what it does and whether it is
// required or what its default is.
func TestReferenceIsCurrent(t *testing.T) {
	got := reference(t, generateSchema(t))
	if os.Getenv("UPDATE_SCHEMA") != "" {
		require.NoError(t, os.WriteFile(referenceFile, []byte(got), 0o644))
		return
	}
	b, err := os.ReadFile(referenceFile)
	require.NoError(t, err)
	require.Equal(t, got, string(b), "docs/reference.md is stale: "+updateHint)
}
