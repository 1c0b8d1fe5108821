package topology_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/invopop/jsonschema"
	santhosh "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/obslink/obslink/topology"
)

// The topology file's JSON Schema comes from the Go types: keys from the
// yaml tags, descriptions from the fields' doc comments, allowed values,
// patterns and required keys from jsonschema tags. UPDATE_SCHEMA=1
// rewrites topology/schema.json and docs/reference.md.

const (
	module     = "github.com/obslink/obslink/topology"
	draft07    = "http://json-schema.org/draft-07/schema#"
	updateHint = "UPDATE_SCHEMA=1 go test ./topology -run 'TestSchemaIsCurrent|TestReferenceIsCurrent'"
)

// prose are Go names of fields that the doc comments also use as words:
// CloudFormation StackSets.
var prose = map[string]bool{"StackSets": true}

// fieldKeys maps the Go names of the topology's fields to their keys, for
// descriptions written in Go's words; all-caps names (TLS, CIDR, VPC, ID,
// ASN) are words of the text too and stay, as do prose.
func fieldKeys() map[string]string {
	out := map[string]string{}
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if key := yamlKey(f); key != "" && strings.ToUpper(f.Name) != f.Name && !prose[f.Name] {
				out[f.Name] = key
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeOf(topology.Topology{}))
	return out
}

func yamlKey(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	return strings.Split(f.Tag.Get("yaml"), ",")[0]
}

var reDefault = regexp.MustCompile(`(?:^|\s)Default: (\S+)\.(?:\s|$)`)

// generateSchema reflects the schema and finishes it: each key's
// description is its field's doc comment in the file's words; integer,
// boolean and enumerated keys whose comment says "Default: <value>." get
// that default; top-level x- keys are allowed.
func generateSchema(t *testing.T) []byte {
	t.Helper()
	r := &jsonschema.Reflector{FieldNameTag: "yaml", RequiredFromJSONSchemaTags: true, DoNotReference: true, ExpandedStruct: true, Anonymous: true}
	require.NoError(t, r.AddGoComments(module, "./"))
	s := r.Reflect(&topology.Topology{})
	s.Version = draft07
	s.Title = "obslink topology file"
	s.Description = "Generated from the Go types of package topology (" + module + ") and their doc comments; docs/reference.md is the same as a page."
	s.PatternProperties = map[string]*jsonschema.Schema{"^" + topology.ExtensionPrefix: jsonschema.TrueSchema}

	keys := fieldKeys()
	names := make([]string, 0, len(keys))
	for n := range keys {
		names = append(names, regexp.QuoteMeta(n))
	}
	reName := regexp.MustCompile(`\b(` + strings.Join(names, "|") + `)\b`)
	words := func(text string) string {
		text = strings.Join(strings.Fields(text), " ")
		return reName.ReplaceAllStringFunc(text, func(n string) string { return keys[n] })
	}
	var finish func(s *jsonschema.Schema, typ reflect.Type)
	finish = func(s *jsonschema.Schema, typ reflect.Type) {
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		switch typ.Kind() {
		case reflect.Slice:
			finish(s.Items, typ.Elem())
			return
		case reflect.Map:
			finish(s.AdditionalProperties, typ.Elem())
			return
		case reflect.Struct:
		default:
			return
		}
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			key := yamlKey(f)
			if key == "" {
				continue
			}
			prop, ok := s.Properties.Get(key)
			require.True(t, ok, key)
			prop.Description = words(r.CommentMap[module+"."+typ.Name()+"."+f.Name])
			if m := reDefault.FindStringSubmatch(prop.Description); m != nil {
				prop.Default = literal(prop, m[1])
			}
			if prop.Items != nil {
				prop.Items.Description = "" // the list's says it
			}
			finish(prop, f.Type)
		}
	}
	finish(s, reflect.TypeOf(topology.Topology{}))
	b, err := json.MarshalIndent(s, "", "  ")
	require.NoError(t, err)
	// As written: <service>.<domain>, not \u003cservice\u003e.
	b = []byte(strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(b)))
	return append(b, '\n')
}

// literal is the default value v of a key of schema s, or nil when v is
// not one (a word of a sentence, a name of another key).
func literal(s *jsonschema.Schema, v string) any {
	switch s.Type {
	case "integer":
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	case "boolean":
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	case "string":
		for _, e := range s.Enum {
			if e == v {
				return v
			}
		}
	}
	return nil
}

// TestSchemaIsCurrent: topology/schema.json, which obslink schema prints,
// is what the types and their doc comments make.
func TestSchemaIsCurrent(t *testing.T) {
	got := generateSchema(t)
	if os.Getenv("UPDATE_SCHEMA") != "" {
		require.NoError(t, os.WriteFile("schema.json", got, 0o644))
		return
	}
	require.Equal(t, string(got), string(topology.Schema()), "topology/schema.json is stale: "+updateHint)
}

// compiled is the embedded schema, ready to validate documents.
func compiled(t *testing.T) *santhosh.Schema {
	t.Helper()
	doc, err := santhosh.UnmarshalJSON(bytes.NewReader(topology.Schema()))
	require.NoError(t, err)
	c := santhosh.NewCompiler()
	require.NoError(t, c.AddResource("schema.json", doc))
	s, err := c.Compile("schema.json")
	require.NoError(t, err)
	return s
}

// asJSON is a topology file as the schema sees it: YAML decoded (aliases
// and merge keys resolved), then as JSON.
func asJSON(t *testing.T, text []byte) any {
	t.Helper()
	var v any
	require.NoError(t, yaml.Unmarshal(text, &v))
	b, err := json.Marshal(v)
	require.NoError(t, err)
	doc, err := santhosh.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err)
	return doc
}

