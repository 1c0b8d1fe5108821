package providerregion_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/assets"
	"github.com/obslink/obslink/constructs/constructstest"
	"github.com/obslink/obslink/constructs/providerregion"
	"github.com/obslink/obslink/constructs/proxyfleet"
	"github.com/obslink/obslink/internal/nginxtest"
)

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

var routes = &[]*proxyfleet.Route{
	{Name: jsii.String("metrics"), Host: jsii.String("metrics.observability.internal"), Port: jsii.Number(80), Upstream: jsii.String("m.elb.amazonaws.com"), UpstreamPort: jsii.Number(80)},
	{Name: jsii.String("logs"), Host: jsii.String("logs.observability.internal"), Port: jsii.Number(80), Upstream: jsii.String("l.elb.amazonaws.com"), UpstreamPort: jsii.Number(80)},
	{Name: jsii.String("traces"), Host: jsii.String("traces.observability.internal"), Port: jsii.Number(4317), Upstream: jsii.String("t.elb.amazonaws.com"), UpstreamPort: jsii.Number(4317), GRPC: jsii.Bool(true)},
}

func newRegion(t *testing.T, props providerregion.Props) (*providerregion.ProviderRegion, constructstest.Template) {
	t.Helper()
	stack := constructstest.Stack("111111111111", "eu-west-1")
	if props.Cidr == nil {
		props.Cidr = jsii.String("10.100.0.0/24")
		props.AvailabilityZones = jsii.Strings("eu-west-1a", "eu-west-1b", "eu-west-1c")
	}
	if props.Routes == nil {
		props.Routes = routes
	}
	props.UpstreamCidrs = jsii.Strings("10.0.0.0/16")
	r := providerregion.New(stack, jsii.String("Provider"), &props)
	return r, constructstest.Synth(t, stack)
}

func TestEndpointServicePrincipalsAreExactlyTheAccounts(t *testing.T) {
	_, tpl := newRegion(t, providerregion.Props{AllowedAccounts: jsii.Strings("333333333333", "222222222222")})
	perms := tpl.Props(t, "AWS::EC2::VPCEndpointServicePermissions")
	b, _ := json.Marshal(perms["AllowedPrincipals"])
	assert.JSONEq(t, `[
		{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::222222222222:root"]]},
		{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::333333333333:root"]]}
	]`, string(b), "sorted, one per account, nothing else")

	svc := tpl.Props(t, "AWS::EC2::VPCEndpointService")
	assert.Equal(t, false, svc["AcceptanceRequired"])
	assert.NotContains(t, svc, "SupportedRegions", "same-region service by default")
}

func TestSupportedRegionsForNativeCrossRegion(t *testing.T) {
	r, tpl := newRegion(t, providerregion.Props{AllowedAccounts: jsii.Strings("222222222222"), SupportedRegions: jsii.Strings("us-east-1", "ap-southeast-1")})
	svc := tpl.Props(t, "AWS::EC2::VPCEndpointService")
	assert.Equal(t, []any{"ap-southeast-1", "us-east-1"}, svc["SupportedRegions"])
	assert.Equal(t, []string{"ap-southeast-1", "us-east-1"}, r.SupportedRegions())
}

func TestLoadBalancerInEveryZoneCrossZoneNoPrivateLinkDrop(t *testing.T) {
	_, tpl := newRegion(t, providerregion.Props{})
	lb := tpl.Props(t, "AWS::ElasticLoadBalancingV2::LoadBalancer")
	assert.Equal(t, "network", lb["Type"])
	assert.Equal(t, "internal", lb["Scheme"])
	assert.Len(t, lb["Subnets"], 3, "one subnet in each of the 3 zones")
	assert.Equal(t, "off", lb["EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"],
		"with 'on', the NLB's group would silently drop PrivateLink traffic (aws-cdk#29516)")
	attrs, _ := json.Marshal(lb["LoadBalancerAttributes"])
	assert.Contains(t, string(attrs), `{"Key":"load_balancing.cross_zone.enabled","Value":"true"}`)

	constructstest.Check(t, "one TCP listener per distinct port", func() {
		tpl.ResourceCountIs(jsii.String("AWS::ElasticLoadBalancingV2::Listener"), jsii.Number(2))
		for _, port := range []float64{80, 4317} {
			tpl.HasResourceProperties(jsii.String("AWS::ElasticLoadBalancingV2::Listener"), map[string]any{"Port": port, "Protocol": "TCP"})
		}
	})

	// The NLB's own group admits nothing: PrivateLink traffic bypasses it, and
	// nothing in the provider VPC may reach the NLB.
	for _, sg := range tpl.Resources("AWS::EC2::SecurityGroup") {
		p := sg["Properties"].(map[string]any)
		if p["GroupDescription"] == "obslink NLB: PrivateLink traffic only, out to the proxies only" {
			assert.Nil(t, p["SecurityGroupIngress"])
		}
	}
}

