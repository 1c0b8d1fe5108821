package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/jsii-runtime-go"
	"github.com/pmezard/go-difflib/difflib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/app"
	"github.com/obslink/obslink/internal/nginxtest"
	"github.com/obslink/obslink/topology"
)

// requireTool finds a command or skips, except in CI (OBSLINK_REQUIRE_ALL=1),
// where a missing prerequisite is a failure, not a skip.
var requireTool = nginxtest.Require

// exampleFiles are the topology files shipped in examples/ and environments/.
func exampleFiles(t *testing.T) []string {
	files, err := filepath.Glob("../examples/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files, "examples/ holds topology files")
	envs, err := filepath.Glob("../environments/*.yaml")
	require.NoError(t, err)
	return append(files, envs...)
}

// TestCfnLint lints every template of the default topology and of every
// example in one cfn-lint run: no errors, no warnings (ignores and their
// reasons are in .cfnlintrc.yaml or on the resource).
func TestCfnLint(t *testing.T) {
	home, _ := os.UserHomeDir()
	lint := requireTool(t, "cfn-lint", filepath.Join(home, ".pyenv/shims/cfn-lint"))

	var templates []string
	add := func(a Assembly) {
		files, err := filepath.Glob(filepath.Join(a.Dir, "*.template.json"))
		require.NoError(t, err)
		require.NotEmpty(t, files)
		templates = append(templates, files...)
		// A StackSet's template travels inline: lint it as a template of its own.
		for _, f := range files {
			for id, body := range stackSetBodies(t, f) {
				out := filepath.Join(t.TempDir(), id+".stackset.template.json")
				require.NoError(t, os.WriteFile(out, []byte(body), 0o644))
				templates = append(templates, out)
			}
		}
	}
	for _, nt := range allTopologies(t) {
		add(nt.synth(t))
	}
	cmd := exec.Command(lint, append([]string{"--config-file", "../.cfnlintrc.yaml", "--"}, templates...)...)
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "cfn-lint found problems:\n%s", out)
}

// TestCfnLintCatchesAnInvalidProperty proves the cfn-lint gate bites: the
// same run on a template with a property CloudFormation does not know fails.
func TestCfnLintCatchesAnInvalidProperty(t *testing.T) {
	home, _ := os.UserHomeDir()
	lint := requireTool(t, "cfn-lint", filepath.Join(home, ".pyenv/shims/cfn-lint"))
	a := synthDefault(t)
	src := filepath.Join(a.Dir, "obslink-consumer-payments.template.json")
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	broken := strings.Replace(string(b), `"PrivateDnsEnabled": false`, `"PrivateDnsEnabled": false, "PrivateDnsName": "x"`, 1)
	require.NotEqual(t, string(b), broken)
	bad := filepath.Join(t.TempDir(), "broken.template.json")
	require.NoError(t, os.WriteFile(bad, []byte(broken), 0o644))
	out, err := exec.Command(lint, "--config-file", "../.cfnlintrc.yaml", "--", bad).CombinedOutput()
	assert.Error(t, err, "cfn-lint accepted an invalid property")
	assert.Contains(t, string(out), "PrivateDnsName")
}

// TestNagFindingFailsSynth proves the cdk-nag gate bites: an SSH port open to
// the world must stop synthesis.
func TestNagFindingFailsSynth(t *testing.T) {
	topo, err := topology.Default()
	require.NoError(t, err)
	dir := t.TempDir()
	a, set := app.New(topo, app.Options{Outdir: dir})
	prov := set.Providers["eu-west-1"]
	sg := awsec2.NewSecurityGroup(prov.Stack, jsii.String("Open"), &awsec2.SecurityGroupProps{Vpc: prov.Provider.Vpc()})
	sg.AddIngressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(22)), jsii.String("open"), jsii.Bool(false))
	a.Synth(nil)

	err = app.CheckAssembly(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AwsSolutions-EC23")
	assert.Contains(t, err.Error(), "/obslink-provider-eu-west-1/Open/Resource")
}

func TestDefaultHasNoNagFindings(t *testing.T) {
	a := synthDefault(t) // synth() fails the test on any error-level finding
	assert.NoError(t, app.CheckAssembly(a.Dir))
}

var assetHash = regexp.MustCompile(`[0-9a-f]{64}`)

// mask replaces asset hashes, which change with CDK's bundled handler code,
// not with anything obslink decides.
func mask(b []byte) []byte { return assetHash.ReplaceAll(b, []byte("<asset-hash>")) }

