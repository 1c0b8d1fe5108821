package cfndiff

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/internal/nginxtest"
)

var reSchemaIndex = regexp.MustCompile(`"(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)": "([0-9a-f]+)"`)

// schemasFromCfnLint builds the table for types from the CloudFormation
// resource schemas cfn-lint ships (us-east-1).
func schemasFromCfnLint(t *testing.T, types []string) Table {
	home, _ := os.UserHomeDir()
	nginxtest.Require(t, "cfn-lint", filepath.Join(home, ".pyenv/shims/cfn-lint"))
	py := nginxtest.Require(t, "python3")
	out, err := exec.Command(py, "-c", "import cfnlint, cfnlint.version, os; print(os.path.dirname(cfnlint.__file__)); print(cfnlint.version.__version__)").Output()
	require.NoError(t, err, "cfn-lint's Python package")
	lines := strings.Fields(string(out))
	require.Len(t, lines, 2)
	dir := filepath.Join(lines[0], "data", "schemas")
	idx, err := os.ReadFile(filepath.Join(dir, "providers", "us_east_1.py"))
	require.NoError(t, err)
	files := map[string]string{}
	for _, m := range reSchemaIndex.FindAllStringSubmatch(string(idx), -1) {
		files[m[1]] = m[2]
	}
	table := Table{
		Source: "CloudFormation resource schemas (createOnlyProperties, conditionalCreateOnlyProperties) of us-east-1, as cfn-lint " + lines[1] + " ships them",
		Types:  map[string]Schema{},
	}
	for _, typ := range types {
		h, ok := files[typ]
		require.True(t, ok, "cfn-lint has no schema for %s", typ)
		b, err := os.ReadFile(filepath.Join(dir, "resources", h+".json"))
		require.NoError(t, err)
		var schema struct {
			CreateOnly  []string `json:"createOnlyProperties"`
			Conditional []string `json:"conditionalCreateOnlyProperties"`
		}
		require.NoError(t, json.Unmarshal(b, &schema), typ)
		s := Schema{CreateOnly: schema.CreateOnly, Conditional: schema.Conditional}
		if s.CreateOnly == nil {
			s.CreateOnly = []string{}
		}
		sort.Strings(s.CreateOnly)
		sort.Strings(s.Conditional)
		table.Types[typ] = s
	}
	return table
}

// TestCreateOnlyTable: the embedded table is what the resource schemas say,
// for every type it lists. UPDATE_CREATEONLY=1 rewrites it from cfn-lint's
// schemas; UPDATE_CREATEONLY=AWS::X::Y,AWS::Z::W adds types.
func TestCreateOnlyTable(t *testing.T) {
	have, err := CreateOnlyTable()
	require.NoError(t, err)
	types := map[string]bool{}
	for typ := range have.Types {
		types[typ] = true
	}
	update := os.Getenv("UPDATE_CREATEONLY")
	if update != "" && update != "1" {
		for _, typ := range strings.Split(update, ",") {
			types[strings.TrimSpace(typ)] = true
		}
	}
	list := make([]string, 0, len(types))
	for typ := range types {
		list = append(list, typ)
	}
	sort.Strings(list)
	want := schemasFromCfnLint(t, list)
	if update != "" {
		b, err := json.MarshalIndent(want, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile("createonly.json", append(b, '\n'), 0o644))
		return
	}
	assert.Equal(t, want.Types, have.Types, "createonly.json differs from the resource schemas: UPDATE_CREATEONLY=1 go test ./internal/cfndiff -run TestCreateOnlyTable")
	assert.Equal(t, want.Source, have.Source, "cfn-lint's version changed: UPDATE_CREATEONLY=1 go test ./internal/cfndiff -run TestCreateOnlyTable")
	assert.Contains(t, have.Types["AWS::Route53::HostedZone"].CreateOnly, "/properties/Name", "a sanity check of the source")
}
