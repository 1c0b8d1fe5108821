package test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/constructs/stackset"
	"github.com/obslink/obslink/topology"
)

// TestStackSetConsumers synthesizes examples/stacksets.yaml: no consumer
// stacks, the named consumers' StackSet in the administrator's account and
// the main region, service-managed, one stack instance group per region
// (its accounts within the organization root), the provider
// regions' service names as StackSet parameters read from the provider
// stacks, and a consumer template that is plain CloudFormation.
func TestStackSetConsumers(t *testing.T) {
	topo, err := topology.Load("../examples/stacksets.yaml")
	require.NoError(t, err)
	a := synth(t, topo)
	stacks := a.Stacks()
	for name := range stacks {
		assert.NotContains(t, name, "-consumer-", "no stack per consumer")
	}
	art, ok := stacks["obsset-consumers"]
	require.True(t, ok, "the StackSet stack")
	assert.Equal(t, "aws://444444444444/eu-west-1", art.Environment, "in the StackSet administrator's account, main region")
	assert.Subset(t, art.Dependencies, []string{"obsset-provider-eu-west-1", "obsset-provider-us-east-1"})

	sets := a.Template(t, "obsset-consumers").Of("AWS::CloudFormation::StackSet")
	require.Len(t, sets, 2, "named consumers, and consumer groups")
	byName := map[string]map[string]any{}
	for _, r := range sets {
		byName[r.Properties["StackSetName"].(string)] = r.Properties
	}
	p := byName["obsset-consumers"]
	require.NotNil(t, p)
	assert.Equal(t, "SERVICE_MANAGED", p["PermissionModel"])
	assert.Equal(t, "DELEGATED_ADMIN", p["CallAs"])
	assert.Equal(t, map[string]any{"Enabled": false}, p["AutoDeployment"], "named accounts only: nothing deploys to accounts that join the root")
	assert.Equal(t, map[string]any{"RegionConcurrencyType": "PARALLEL", "ConcurrencyMode": "SOFT_FAILURE_TOLERANCE", "MaxConcurrentPercentage": 25.0, "FailureTolerancePercentage": 10.0}, p["OperationPreferences"])

	// One group per region: its named accounts within the organization root,
	// no overrides (the StackSet resource takes one parameter set per OU).
	var got []string
	for _, g := range p["StackInstancesGroup"].([]any) {
		g := g.(map[string]any)
		dt := g["DeploymentTargets"].(map[string]any)
		assert.Equal(t, []any{"r-a1b2"}, dt["OrganizationalUnitIds"], "accounts are targeted within the organization root")
		assert.Equal(t, "INTERSECTION", dt["AccountFilterType"])
		assert.NotContains(t, g, "ParameterOverrides")
		got = append(got, js(dt["Accounts"])+" "+js(g["Regions"]))
	}
	assert.Equal(t, []string{`["222222222222"] ["eu-west-1"]`, `["333333333333"] ["us-east-1"]`}, got)

	// Each provider's service name, read through its output-reader role.
	params := map[string]string{}
	for _, pp := range p["Parameters"].([]any) {
		pp := pp.(map[string]any)
		params[pp["ParameterKey"].(string)] = js(pp["ParameterValue"])
	}
	require.Len(t, params, 5, "two service names, and the VPC's three SSM names")
	assert.Equal(t, `"/obslink/vpc-id"`, params["VpcId"], "named accounts read the default names")
	for key, region := range map[string]string{"ServiceNameEuWest1": "eu-west-1", "ServiceNameUsEast1": "us-east-1"} {
		assert.Contains(t, params[key], `"com.amazonaws.vpce.`+region+`."`)
		assert.Contains(t, params[key], `"Fn::GetStackOutput":{"OutputName":"EndpointServiceId","Region":"`+region+`"`)
		assert.Contains(t, params[key], `:iam::111111111111:role/obsset-reader-`+region)
	}

	// The consumer template: plain CloudFormation, under the inline limit.
	body := p["TemplateBody"].(string)
	assert.Less(t, len(body), stackset.MaxTemplateBody)
	var tpl struct {
		Parameters map[string]map[string]any
		Resources  map[string]struct{ Type string }
		Rules      map[string]any
		Conditions map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(body), &tpl))
	assert.Equal(t, "AWS::SSM::Parameter::Value<AWS::EC2::VPC::Id>", tpl.Parameters["VpcId"]["Type"], "the account baseline's VPC")
	assert.Equal(t, "/obslink/vpc-id", tpl.Parameters["VpcId"]["Default"])
	assert.Equal(t, "AWS::SSM::Parameter::Value<List<AWS::EC2::Subnet::Id>>", tpl.Parameters["SubnetIds"]["Type"])
	assert.NotContains(t, tpl.Parameters, "BootstrapVersion", "member accounts have no CDK bootstrap")
	types := map[string]int{}
	for _, r := range tpl.Resources {
		types[r.Type]++
	}
	assert.Equal(t, map[string]int{"AWS::EC2::VPCEndpoint": 1, "AWS::EC2::SecurityGroup": 1, "AWS::Route53::HostedZone": 1, "AWS::Route53::RecordSet": 2}, types,
		"endpoint, security group, zone and one record per service; no assets, no metadata resource")
	assert.Contains(t, body, `"SubnetIds":{"Ref":"SubnetIds"}`, "the endpoint takes the instance's subnets")
	assert.Contains(t, body, `"ServiceName":{"Fn::If":["InEuWest1",{"Ref":"ServiceNameEuWest1"},{"Ref":"ServiceNameUsEast1"}]}`)
	assert.Contains(t, js(tpl.Rules), `"Fn::Contains":[["eu-west-1","us-east-1"],{"Ref":"AWS::Region"}]`, "a region without a provider fails at once")
	for _, asset := range []string{"cdk-hnb659fds", "AssetParameters", "S3Key"} {
		assert.NotContains(t, body, asset)
	}
}

