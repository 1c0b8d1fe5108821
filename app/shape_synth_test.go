package app

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/internal/assembly"
	"github.com/obslink/obslink/internal/scale"
	"github.com/obslink/obslink/topology"
)

// TestChecksPerShapeGiveTheAssemblyOfEveryTemplate synthesizes a topology
// of consumers that share shapes (one per region) twice, with aws-cdk-lib's
// validator and cdk-nag on: checked once per template shape, and on every
// template. Every file of the two assemblies, validation-report.json with
// each template's findings included, is the same byte for byte.
func TestChecksPerShapeGiveTheAssemblyOfEveryTemplate(t *testing.T) {
	t.Setenv("CDK_VALIDATION", "") // the validator on, as in make synth
	topo, err := topology.Parse("bench.yaml", []byte(scale.Stacks(7, 3)))
	require.NoError(t, err)
	var dirs []string
	for _, every := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "cdk.out")
		_, err := Synth(topo, Options{Outdir: dir, everyTemplate: every})
		require.NoError(t, err)
		dirs = append(dirs, dir)
	}
	// One consumer template of each region's shape was validated, the other
	// four stand for themselves (three providers, the control plane).
	assert.Equal(t, 3+4, shapesIn(t, dirs[0], topo), "templates validated")
	shaped, every := files(t, dirs[0]), files(t, dirs[1])
	require.Contains(t, every, "validation-report.json", "the validator ran")
	require.Contains(t, string(every["validation-report.json"]), "bench-consumer-c0006.template.json", "the report holds a finding of the last consumer")
	assert.Equal(t, keys(every), keys(shaped))
	// No stack traces in the assembly: from Go they show only jsii's and
	// Node's frames, and capturing them costs time at every element.
	for name, b := range every {
		assert.False(t, bytes.Contains(b, []byte(`"aws:cdk:creationStack"`)), "%s holds a creation stack", name)
	}
	for name, b := range every {
		assert.True(t, bytes.Equal(b, shaped[name]), "%s differs between checks per shape and on every template", name)
	}
}

// shapesIn is the number of templates of the assembly in dir the shape
// validator validates.
func shapesIn(t *testing.T, dir string, topo *topology.Topology) int {
	m, err := assembly.ReadManifest(dir)
	require.NoError(t, err)
	var stacks []*awscdk.PolicyValidationStack
	for id, a := range m.Artifacts {
		if !a.IsStack() {
			continue
		}
		account, region := a.Env()
		stacks = append(stacks, &awscdk.PolicyValidationStack{StackConstructPath: jsii.String(id),
			TemplatePath: jsii.String(filepath.Join(dir, a.Properties.TemplateFile)), AccountId: &account, Region: &region})
	}
	v := &shapeValidator{shapes: newShapes(consumerNames(topo))}
	distinct := map[int]bool{}
	for _, g := range v.group(stacks) {
		distinct[g] = true
	}
	return len(distinct)
}

func files(t *testing.T, dir string) map[string][]byte {
	out := map[string][]byte{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	}))
	return out
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
