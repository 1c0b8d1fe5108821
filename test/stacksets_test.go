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
// stacks, one StackSet in the administrator's account and the main region,
// service-managed, one stack instance per named consumer (its account within
// the organization root, its region, its VPC as overrides), the provider
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
	assert.Equal(t, map[string]any{"RegionConcurrencyType": "PARALLEL", "MaxConcurrentPercentage": 25.0, "FailureTolerancePercentage": 10.0}, p["OperationPreferences"])

	// Targets, regions and overrides, per consumer.
	type group struct{ accounts, regions, overrides string }
	var got []group
	for _, g := range p["StackInstancesGroup"].([]any) {
		g := g.(map[string]any)
		dt := g["DeploymentTargets"].(map[string]any)
		assert.Equal(t, []any{"r-a1b2"}, dt["OrganizationalUnitIds"], "accounts are targeted within the organization root")
		assert.Equal(t, "INTERSECTION", dt["AccountFilterType"])
		overrides := map[string]any{}
		for _, o := range g["ParameterOverrides"].([]any) {
			o := o.(map[string]any)
			overrides[o["ParameterKey"].(string)] = o["ParameterValue"]
		}
		b, _ := json.Marshal(overrides)
		got = append(got, group{js(dt["Accounts"]), js(g["Regions"]), string(b)})
	}
	assert.Equal(t, []group{
		{`["222222222222"]`, `["eu-west-1"]`, `{"SubnetIds":"subnet-0b1c2d3e4f5a60718,subnet-0b1c2d3e4f5a60719","VpcCidr":"10.20.0.0/16","VpcId":"vpc-0b1c2d3e4f5a60718"}`},
		{`["333333333333"]`, `["us-east-1"]`, `{"SubnetIds":"subnet-0c1d2e3f4a5b60718,subnet-0c1d2e3f4a5b60719","VpcCidr":"10.30.0.0/16","VpcId":"vpc-0c1d2e3f4a5b60718"}`},
	}, got)

	// Each provider's service name, read through its output-reader role.
	params := map[string]string{}
	for _, pp := range p["Parameters"].([]any) {
		pp := pp.(map[string]any)
		params[pp["ParameterKey"].(string)] = js(pp["ParameterValue"])
	}
	require.Len(t, params, 2)
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
	assert.Equal(t, "AWS::EC2::VPC::Id", tpl.Parameters["VpcId"]["Type"])
	assert.Equal(t, "List<AWS::EC2::Subnet::Id>", tpl.Parameters["SubnetIds"]["Type"])
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
// group's regions, whose template reads each account's VPC from SSM; the
// role through which the providers' admission functions read the
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
	assert.Equal(t, `[{"ParameterKey":"SubnetIds","ParameterValue":"/obslink/subnet-ids"},{"ParameterKey":"VpcCidr","ParameterValue":"/obslink/vpc-cidr"},{"ParameterKey":"VpcId","ParameterValue":"/obslink/vpc-id"}]`, js(g["ParameterOverrides"]))
	var body struct{ Parameters map[string]map[string]any }
	require.NoError(t, json.Unmarshal([]byte(p["TemplateBody"].(string)), &body))
	assert.Equal(t, "AWS::SSM::Parameter::Value<AWS::EC2::VPC::Id>", body.Parameters["VpcId"]["Type"])
	assert.Equal(t, "AWS::SSM::Parameter::Value<List<AWS::EC2::Subnet::Id>>", body.Parameters["SubnetIds"]["Type"])
	assert.Equal(t, "/obslink/vpc-cidr", body.Parameters["VpcCidr"]["Default"])

	roles := tpl.Of("AWS::IAM::Role")
	require.Len(t, roles, 1)
	for _, r := range roles {
		assert.Equal(t, "obsset-org-reader", r.Properties["RoleName"])
		trust := js(r.Properties["AssumeRolePolicyDocument"])
		for _, region := range []string{"eu-west-1", "us-east-1"} {
			assert.Contains(t, trust, ":iam::111111111111:role/obsset-admit-"+region)
		}
		assert.NotContains(t, trust, `"AWS":"*"`)
	}
}