func TestProviderVpcHasNoInternetPath(t *testing.T) {
	_, tpl := newRegion(t, providerregion.Props{})
	for _, typ := range []string{"AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::EgressOnlyInternetGateway"} {
		assert.Empty(t, tpl.Resources(typ), typ)
	}
	constructstest.Check(t, "flow logs", func() {
		tpl.HasResourceProperties(jsii.String("AWS::EC2::FlowLog"), map[string]any{"TrafficType": "ALL", "ResourceType": "VPC"})
	})
	constructstest.Check(t, "session manager and S3 endpoints", func() {
		tpl.ResourceCountIs(jsii.String("AWS::EC2::VPCEndpoint"), jsii.Number(6)) // S3, three for Session Manager, CloudWatch Logs, CloudFormation
		tpl.HasResourceProperties(jsii.String("AWS::EC2::VPCEndpoint"), map[string]any{"VpcEndpointType": "Gateway", "ServiceName": assertions.Match_AnyValue()})
	})
	// With proxy protocol the proxies list endpoint connections: an EC2 endpoint too.
	_, pp := newRegion(t, providerregion.Props{Fleet: &proxyfleet.Props{ProxyProtocol: jsii.Bool(true)}})
	constructstest.Check(t, "an EC2 endpoint with proxy protocol", func() {
		pp.ResourceCountIs(jsii.String("AWS::EC2::VPCEndpoint"), jsii.Number(7))
	})
	for _, tg := range tpl.Resources("AWS::ElasticLoadBalancingV2::TargetGroup") {
		// Explicitly off: CloudFormation does not reset an attribute left out.
		assert.Contains(t, fmt.Sprint(tg["Properties"]), "map[Key:proxy_protocol_v2.enabled Value:false]", "target group attributes")
	}
}

// TestTargetGroupsUseProxyProtocol: every target group of the NLB sends
// proxy protocol v2, which nginx (listening with proxy_protocol) expects.
func TestTargetGroupsUseProxyProtocol(t *testing.T) {
	r, tpl := newRegion(t, providerregion.Props{Fleet: &proxyfleet.Props{ProxyProtocol: jsii.Bool(true)}})
	tgs := tpl.Resources("AWS::ElasticLoadBalancingV2::TargetGroup")
	require.Len(t, tgs, len(r.ListenerPorts()))
	for id, tg := range tgs {
		attrs := tg["Properties"].(map[string]any)["TargetGroupAttributes"]
		assert.Contains(t, fmt.Sprint(attrs), "map[Key:proxy_protocol_v2.enabled Value:true]", id)
	}
	assert.True(t, r.Fleet().ProxyProtocol())
	assert.Contains(t, r.Fleet().NginxConfig(), " proxy_protocol;")
}

func TestImportedVpc(t *testing.T) {
	stack := constructstest.Stack("111111111111", "eu-west-1")
	vpc := importVpc(stack)
	providerregion.New(stack, jsii.String("Provider"), &providerregion.Props{Vpc: vpc, Routes: routes, UpstreamCidrs: jsii.Strings("10.0.0.0/16"),
		VpcEndpoints: providerregion.EndpointsExternal})
	tpl := constructstest.Synth(t, stack)
	assert.Empty(t, tpl.Resources("AWS::EC2::VPC"), "an imported VPC is not created")
	assert.Empty(t, tpl.Resources("AWS::EC2::VPCEndpoint"), "nor, with EndpointsExternal, are endpoints added to it")
	constructstest.Check(t, "but the proxies may reach S3 (dnf)", func() {
		tpl.HasResourceProperties(jsii.String("AWS::EC2::SecurityGroupEgress"), map[string]any{"FromPort": 443, "DestinationPrefixListId": assertions.Match_AnyValue()})
	})
	lb := tpl.Props(t, "AWS::ElasticLoadBalancingV2::LoadBalancer")
	assert.Equal(t, []any{"subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"}, lb["Subnets"])
}