// TestGoldenTemplates compares the default topology's templates with
// test/golden/. After an intended change: make golden (UPDATE_GOLDEN=1), then
// review the diff of test/golden/ in the pull request.
func TestGoldenTemplates(t *testing.T) {
	a := synthDefault(t)
	got, err := filepath.Glob(filepath.Join(a.Dir, "*.template.json"))
	require.NoError(t, err)
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		require.NoError(t, os.RemoveAll("golden"))
		require.NoError(t, os.MkdirAll("golden", 0o755))
		for _, f := range got {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join("golden", filepath.Base(f)), mask(b), 0o644))
		}
		t.Logf("rewrote %d golden templates", len(got))
		return
	}
	want, err := filepath.Glob("golden/*.template.json")
	require.NoError(t, err)
	require.Equal(t, baseNames(want), baseNames(got), "the set of stacks changed; run make golden if intended")
	for _, f := range got {
		g, err := os.ReadFile(f)
		require.NoError(t, err)
		w, err := os.ReadFile(filepath.Join("golden", filepath.Base(f)))
		require.NoError(t, err)
		if got := string(mask(g)); got != string(w) {
			diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
				A: difflib.SplitLines(string(w)), B: difflib.SplitLines(got),
				FromFile: "test/golden/" + filepath.Base(f), ToFile: "synthesized", Context: 3,
			})
			t.Errorf("%s differs from test/golden (run make golden if intended):\n%s", filepath.Base(f), diff)
		}
	}
}

func baseNames(files []string) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = filepath.Base(f)
	}
	sort.Strings(out)
	return out
}

// TestDeterministicSynth runs the obslink command twice, as make synth and
// cdk synth do (cdk-nag and aws-cdk-lib's validator on, a new process and
// jsii kernel each time), and compares every file of the two assemblies
// byte for byte.
func TestDeterministicSynth(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "obslink")
	build := exec.Command("go", "build", "-o", bin, "../bin")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	var dirs []string
	for i := 0; i < 2; i++ {
		dir := filepath.Join(t.TempDir(), "out")
		cmd := exec.Command(bin, "--out", dir)
		cmd.Env = withoutEnv(os.Environ(), "CDK_VALIDATION") // the app's default: validator on
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		dirs = append(dirs, dir)
	}
	fa, fb := tree(t, dirs[0]), tree(t, dirs[1])
	require.Equal(t, keys(fa), keys(fb))
	assert.Contains(t, fa, "validation-report.json", "the validator ran")
	for name, content := range fa {
		assert.True(t, bytes.Equal(content, fb[name]), "%s differs between two synths", name)
	}
}

func withoutEnv(env []string, name string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, name+"=") {
			out = append(out, e)
		}
	}
	return out
}

