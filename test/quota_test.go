package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/internal/scale"
	"github.com/obslink/obslink/topology"
)

// CloudFormation and IAM quotas a deploy runs into, checked on synthesized
// templates (CloudFormation quotas page; IAM and STS quotas page).
const (
	maxTemplateBytes   = 1024 * 1024 // template body uploaded to S3, as the CDK deploys it
	maxResources       = 500
	maxOutputs         = 200
	maxParameters      = 200
	maxInlinePolicies  = 10240 // all inline policies of one role, characters without whitespace
	orgScaleConsumers  = 300
	orgScaleOrgID      = "o-a1b2c3d4e5"
	orgScaleMainRegion = "eu-west-1"
)

var orgScaleRegions = []string{"eu-west-1", "us-east-1", "ap-southeast-1", "us-west-2"}

// orgScaleTopology is n consumers, each in its own account, spread over four
// regions; in peering mode each region has a provider, in native mode the
// main region serves all. org is the organizationId, or "".
func orgScaleTopology(mode topology.InterRegion, n int, org string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `name: orgscale
interRegion: %s
controlPlane:
  account: "100000000000"
  region: %s
`, mode, orgScaleMainRegion)
	if org != "" {
		fmt.Fprintf(&b, "  organizationId: %s\n", org)
	}
	b.WriteString(`  vpc: {id: vpc-0a1b2c3d4e5f60718, cidr: 10.0.0.0/16, routeTableIds: [rtb-0a1b2c3d4e5f60718], albSecurityGroupIds: [sg-0a1b2c3d4e5f60718]}
services:
  - {name: metrics, upstream: internal-metrics.eu-west-1.elb.amazonaws.com}
  - {name: logs, upstream: internal-logs.eu-west-1.elb.amazonaws.com}
  - {name: traces, upstream: internal-traces.eu-west-1.elb.amazonaws.com, protocol: grpc, upstreamPort: 443, upstreamTls: true}
regions:
`)
	for i, r := range orgScaleRegions {
		if mode == topology.Native && r != orgScaleMainRegion {
			continue
		}
		fmt.Fprintf(&b, "  - {region: %s, cidr: 10.100.%d.0/24, availabilityZones: [%sa, %sb, %sc]}\n", r, i, r, r, r)
	}
	b.WriteString("consumers:\n")
	for i := 0; i < n; i++ {
		r := orgScaleRegions[i%len(orgScaleRegions)]
		fmt.Fprintf(&b, "  - {name: c%03d, account: \"%012d\", region: %s, vpc: {cidr: 10.%d.0.0/16, availabilityZones: [%sa, %sb]}}\n",
			i, 200000000000+i, r, 1+i%250, r, r)
	}
	return b.String()
}

// minifiedLen is the length of v as JSON without whitespace: what IAM counts.
func minifiedLen(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return len(b)
}

// checkQuotas reports every template and role of an assembly that passes a
// quota, and returns the largest trust policy seen.
func checkQuotas(t *testing.T, a Assembly) (maxTrust int) {
	t.Helper()
	tpls := templates(t, a)
	require.NotEmpty(t, tpls)
	for name, tpl := range tpls {
		assert.LessOrEqual(t, tpl.Size, maxTemplateBytes, "%s: template bytes", name)
		assert.LessOrEqual(t, len(tpl.Resources), maxResources, "%s: resources", name)
		assert.LessOrEqual(t, len(tpl.Outputs), maxOutputs, "%s: outputs", name)
		assert.LessOrEqual(t, len(tpl.Parameters), maxParameters, "%s: parameters", name)
		for id, role := range tpl.Roles() {
			n := minifiedLen(role.Trust)
			maxTrust = max(maxTrust, n)
			assert.LessOrEqual(t, n, topology.TrustPolicyQuota, "%s/%s: trust policy characters", name, id)
			inline := 0
			for _, p := range role.Policies {
				inline += minifiedLen(p)
			}
			assert.LessOrEqual(t, inline, maxInlinePolicies, "%s/%s: inline policy characters", name, id)
		}
	}
	return maxTrust
}

// TestQuotasAtOrganizationScale synthesizes 300 consumers in 300 accounts
// over four regions, in peering and in native mode (where every consumer
// reads the one provider), and checks every template and role against
// CloudFormation's and IAM's quotas.
func TestQuotasAtOrganizationScale(t *testing.T) {
	if testing.Short() {
		t.Skip("synthesizes 600 stacks")
	}
	for _, mode := range []topology.InterRegion{topology.Peering, topology.Native} {
		t.Run(string(mode), func(t *testing.T) {
			topo, err := topology.Parse(string(mode)+".yaml", []byte(orgScaleTopology(mode, orgScaleConsumers, orgScaleOrgID)))
			require.NoError(t, err)
			a := synth(t, topo)
			assert.Len(t, a.Stacks(), orgScaleConsumers+1+len(topo.Regions), "consumers, control plane and providers")
			maxTrust := checkQuotas(t, a)
			t.Logf("%s: %d stacks, largest trust policy %d characters", mode, len(a.Stacks()), maxTrust)
		})
	}
}