func TestMisuse(t *testing.T) {
	stack := constructstest.Stack("111111111111", "eu-west-1")
	defer func() {
		r := recover()
		require.NotNil(t, r)
		assert.Equal(t, `providerregion.New("Test/Provider"): props.Routes is empty; give at least one service; `+
			`props.Cidr "10.0.0.0/27" is too small for 3 zones: a subnet per zone would be /29, smaller than /28; use a larger CIDR or fewer zones; `+
			`props.VpcEndpoints "maybe": use EndpointsCreate, EndpointsCheck or EndpointsExternal; `+
			`props.AllowedAccounts[0] "12345" is not a 12-digit account id; give the consumer's account`, r, "every mistake at once, with the path and the field")
	}()
	providerregion.New(stack, jsii.String("Provider"), &providerregion.Props{Cidr: jsii.String("10.0.0.0/27"), AvailabilityZones: jsii.Strings("eu-west-1a", "eu-west-1b", "eu-west-1c"),
		VpcEndpoints: "maybe", AllowedAccounts: jsii.Strings("12345")})
}

// The proxies install nginx from the Amazon Linux repositories in S3: their
// group opens 443 to S3's prefix list only (looked up at deploy time), and
// the first instances boot after that rule and the gateway endpoint exist.
func TestProxiesReachPackagesThroughS3Only(t *testing.T) {
	_, tpl := newRegion(t, providerregion.Props{})
	var toS3 map[string]any
	for id, r := range tpl.Resources("AWS::EC2::SecurityGroupEgress") {
		if strings.HasPrefix(id, "ProviderFleetToS3") {
			toS3 = r["Properties"].(map[string]any)
		}
	}
	require.NotNil(t, toS3)
	b, _ := json.Marshal(toS3)
	assert.Contains(t, string(b), `"DestinationPrefixListId":{"Fn::GetAtt":["ProviderS3PrefixList`)
	assert.EqualValues(t, 443, toS3["FromPort"])
	var lookup map[string]any
	for id, r := range tpl.Resources("Custom::AWS") {
		if strings.HasPrefix(id, "ProviderS3PrefixList") {
			lookup = r["Properties"].(map[string]any)
		}
	}
	require.NotNil(t, lookup)
	assert.Contains(t, lookup["Create"], `"action":"describeManagedPrefixLists"`)
	assert.Contains(t, lookup["Create"], `com.amazonaws.eu-west-1.s3`)
	for _, asg := range tpl.Resources("AWS::AutoScaling::AutoScalingGroup") {
		deps, _ := json.Marshal(asg["DependsOn"])
		assert.Contains(t, string(deps), "ProviderFleetToS3")
		assert.Contains(t, string(deps), "ProviderVpcS3")
	}
}

func importVpc(stack awscdk.Stack) awsec2.IVpc {
	return awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Imported"), &awsec2.VpcAttributes{
		VpcId:                      jsii.String("vpc-0123456789abcdef0"),
		VpcCidrBlock:               jsii.String("10.100.0.0/24"),
		AvailabilityZones:          jsii.Strings("eu-west-1a", "eu-west-1b"),
		PrivateSubnetIds:           jsii.Strings("subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"),
		PrivateSubnetRouteTableIds: jsii.Strings("rtb-0aaaaaaaaaaaaaaa1", "rtb-0aaaaaaaaaaaaaaa2"),
	})
}