// topologyFiles are the repository's topology files.
func topologyFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, g := range []string{"../examples/*.yaml", "../environments/*.yaml", "default.yaml"} {
		m, err := filepath.Glob(g)
		require.NoError(t, err)
		out = append(out, m...)
	}
	require.Greater(t, len(out), 10)
	return out
}

// TestExamplesValidateAgainstTheSchema: every topology file of the
// repository names the schema on its first line, by a path that leads to
// it, and validates against it.
func TestExamplesValidateAgainstTheSchema(t *testing.T) {
	s := compiled(t)
	for _, f := range topologyFiles(t) {
		t.Run(f, func(t *testing.T) {
			text, err := os.ReadFile(f)
			require.NoError(t, err)
			first, _, _ := strings.Cut(string(text), "\n")
			require.True(t, strings.HasPrefix(first, topology.SchemaModeline), "%s starts with %s<path of topology/schema.json>", f, topology.SchemaModeline)
			named, err := os.ReadFile(filepath.Join(filepath.Dir(f), strings.TrimPrefix(first, topology.SchemaModeline)))
			require.NoError(t, err, "the modeline's path leads to the schema")
			assert.Equal(t, topology.Schema(), named)
			assert.NoError(t, s.Validate(asJSON(t, text)))
		})
	}
}

// TestSchemaRefusesMistakes: what an editor flags as the user types, the
// loader refuses too.
func TestSchemaRefusesMistakes(t *testing.T) {
	s := compiled(t)
	ok := patched(t, func(m map[string]any) { m["x-defaults"] = map[string]any{"zones": []any{"eu-west-1a"}} })
	require.NoError(t, s.Validate(asJSON(t, ok)), "x- keys at the top are the user's")
	for _, tt := range []struct {
		name  string
		patch func(m map[string]any)
		want  string // in the schema's error
	}{
		{"unknown key", func(m map[string]any) { at(m, "services", 0)["upstreamTLS"] = true }, "upstreamTLS"},
		{"x- key below the top", func(m map[string]any) { at(m, "controlPlane")["x-note"] = "hi" }, "x-note"},
		{"account as a number", func(m map[string]any) { at(m, "consumers", 0)["account"] = 222222222222 }, "string"},
		{"short account", func(m map[string]any) { at(m, "consumers", 0)["account"] = "2222" }, "does not match pattern"},
		{"a value not allowed", func(m map[string]any) { m["interRegion"] = "vpn" }, "peering"},
		{"missing name", func(m map[string]any) { delete(m, "name") }, "name"},
		{"no services", func(m map[string]any) { m["services"] = []any{} }, "minItems"},
		{"a list as a scalar", func(m map[string]any) { at(m, "regions", 0)["availabilityZones"] = "eu-west-1a" }, "array"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := patched(t, tt.patch)
			err := s.Validate(asJSON(t, data))
			require.Error(t, err)
			assert.Contains(t, fmt.Sprintf("%#v", err), tt.want)
			_, err = topology.Parse("bad.yaml", data)
			assert.Error(t, err, "the loader refuses it too")
		})
	}
}

// TestSchemaEnumsAreWhatValidationAccepts: every value a key's enum
// allows passes validation's check of that key, and another does not.
func TestSchemaEnumsAreWhatValidationAccepts(t *testing.T) {
	var root map[string]any
	require.NoError(t, json.Unmarshal(topology.Schema(), &root))
	enums := map[string][]any{}
	var walk func(s map[string]any, path string)
	walk = func(s map[string]any, path string) {
		if e, ok := s["enum"].([]any); ok {
			enums[path] = e
		}
		if items, ok := s["items"].(map[string]any); ok {
			walk(items, path+"[]")
		}
		props, _ := s["properties"].(map[string]any)
		for k, p := range props {
			walk(p.(map[string]any), strings.TrimPrefix(path+"."+k, "."))
		}
	}
	walk(root, "")
	require.Contains(t, enums, "proxy.mode")
	for path, values := range enums {
		base := "default.yaml"
		if strings.HasPrefix(path, "stackSets.") || strings.HasPrefix(path, "controlPlane.stackSet") {
			base = "../examples/stacksets-organization.yaml" // checked with stacksets only
		}
		text, err := os.ReadFile(base)
		require.NoError(t, err)
		for _, v := range append(values, "bogus") {
			t.Run(fmt.Sprintf("%s=%v", path, v), func(t *testing.T) {
				data := patchYAML(t, text, func(m map[string]any) { setPath(m, path, v) })
				_, err := topology.Parse("enum.yaml", data)
				refused := false
				var errs topology.Errors
				if errors.As(err, &errs) {
					for _, e := range errs {
						refused = refused || e.Path == strings.ReplaceAll(path, "[]", "[0]") && strings.Contains(e.Msg, "is not a")
					}
				}
				assert.Equal(t, v == "bogus", refused, "%v", err)
			})
		}
	}
}

// setPath sets the key at path (services[].tls: the first service's) in a
// decoded topology file, making the mappings on the way.
func setPath(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	cur := m
	for _, p := range parts[:len(parts)-1] {
		name, list := strings.CutSuffix(p, "[]")
		next, ok := cur[name]
		if !ok {
			next = map[string]any{}
			cur[name] = next
		}
		if list {
			next = next.([]any)[0]
		}
		cur = next.(map[string]any)
	}
	cur[parts[len(parts)-1]] = v
}