// TestStackSetNativeTemplate: in native mode every instance uses the main
// region's service, across regions except in the main region itself.
func TestStackSetNativeTemplate(t *testing.T) {
	b, err := os.ReadFile("../examples/stacksets.yaml")
	require.NoError(t, err)
	raw := string(b)
	raw = strings.Replace(raw, "interRegion: peering", "interRegion: native", 1)
	raw = strings.Replace(raw, "  - region: us-east-1\n    cidr: 10.100.1.0/24\n    availabilityZones: [us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1e, us-east-1f]\n", "", 1)
	topo, err := topology.Parse("native-stacksets.yaml", []byte(raw))
	require.NoError(t, err)
	a := synth(t, topo)
	var body string
	for _, r := range a.Template(t, "obsset-consumers").Of("AWS::CloudFormation::StackSet") {
		body = r.Properties["TemplateBody"].(string)
	}
	assert.Contains(t, body, `"ServiceName":{"Ref":"ServiceNameEuWest1"}`)
	assert.Contains(t, body, `"ServiceRegion":{"Fn::If":["InMainRegion",{"Ref":"AWS::NoValue"},"eu-west-1"]}`)
	assert.Contains(t, body, `"Fn::Contains":[["eu-west-1","us-east-1"]`, "consumers' regions are served across regions")
}

// TestStackSetConsumerGroups: the OU group of examples/stacksets.yaml is a
// StackSet of its own with automatic deployment, targeting the OUs in the
// group's regions, with the SSM parameter names as the StackSet's own
// parameters (what automatic deployment gives accounts that join later), no
// overrides; the role through which the providers' admission functions read the
// organization trusts those functions' roles only.
func TestStackSetConsumerGroups(t *testing.T) {
	topo, err := topology.Load("../examples/stacksets.yaml")
	require.NoError(t, err)
	a := synth(t, topo)
	tpl := a.Template(t, "obsset-consumers")
	var p map[string]any
	for _, r := range tpl.Of("AWS::CloudFormation::StackSet") {
		if r.Properties["StackSetName"] == "obsset-consumer-groups" {
			p = r.Properties
		}
	}
	require.NotNil(t, p)
	assert.Equal(t, map[string]any{"Enabled": true, "RetainStacksOnAccountRemoval": false}, p["AutoDeployment"],
		"an account that joins the OU is connected, one that leaves it disconnected, with no change to the file")
	groups := p["StackInstancesGroup"].([]any)
	require.Len(t, groups, 1)
	g := groups[0].(map[string]any)
	assert.Equal(t, map[string]any{"OrganizationalUnitIds": []any{"ou-a1b2-c3d4e5f6"}}, g["DeploymentTargets"])
	assert.Equal(t, []any{"eu-west-1", "us-east-1"}, g["Regions"])
	assert.NotContains(t, g, "ParameterOverrides", "overrides never reach accounts that join later")
	params := parameterList(p["Parameters"])
	assert.Equal(t, []string{"/obslink/vpc-id", "/obslink/subnet-ids", "/obslink/vpc-cidr"}, []string{params["VpcId"], params["SubnetIds"], params["VpcCidr"]})
	roles := tpl.Of("AWS::IAM::Role")
	require.Len(t, roles, 1)
	for _, r := range roles {
		assert.Equal(t, "obsset-org-reader", r.Properties["RoleName"])
		trust := js(r.Properties["AssumeRolePolicyDocument"])
		for _, region := range []string{"eu-west-1", "us-east-1"} {
			assert.Contains(t, trust, ":iam::111111111111:role/obsset-admit-"+region, "by aws:PrincipalArn, which survives a re-created role")
		}
		assert.Contains(t, trust, `"ArnEquals"`)
		assert.NotContains(t, trust, `"AWS":"*"`)
	}
}