// TestOrganizationScaleNeedsOrganizationID shows what the quota gate found on
// the code before organizationId: without it, the same topology's trust
// policies pass IAM's quota, and validation now refuses it with the count
// and the fix, for every provider region at once.
func TestOrganizationScaleNeedsOrganizationID(t *testing.T) {
	for _, tc := range []struct {
		mode  topology.InterRegion
		lines int
	}{{topology.Peering, len(orgScaleRegions)}, {topology.Native, 1}} {
		_, err := topology.Parse("big.yaml", []byte(orgScaleTopology(tc.mode, orgScaleConsumers, "")))
		require.Error(t, err)
		var errs topology.Errors
		require.ErrorAs(t, err, &errs)
		assert.Len(t, errs, tc.lines, "%s: one problem per provider region", tc.mode)
		for _, e := range errs {
			assert.Contains(t, e.Error(), "big.yaml:")
			assert.Contains(t, e.Error(), "controlPlane.organizationId")
			assert.Contains(t, e.Error(), "2048-character quota")
		}
	}
}

// TestReaderTrustModel proves validation's model of CDK's output-reader
// trust policy (topology.ExplicitReaderTrustChars) matches what CDK
// synthesizes, character for character, for the default topology and every
// example without organizationId: the model that refuses a topology is the
// one that would be deployed.
func TestReaderTrustModel(t *testing.T) {
	checked := 0
	for _, nt := range allTopologies(t) {
		f, topo := nt.file, nt.topo
		if topo.ControlPlane.OrganizationID != "" {
			continue
		}
		tpls := templates(t, nt.synth(t))
		for _, r := range topo.Regions {
			name := topo.Name + "-provider-" + r.Region
			tpl := tpls[name]
			require.NotNil(t, tpl, name)
			var synthesized int
			for id, role := range tpl.Roles() {
				if strings.HasPrefix(id, "PublishGetStackOutputRole") {
					synthesized = minifiedLen(role.Trust)
				}
			}
			assert.Equal(t, synthesized, topo.ExplicitReaderTrustChars(r.Region), "%s (%s)", name, filepath.Base(f))
			if synthesized > 0 {
				checked++
			}
		}
	}
	assert.NotZero(t, checked, "some provider has an output-reader role")
}

// TestNoImplicitEgress finds security groups that EC2 creates with its
// default allow-all egress rule: a group whose template lists no
// SecurityGroupEgress has that rule until CloudFormation creates its first
// standalone AWS::EC2::SecurityGroupEgress (which removes it), and again if
// every standalone rule is removed, whatever CDK's allowAllOutbound said.
func TestNoImplicitEgress(t *testing.T) {
	groups := 0
	for _, nt := range allTopologies(t) {
		f := nt.file
		for name, tpl := range templates(t, nt.synth(t)) {
			for id, r := range tpl.Resources {
				if r.Type != "AWS::EC2::SecurityGroup" {
					continue
				}
				groups++
				assert.NotEmpty(t, r.Properties["SecurityGroupEgress"], "%s/%s (%s) lists no egress: EC2 adds allow-all to 0.0.0.0/0", name, id, filepath.Base(f))
			}
		}
	}
	assert.NotZero(t, groups)
}

// TestNoLogGroupLambdaCreatesItself: Lambda creates /aws/lambda/<function>
// the first time a function runs, so a template that adds a log group of
// that name for a function already deployed fails its update with "already
// exists" (aws-cdk-lib's useCdkManagedLogGroup flag does this). obslink's
// functions name their log groups themselves.
func TestNoLogGroupLambdaCreatesItself(t *testing.T) {
	checked := 0
	for _, nt := range allTopologies(t) {
		for name, tpl := range templates(t, nt.synth(t)) {
			for id, r := range tpl.Resources {
				if r.Type != "AWS::Logs::LogGroup" || r.Properties["LogGroupName"] == nil {
					continue
				}
				checked++
				assert.False(t, strings.HasPrefix(tpl.ResolveString(r.Properties["LogGroupName"]), "/aws/lambda/"),
					"%s/%s names Lambda's own log group", name, id)
			}
		}
	}
	t.Logf("%d named log groups checked", checked)
}

// TestStackSetScale synthesizes 1,000 named consumer accounts and ten OU
// groups over six regions as StackSets, and checks every template (the
// StackSets' inline templates too) against CloudFormation's quotas, and
// each stack instance group's parameter overrides against the template's.
// (make bench times the same topology: internal/scale.)
func TestStackSetScale(t *testing.T) {
	if testing.Short() {
		t.Skip("synthesizes 1,000 stack instance groups")
	}
	text := scale.StackSets(1000, 10)
	topo, err := topology.Parse("setscale.yaml", []byte(text))
	require.NoError(t, err)
	a := synth(t, topo)
	assert.Len(t, a.Stacks(), 1+1+len(scale.Regions), "StackSets, control plane and providers: no stack per consumer")
	checkQuotas(t, a)
	groups := 0
	for _, r := range a.Template(t, "setscale-consumers").Of("AWS::CloudFormation::StackSet") {
		body := r.Properties["TemplateBody"].(string)
		assert.Less(t, len(body), 51200, "inline template body")
		var tpl struct{ Parameters map[string]any }
		require.NoError(t, json.Unmarshal([]byte(body), &tpl))
		assert.LessOrEqual(t, len(tpl.Parameters), maxParameters)
		for _, g := range r.Properties["StackInstancesGroup"].([]any) {
			groups++
			overrides, _ := g.(map[string]any)["ParameterOverrides"].([]any)
			assert.LessOrEqual(t, len(overrides), len(tpl.Parameters))
		}
		t.Logf("%s: template %d bytes, %d parameters", r.Properties["StackSetName"], len(body), len(tpl.Parameters))
	}
	assert.Equal(t, len(scale.Regions)+10, groups, "one stack instance group per region of the named consumers and per consumer group")
	b, err := os.ReadFile(filepath.Join(a.Dir, "setscale-consumers.template.json"))
	require.NoError(t, err)
	t.Logf("setscale-consumers: %d bytes of %d", len(b), maxTemplateBytes)
}