func tree(t *testing.T, dir string) map[string][]byte {
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

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// mayChange lists the properties that must change when consumers are added:
// who may connect, and who may read the provider's outputs. Anything else
// changing in an existing stack is a replacement or a surprise in cdk diff.
var mayChange = map[string]bool{
	"AWS::EC2::VPCEndpointServicePermissions/AllowedPrincipals": true,
	"AWS::EC2::VPCEndpointService/SupportedRegions":             true,
	"AWS::IAM::Role/AssumeRolePolicyDocument":                   true,
	// The revocation handler runs whenever the allowed accounts change.
	"Custom::ObslinkRevokeEndpointConnections/AllowedAccounts": true,
	// The consumer table the proxies read (never their launch template:
	// a new consumer does not replace the fleet).
	"AWS::SSM::Parameter/Value": true,
}

// TestStableIDs adds a consumer in a new account and a new region with its
// provider, and checks that every resource of every existing stack keeps its
// logical id, type and properties, except the ones listed in mayChange.
func TestStableIDs(t *testing.T) {
	base := string(topology.DefaultYAML())
	grown := base + `
  - name: newcomer
    account: "444444444444"
    region: us-east-1
    vpc:
      cidr: 10.9.0.0/16
      availabilityZones: [us-east-1a, us-east-1b]
  - name: faraway
    account: "555555555555"
    region: sa-east-1
    vpc:
      cidr: 10.8.0.0/16
      availabilityZones: [sa-east-1a, sa-east-1b]
`
	grown = strings.Replace(grown, "\nproxy:", `
  - region: sa-east-1
    cidr: 10.100.3.0/24
    availabilityZones: [sa-east-1a, sa-east-1b, sa-east-1c]

proxy:`, 1)
	t1, err := topology.Parse("base", []byte(base))
	require.NoError(t, err)
	t2, err := topology.Parse("grown", []byte(grown))
	require.NoError(t, err)
	before, after := synth(t, t1), synth(t, t2)

	assert.Contains(t, after.Stacks(), "obslink-consumer-newcomer")
	assert.Contains(t, after.Stacks(), "obslink-provider-sa-east-1")
	changed := 0
	for stack := range before.Stacks() {
		old, cur := before.Template(t, stack), after.Template(t, stack)
		for id, r := range old.Resources {
			n, ok := cur.Resources[id]
			if !assert.True(t, ok, "%s: resource %s (%s) was renamed or removed", stack, id, r.Type) {
				continue
			}
			assert.Equal(t, r.Type, n.Type, "%s/%s", stack, id)
			for _, prop := range keys(union(r.Properties, n.Properties)) {
				if mayChange[r.Type+"/"+prop] {
					if fmt.Sprint(r.Properties[prop]) != fmt.Sprint(n.Properties[prop]) {
						changed++
					}
					continue
				}
				assert.Equal(t, r.Properties[prop], n.Properties[prop], "%s/%s (%s).%s changed", stack, id, r.Type, prop)
			}
		}
	}
	assert.Positive(t, changed, "the new consumer's account must be allowed somewhere")
}

func union(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// TestSynthPrintsNoWarning synthesizes the default topology and every
// example and finds no warning in the cloud assembly: the CDK CLI prints each
// one on every synth (a cdk-nag rule that cannot read a token warns, for one).
func TestSynthPrintsNoWarning(t *testing.T) {
	for _, nt := range allTopologies(t) {
		a := nt.synth(t)
		files, err := filepath.Glob(filepath.Join(a.Dir, "*.metadata.json"))
		require.NoError(t, err)
		require.NotEmpty(t, files)
		for _, f := range files {
			var meta map[string][]struct {
				Type string `json:"type"`
				Data any    `json:"data"`
			}
			readJSON(t, f, &meta)
			for path, entries := range meta {
				for _, e := range entries {
					assert.NotEqual(t, "aws:cdk:warning", e.Type, "%s: %v", path, e.Data)
				}
			}
		}
	}
}

// TestFeatureFlagsConfigured reads the feature-flag report of a synthesized
// assembly the way the CDK CLI does before it prints "N feature flags are
// not configured": no flag may be left unset where its unset behaviour
// differs from the recommended value.
func TestFeatureFlagsConfigured(t *testing.T) {
	a := synthDefault(t)
	var m struct {
		Artifacts map[string]struct {
			Type       string `json:"type"`
			Properties struct {
				Flags map[string]struct {
					UserValue               any            `json:"userValue"`
					RecommendedValue        any            `json:"recommendedValue"`
					UnconfiguredBehavesLike map[string]any `json:"unconfiguredBehavesLike"`
				} `json:"flags"`
			} `json:"properties"`
		} `json:"artifacts"`
	}
	readJSON(t, filepath.Join(a.Dir, "manifest.json"), &m)
	reports := 0
	for _, art := range m.Artifacts {
		if art.Type != "cdk:feature-flag-report" {
			continue
		}
		reports++
		require.NotEmpty(t, art.Properties.Flags)
		for name, f := range art.Properties.Flags {
			if f.UserValue != nil {
				continue
			}
			var unset any = false
			if v, ok := f.UnconfiguredBehavesLike["v2"]; ok {
				unset = v
			}
			assert.Equal(t, f.RecommendedValue, unset, "%s is not configured and behaves unlike its recommended value", name)
		}
	}
	assert.Equal(t, 1, reports, "one feature-flag report")
}

// stackSetBodies returns the TemplateBody of each StackSet in the template
// file f, by logical id.
func stackSetBodies(t *testing.T, f string) map[string]string {
	b, err := os.ReadFile(f)
	require.NoError(t, err)
	var tpl struct {
		Resources map[string]struct {
			Type       string
			Properties map[string]any
		}
	}
	require.NoError(t, json.Unmarshal(b, &tpl))
	out := map[string]string{}
	for id, r := range tpl.Resources {
		if r.Type == "AWS::CloudFormation::StackSet" {
			out[id] = r.Properties["TemplateBody"].(string)
		}
	}
	return out
}