// TestRevokesConnectionsOfRemovedAccounts: the provider runs the handler that
// rejects endpoint connections of accounts no longer allowed, with the
// allowed accounts as its properties (so every change of them runs it), after
// the service's permissions are updated, allowed to reject on this service only.
func TestRevokesConnectionsOfRemovedAccounts(t *testing.T) {
	_, tpl := newRegion(t, providerregion.Props{AllowedAccounts: jsii.Strings("333333333333", "222222222222")})
	revoke := tpl.Resources("Custom::ObslinkRevokeEndpointConnections")
	require.Len(t, revoke, 1)
	for _, r := range revoke {
		props := r["Properties"].(map[string]any)
		assert.Equal(t, []any{"222222222222", "333333333333"}, props["AllowedAccounts"])
		assert.Contains(t, js(props["ServiceId"]), `"Ref":"ProviderEndpointService`)
		assert.Contains(t, js(r["DependsOn"]), "ProviderEndpointServicePermissions", "runs after the permissions change")
	}
	var rejects string
	for _, p := range tpl.Resources("AWS::IAM::Policy") {
		if doc := js(p["Properties"].(map[string]any)["PolicyDocument"]); strings.Contains(doc, "RejectVpcEndpointConnections") {
			rejects = doc
		}
	}
	assert.Contains(t, rejects, `:vpc-endpoint-service/",{"Ref":"ProviderEndpointService`)
	fn := tpl.Resources("AWS::Lambda::Function")
	code := ""
	for _, f := range fn {
		if z, ok := f["Properties"].(map[string]any)["Code"].(map[string]any)["ZipFile"].(string); ok && strings.Contains(z, "revoke") {
			code = z
		}
	}
	want, err := assets.FS.ReadFile("endpoints/revoke_connections.py")
	require.NoError(t, err)
	assert.Equal(t, string(want), code, "the function runs the handler tested against moto")
}

// TestRevokeHandlerAgainstMoto runs assets/endpoints/test_revoke_connections.py:
// consumers in two accounts connect to an endpoint service, the handler
// rejects the one whose account left the allowed list (and any stranger) and
// leaves the others, against moto's EC2 API.
func TestRevokeHandlerAgainstMoto(t *testing.T) {
	nginxtest.PythonUnittest(t, "../../assets/endpoints", "test_revoke_connections")
}

// TestPermissionsStayWithoutConsumers: with no allowed account the service
// keeps a permissions resource (empty, same logical id), so when a region's
// last consumer leaves the permissions are emptied before the revocation
// runs, not deleted after it.
func TestPermissionsStayWithoutConsumers(t *testing.T) {
	_, tpl := newRegion(t, providerregion.Props{})
	perms := tpl.Resources("AWS::EC2::VPCEndpointServicePermissions")
	require.Len(t, perms, 1)
	var id string
	for k, p := range perms {
		id = k
		assert.Equal(t, []any{}, p["Properties"].(map[string]any)["AllowedPrincipals"])
	}
	_, with := newRegion(t, providerregion.Props{AllowedAccounts: jsii.Strings("222222222222")})
	assert.Contains(t, with.Resources("AWS::EC2::VPCEndpointServicePermissions"), id, "the same logical id with and without consumers")
	for _, r := range tpl.Resources("Custom::ObslinkRevokeEndpointConnections") {
		assert.Contains(t, js(r["DependsOn"]), id)
	}
}

// TestAdmitHandlerAgainstMoto runs assets/endpoints/test_admit_connections.py:
// against moto's EC2, STS and Organizations APIs, the admission handler
// accepts the connections of accounts under the OUs (nested too) and of
// named accounts, and rejects another OU's, an outsider's and an account
// that left.
func TestAdmitHandlerAgainstMoto(t *testing.T) {
	nginxtest.PythonUnittest(t, "../../assets/endpoints", "test_admit_connections")
}

