package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/topology"
)

// reresolvedImages lists what, in an assembly's templates, CloudFormation
// would resolve anew on every deploy: SSM parameters of image type and
// {{resolve:ssm...}} references.
func reresolvedImages(t *testing.T, a Assembly) []string {
	t.Helper()
	var out []string
	for name := range a.Stacks() {
		b, err := os.ReadFile(filepath.Join(a.Dir, name+".template.json"))
		require.NoError(t, err)
		var tpl struct {
			Parameters map[string]struct {
				Type string `json:"Type"`
			} `json:"Parameters"`
		}
		require.NoError(t, json.Unmarshal(b, &tpl))
		for id, p := range tpl.Parameters {
			if strings.Contains(p.Type, "AWS::EC2::Image::Id") {
				out = append(out, name+"/"+id)
			}
		}
		if strings.Contains(string(b), "{{resolve:ssm") {
			out = append(out, name+": {{resolve:ssm}}")
		}
	}
	return out
}

// TestImagesChangeOnlyWhenAsked: no template of the default topology or the
// examples takes the proxies' image from an SSM parameter CloudFormation
// re-resolves on each update, so a new AMI published by AWS changes nothing
// until the operator rolls it; image: latest opts back in explicitly.
func TestImagesChangeOnlyWhenAsked(t *testing.T) {
	for _, nt := range allTopologies(t) {
		assert.Empty(t, reresolvedImages(t, nt.synth(t)), filepath.Base(nt.file))
	}
	latest := strings.Replace(string(topology.DefaultYAML()), "\nproxy:\n", "\nproxy:\n  image: latest\n", 1)
	topo, err := topology.Parse("latest.yaml", []byte(latest))
	require.NoError(t, err)
	assert.Len(t, reresolvedImages(t, synth(t, topo)), 3, "image: latest resolves on every deploy, in each provider")
}

// TestImageRollAndPins: raising imageGeneration changes only the capture
// (its physical id, so CloudFormation calls it again) in every provider;
// a pinned region's launch template names its AMI and captures nothing.
func TestImageRollAndPins(t *testing.T) {
	base := string(topology.DefaultYAML())
	rolled := strings.Replace(base, "\nproxy:\n", "\nproxy:\n  imageGeneration: 2\n", 1)
	pinned := strings.Replace(base, "\nproxy:\n", "\nproxy:\n  imageIds:\n    eu-west-1: ami-0123456789abcdef0\n", 1)
	parse := func(name, y string) *topology.Topology {
		topo, err := topology.Parse(name, []byte(y))
		require.NoError(t, err)
		return topo
	}
	before, after, pin := synth(t, parse("base", base)), synth(t, parse("rolled", rolled)), synth(t, parse("pinned", pinned))
	for _, region := range []string{"eu-west-1", "us-east-1", "ap-southeast-1"} {
		stack := "obslink-provider-" + region
		old, cur := before.Template(t, stack), after.Template(t, stack)
		var changed []string
		for id, r := range old.Resources {
			if !reflect.DeepEqual(r, cur.Resources[id]) {
				changed = append(changed, id)
			}
		}
		require.Len(t, changed, 1, "%s: only the image capture changes, not %v", stack, changed)
		capture := cur.Resources[changed[0]]
		assert.Equal(t, "Custom::AWS", capture.Type)
		assert.Contains(t, capture.Properties["Update"], "#generation-2")
		assert.Contains(t, old.Resources[changed[0]].Properties["Update"], "#generation-1")
	}
	tpl := pin.Template(t, "obslink-provider-eu-west-1")
	for _, lt := range tpl.Of("AWS::EC2::LaunchTemplate") {
		assert.Equal(t, "ami-0123456789abcdef0", lt.Properties["LaunchTemplateData"].(map[string]any)["ImageId"])
	}
	for id, r := range tpl.Of("Custom::AWS") {
		assert.NotContains(t, r.Properties["Create"], "getParameter", "%s: a pinned region captures nothing", id)
	}
	assert.NotEmpty(t, pin.Template(t, "obslink-provider-us-east-1").Of("Custom::AWS"), "other regions still capture")
}
