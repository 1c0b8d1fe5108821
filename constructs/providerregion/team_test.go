package providerregion_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/constructs/providerregion"
	"github.com/obslink/obslink/constructs/proxyfleet"
)

// teamStack is a platform team's stack: its own VPC (with NAT-less
// private subnets) and its own internal ALB, as L2 objects.
func teamStack() (awscdk.Stack, awsec2.Vpc, elbv2.ApplicationLoadBalancer) {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Team"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("eu-west-1")},
	})
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses: awsec2.IpAddresses_Cidr(jsii.String("10.40.0.0/16")), MaxAzs: jsii.Number(2), NatGateways: jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{Name: jsii.String("private"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED}},
	})
	alb := elbv2.NewApplicationLoadBalancer(stack, jsii.String("Alb"), &elbv2.ApplicationLoadBalancerProps{Vpc: vpc})
	return stack, vpc, alb
}

// userData is the launch template's user data with every CloudFormation
// value in it written as «value».
func userData(t *testing.T, tpl assertions.Template) string {
	t.Helper()
	var found []string
	for _, lt := range *tpl.FindResources(jsii.String("AWS::EC2::LaunchTemplate"), nil) {
		b, err := json.Marshal((*lt)["Properties"].(map[string]any)["LaunchTemplateData"].(map[string]any)["UserData"].(map[string]any)["Fn::Base64"])
		require.NoError(t, err)
		var v any
		require.NoError(t, json.Unmarshal(b, &v))
		found = append(found, flatten(v))
	}
	require.Len(t, found, 1)
	return found[0]
}

func flatten(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if j, ok := v["Fn::Join"].([]any); ok {
			var b strings.Builder
			for _, p := range j[1].([]any) {
				b.WriteString(flatten(p))
			}
			return b.String()
		}
	}
	b, _ := json.Marshal(v)
	return "«" + string(b) + "»"
}

var gzipped = regexp.MustCompile(`(?s)base64 -d <<'OBSLINK_EOF' \| gunzip >(\S+)\n(.*?)\nOBSLINK_EOF`)

// files are the gzipped files of user data, by path.
func files(t *testing.T, ud string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range gzipped.FindAllStringSubmatch(ud, -1) {
		raw, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(m[2], "\n", ""))
		require.NoError(t, err, m[1])
		r, err := gzip.NewReader(bytes.NewReader(raw))
		require.NoError(t, err, m[1])
		b, err := io.ReadAll(r)
		require.NoError(t, err, m[1])
		out[m[1]] = string(b)
	}
	return out
}

func TestTeamAlbAsUpstreamIsResolvedAtDeploy(t *testing.T) {
	stack, vpc, alb := teamStack()
	providerregion.New(stack, "Obslink", &providerregion.Props{
		Vpc:           vpc,
		UpstreamCidrs: []string{"10.40.0.0/16"}, // for the logs route, which has no Alb
		Routes: []proxyfleet.Route{
			{Name: "metrics", Host: "metrics.observability.internal", Port: 80, Alb: alb, UpstreamPort: 80},
			{Name: "logs", Host: "logs.observability.internal", Port: 80, Upstream: *alb.LoadBalancerDnsName(), UpstreamPort: 8080},
		},
	})
	tpl := assertions.Template_FromStack(stack, nil)
	whole, _ := json.Marshal(tpl.ToJSON())
	assert.NotContains(t, string(whole), "${Token[", "no unresolved token anywhere in the template")

	ud := userData(t, tpl)
	fs := files(t, ud)
	require.Contains(t, fs, "/etc/nginx/nginx.conf")
	for path, body := range fs {
		assert.NotContains(t, body, "Token[", "%s is gzipped: CloudFormation cannot fill a value into it", path)
	}
	assert.Contains(t, fs["/etc/nginx/nginx.conf"], "server_name metrics.observability.internal;")
	albID := *stack.GetLogicalId(alb.Node().DefaultChild().(awscdk.CfnElement))
	dns := `«{"Fn::GetAtt":["` + albID + `","DNSName"]}»`
	assert.Contains(t, ud, "cat >/etc/obslink/upstreams <<'OBSLINK_EOF'\nmetrics "+dns+" 80\nlogs "+dns+" 8080\nOBSLINK_EOF\n",
		"the upstreams file is plain text, filled in by CloudFormation")

	// The route with an Alb opens the proxies to it through its security group.
	tpl.HasResourceProperties(jsii.String("AWS::EC2::SecurityGroupIngress"), map[string]any{
		"GroupId":               map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^AlbSecurityGroup")), "GroupId"}},
		"SourceSecurityGroupId": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^ObslinkFleetSecurityGroup")), "GroupId"}},
		"FromPort":              80,
	})
}