// TestAdmissionByOU: with Admission, the service allows "*" with acceptance
// required, notifies an SNS topic on Connect, and the admission function
// (inline, its named role) runs on deploy with the settings it also has in
// its environment; the revocation resource leaves admission to it.
func TestAdmissionByOU(t *testing.T) {
	_, tpl := newRegion(t, providerregion.Props{AllowedAccounts: jsii.Strings("222222222222"), Admission: &providerregion.Admission{
		OrganizationalUnitIDs:     jsii.Strings("ou-ab12-cdefgh34"),
		OrganizationReaderRoleArn: jsii.String("arn:aws:iam::444444444444:role/obs-org-reader"),
		RoleName:                  jsii.String("obs-admit-eu-west-1"),
	}})
	for _, svc := range tpl.Resources("AWS::EC2::VPCEndpointService") {
		assert.Equal(t, true, svc["Properties"].(map[string]any)["AcceptanceRequired"])
	}
	for _, p := range tpl.Resources("AWS::EC2::VPCEndpointServicePermissions") {
		assert.Equal(t, []any{"*"}, p["Properties"].(map[string]any)["AllowedPrincipals"])
	}
	for _, r := range tpl.Resources("Custom::ObslinkRevokeEndpointConnections") {
		assert.Equal(t, []any{"*"}, r["Properties"].(map[string]any)["AllowedAccounts"], "revocation leaves admission to the admission function")
	}
	admit := tpl.Resources("Custom::ObslinkAdmitEndpointConnections")
	require.Len(t, admit, 1)
	for _, r := range admit {
		p := r["Properties"].(map[string]any)
		assert.Equal(t, []any{"222222222222"}, p["AllowedAccounts"])
		assert.Equal(t, []any{"ou-ab12-cdefgh34"}, p["OrganizationalUnitIds"])
	}
	notes := tpl.Resources("AWS::EC2::VPCEndpointConnectionNotification")
	require.Len(t, notes, 1)
	for _, n := range notes {
		assert.Equal(t, []any{"Connect"}, n["Properties"].(map[string]any)["ConnectionEvents"])
	}
	var env string
	for _, f := range tpl.Resources("AWS::Lambda::Function") {
		if strings.Contains(js(f), "admit endpoint connections") || strings.Contains(js(f), "accepts endpoint connections") {
			env = js(f["Properties"].(map[string]any)["Environment"])
		}
	}
	assert.Contains(t, env, `"ALLOWED":"222222222222"`)
	assert.Contains(t, env, `"OUS":"ou-ab12-cdefgh34"`)
	assert.Contains(t, env, `"ORG_ROLE":"arn:aws:iam::444444444444:role/obs-org-reader"`)
	roles := 0
	for _, r := range tpl.Resources("AWS::IAM::Role") {
		if r["Properties"].(map[string]any)["RoleName"] == "obs-admit-eu-west-1" {
			roles++
		}
	}
	assert.Equal(t, 1, roles, "the role the organization reader's trust names")
	rules := tpl.Resources("AWS::Events::Rule")
	require.Len(t, rules, 1)
	for _, r := range rules {
		assert.Equal(t, "rate(15 minutes)", r["Properties"].(map[string]any)["ScheduleExpression"], "departed accounts lose their connection without a new Connect")
	}
	for _, f := range tpl.Resources("AWS::Lambda::Function") {
		if strings.Contains(js(f), "accepts endpoint connections") {
			assert.EqualValues(t, 1, f["Properties"].(map[string]any)["ReservedConcurrentExecutions"], "one run at a time")
		}
	}

	// Named accounts only (StackSets without groups): acceptance still
	// required, the accounts as principals, no Organizations role.
	_, named := newRegion(t, providerregion.Props{AllowedAccounts: jsii.Strings("222222222222"), Admission: &providerregion.Admission{RoleName: jsii.String("obs-admit-eu-west-1")}})
	for _, svc := range named.Resources("AWS::EC2::VPCEndpointService") {
		assert.Equal(t, true, svc["Properties"].(map[string]any)["AcceptanceRequired"])
	}
	assert.NotContains(t, js(named.JSON), `"*"]`, "no wildcard principal")
	for _, f := range named.Resources("AWS::Lambda::Function") {
		assert.NotContains(t, js(f["Properties"].(map[string]any)["Environment"]), "ORG_ROLE", "no Organizations role without OUs")
	}
	topicPolicy := tpl.Resources("AWS::SNS::TopicPolicy")
	require.Len(t, topicPolicy, 1)
	for _, p := range topicPolicy {
		doc := js(p["Properties"])
		assert.Contains(t, doc, `"Service":"vpce.amazonaws.com"`)
		assert.Contains(t, doc, `"aws:SecureTransport":"false"`, "SSL enforced")
	}
}
