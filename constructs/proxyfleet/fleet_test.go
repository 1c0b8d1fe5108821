package proxyfleet_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/constructs/constructstest"
	"github.com/obslink/obslink/constructs/proxyfleet"
	"github.com/obslink/obslink/internal/nginxtest"
)

type fleetFixture struct {
	stack awscdk.Stack
	fleet *proxyfleet.NginxProxyFleet
	tpl   constructstest.Template
	json  map[string]any
}

func newFleet(t *testing.T, props proxyfleet.Props) fleetFixture {
	t.Helper()
	stack := constructstest.Stack("111111111111", "eu-west-1")
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses:       awsec2.IpAddresses_Cidr(jsii.String("10.100.0.0/24")),
		AvailabilityZones: jsii.Strings("eu-west-1a", "eu-west-1b"),
		NatGateways:       jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{
			Name: jsii.String("proxy"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED, CidrMask: jsii.Number(26),
		}},
	})
	props.Vpc = vpc
	if props.Routes == nil {
		props.Routes = &[]*proxyfleet.Route{
			{Name: jsii.String("metrics"), Host: jsii.String("metrics.observability.internal"), Port: jsii.Number(80), Upstream: jsii.String("m.elb.amazonaws.com"), UpstreamPort: jsii.Number(80)},
			{Name: jsii.String("traces"), Host: jsii.String("traces.observability.internal"), Port: jsii.Number(4317), Upstream: jsii.String("t.elb.amazonaws.com"), UpstreamPort: jsii.Number(443), GRPC: jsii.Bool(true), UpstreamTLS: jsii.Bool(true)},
		}
	}
	if props.UpstreamCidrs == nil {
		props.UpstreamCidrs = jsii.Strings("10.0.0.0/16")
	}
	fleet := proxyfleet.New(stack, jsii.String("Fleet"), &props)
	sg := awsec2.NewSecurityGroup(stack, jsii.String("NlbSg"), &awsec2.SecurityGroupProps{Vpc: vpc, AllowAllOutbound: jsii.Bool(false)})
	nlb := awselasticloadbalancingv2.NewNetworkLoadBalancer(stack, jsii.String("Nlb"), &awselasticloadbalancingv2.NetworkLoadBalancerProps{
		Vpc: vpc, SecurityGroups: &[]awsec2.ISecurityGroup{sg},
	})
	for _, port := range []int{80, 4317} {
		l := nlb.AddListener(jsii.String(fmt.Sprint("L", port)), &awselasticloadbalancingv2.BaseNetworkListenerProps{Port: jsii.Number(float64(port))})
		fleet.AttachTo(l, nlb, port)
	}
	tpl := constructstest.Synth(t, stack)
	return fleetFixture{stack: stack, fleet: fleet, tpl: tpl, json: tpl.JSON}
}

func (f fleetFixture) resources(typ string) []map[string]any {
	var out []map[string]any
	for _, r := range f.tpl.Resources(typ) {
		out = append(out, r)
	}
	return out
}

func TestLaunchTemplate(t *testing.T) {
	f := newFleet(t, proxyfleet.Props{})
	constructstest.Check(t, "launch template hardening", func() {
		f.tpl.HasResourceProperties(jsii.String("AWS::EC2::LaunchTemplate"), map[string]any{
			"LaunchTemplateData": map[string]any{
				"InstanceType": "t4g.small",
				"MetadataOptions": map[string]any{
					"HttpTokens":              "required",
					"HttpPutResponseHopLimit": 1,
				},
				"BlockDeviceMappings": []any{map[string]any{
					"DeviceName": "/dev/xvda",
					"Ebs":        map[string]any{"Encrypted": true, "VolumeType": "gp3", "VolumeSize": 16, "DeleteOnTermination": true},
				}},
				"KeyName": assertions.Match_Absent(),
			},
		})
	})
	lt := f.resources("AWS::EC2::LaunchTemplate")
	require.Len(t, lt, 1)
	data := lt[0]["Properties"].(map[string]any)["LaunchTemplateData"].(map[string]any)
	nics, _ := json.Marshal(data["NetworkInterfaces"])
	assert.NotContains(t, string(nics), `"AssociatePublicIpAddress":true`)

	// The image is the arm64 Amazon Linux 2023, captured once at deploy time
	// (no lookup at synth, no parameter CloudFormation re-resolves).
	params, _ := json.Marshal(f.json["Parameters"])
	assert.NotContains(t, string(params), "ami-amazon-linux")
	capture := f.resources("Custom::AWS")
	require.Len(t, capture, 1)
	create := capture[0]["Properties"].(map[string]any)["Create"].(string)
	assert.Contains(t, create, `"action":"getParameter"`)
	assert.Contains(t, create, proxyfleet.AL2023Parameter(true)+`#generation-1`)
	image, _ := json.Marshal(data["ImageId"])
	assert.Contains(t, string(image), `"Parameter.Value"`)

	// What ships is what the nginx tests run: the files' parameters carry
	// the rendered config, the user data their hash.
	ud := data["UserData"].(map[string]any)["Fn::Base64"].(string)
	var chunks []proxyfleet.Parameter
	for _, p := range f.resources("AWS::SSM::Parameter") {
		props := p["Properties"].(map[string]any)
		if name := props["Name"].(string); strings.HasPrefix(name, "/obslink/Test/files/") {
			chunks = append(chunks, proxyfleet.Parameter{Name: name, Value: props["Value"].(string)})
		}
	}
	require.NotEmpty(t, chunks)
	files, err := proxyfleet.ReadFiles(chunks)
	require.NoError(t, err)
	assert.Contains(t, files, "cat >/etc/nginx/nginx.conf <<'OBSLINK_EOF'\n"+f.fleet.NginxConfig()+"OBSLINK_EOF\n")
	sum := sha256.Sum256(proxyfleet.Gzip(files))
	assert.Contains(t, ud, "echo '"+hex.EncodeToString(sum[:])+"  /run/obslink-files.sh.gz' | sha256sum -c")
	assert.Contains(t, ud, "dnf install -y nginx bind-utils")
	assert.Contains(t, ud, "systemctl enable --now nginx obslink-resolve")
}

func TestX86InstanceTypeGetsX86Image(t *testing.T) {
	f := newFleet(t, proxyfleet.Props{InstanceType: jsii.String("m7i.large")})
	capture, _ := json.Marshal(f.resources("Custom::AWS"))
	assert.Contains(t, string(capture), "al2023-ami-kernel-6.1-x86_64")
	assert.NotContains(t, string(capture), "arm64")
}

func TestImageLatestAndPinned(t *testing.T) {
	latest := newFleet(t, proxyfleet.Props{ImageLatest: jsii.Bool(true)})
	params, _ := json.Marshal(latest.json["Parameters"])
	assert.Contains(t, string(params), "AWS::EC2::Image::Id", "latest: re-resolved on every deploy")
	assert.Empty(t, latest.resources("Custom::AWS"))

	pinned := newFleet(t, proxyfleet.Props{ImageID: jsii.String("ami-0123456789abcdef0")})
	lt := pinned.resources("AWS::EC2::LaunchTemplate")
	require.Len(t, lt, 1)
	assert.Equal(t, "ami-0123456789abcdef0", lt[0]["Properties"].(map[string]any)["LaunchTemplateData"].(map[string]any)["ImageId"])
	assert.Empty(t, pinned.resources("Custom::AWS"))

	rolled := newFleet(t, proxyfleet.Props{ImageGeneration: jsii.Number(3)})
	capture, _ := json.Marshal(rolled.resources("Custom::AWS"))
	assert.Contains(t, string(capture), "#generation-3")
}

func TestRolesAreLeastPrivilege(t *testing.T) {
	f := newFleet(t, proxyfleet.Props{})
	var instance, capture int
	for _, r := range f.resources("AWS::IAM::Role") {
		props, _ := json.Marshal(r["Properties"])
		switch {
		case strings.Contains(string(props), "ec2.amazonaws.com"):
			instance++
			assert.Contains(t, string(props), "AmazonSSMManagedInstanceCore")
		case strings.Contains(string(props), "lambda.amazonaws.com"):
			capture++
		}
	}
	assert.Equal(t, 1, instance, "one instance role")
	assert.Equal(t, 1, capture, "one role for the image capture")
	policies := f.resources("AWS::IAM::Policy")
	require.Len(t, policies, 2, "the capture's, and the instances' log writes")
	docs := js(policies)
	assert.Contains(t, docs, `"Action":"ssm:GetParameter"`)
	assert.Contains(t, docs, ":ssm:eu-west-1:*:parameter"+proxyfleet.AL2023Parameter(true))
	assert.Contains(t, docs, `"Action":["logs:CreateLogStream","logs:PutLogEvents","logs:DescribeLogStreams"]`)
	assert.Contains(t, docs, `:log-group:/obslink/Test/proxies/access:*`)
	assert.NotContains(t, docs, `"logs:*"`)
	groups := f.resources("AWS::Logs::LogGroup")
	require.Len(t, groups, 2)
	assert.Contains(t, js(groups), `"LogGroupName":"/obslink/Test/proxies/error","RetentionInDays":30`)
}

func TestScalingHealthAndRefresh(t *testing.T) {
	f := newFleet(t, proxyfleet.Props{MinCapacity: jsii.Number(3), MaxCapacity: jsii.Number(6)})
	constructstest.Check(t, "group", func() {
		f.tpl.HasResource(jsii.String("AWS::AutoScaling::AutoScalingGroup"), map[string]any{
			"Properties": map[string]any{
				"MinSize":                "3",
				"MaxSize":                "6",
				"HealthCheckType":        "ELB",
				"HealthCheckGracePeriod": 300,
				"VPCZoneIdentifier":      assertions.Match_AnyValue(),
			},
			"UpdatePolicy": map[string]any{
				"AutoScalingInstanceRefresh": map[string]any{
					"Strategy": "Rolling",
					"Preferences": map[string]any{
						"MinHealthyPercentage": 100,
						"MaxHealthyPercentage": 200,
					},
				},
			},
		})
	})
	constructstest.Check(t, "target tracking", func() {
		f.tpl.HasResourceProperties(jsii.String("AWS::AutoScaling::ScalingPolicy"), map[string]any{
			"PolicyType": "TargetTrackingScaling",
			"TargetTrackingConfiguration": map[string]any{
				"PredefinedMetricSpecification": map[string]any{"PredefinedMetricType": "ASGAverageCPUUtilization"},
				"TargetValue":                   50,
			},
		})
	})
	constructstest.Check(t, "health checks on /healthz", func() {
		f.tpl.ResourceCountIs(jsii.String("AWS::ElasticLoadBalancingV2::TargetGroup"), jsii.Number(2))
		f.tpl.AllResourcesProperties(jsii.String("AWS::ElasticLoadBalancingV2::TargetGroup"), map[string]any{
			"Protocol":                   "TCP",
			"TargetType":                 "instance",
			"HealthCheckProtocol":        "HTTP",
			"HealthCheckPath":            "/healthz",
			"HealthCheckPort":            "8080",
			"HealthCheckIntervalSeconds": 10,
		})
	})
}

func TestSecurityGroupRules(t *testing.T) {
	f := newFleet(t, proxyfleet.Props{})
	var fleetSG map[string]any
	for _, sg := range f.resources("AWS::EC2::SecurityGroup") {
		p := sg["Properties"].(map[string]any)
		if strings.HasPrefix(p["GroupDescription"].(string), "obslink proxies") {
			fleetSG = p
		}
	}
	require.NotNil(t, fleetSG)
	assert.Nil(t, fleetSG["SecurityGroupIngress"], "no inline ingress: only rules from the NLB's group")
	egress, _ := json.Marshal(fleetSG["SecurityGroupEgress"])
	assert.NotContains(t, string(egress), "0.0.0.0/0", "no open egress")
	assert.Contains(t, string(egress), `"CidrIp":"10.0.0.0/16","Description":"to the cluster ALBs in 10.0.0.0/16 on 80","FromPort":80`)
	assert.Contains(t, string(egress), `"FromPort":443`)

	ingress := f.resources("AWS::EC2::SecurityGroupIngress")
	var ports []float64
	for _, r := range ingress {
		p := r["Properties"].(map[string]any)
		require.Contains(t, p, "SourceSecurityGroupId", "ingress only from a security group (the NLB's)")
		assert.NotContains(t, p, "CidrIp")
		ports = append(ports, p["FromPort"].(float64))
	}
	assert.ElementsMatch(t, []float64{80, 4317, 8080}, ports, "service ports and the health port, nothing else")
}

func TestMisuseFailsEarly(t *testing.T) {
	tests := []struct {
		name  string
		props proxyfleet.Props
		want  string
	}{
		{"no upstream cidrs", proxyfleet.Props{UpstreamCidrs: jsii.Strings()}, `proxyfleet.New("Test/Fleet"): props.UpstreamCidrs is empty`},
		{"bad upstream cidr", proxyfleet.Props{UpstreamCidrs: jsii.Strings("300.0.0.0/16")}, `props.UpstreamCidrs[0] "300.0.0.0/16" is not an IPv4 CIDR`},
		{"min above max", proxyfleet.Props{MinCapacity: jsii.Number(5), MaxCapacity: jsii.Number(2)}, "props.MinCapacity 5 and MaxCapacity 2"},
		{"route on health port", proxyfleet.Props{Routes: &[]*proxyfleet.Route{{Name: jsii.String("m"), Host: jsii.String("m.x"), Port: jsii.Number(8080), Upstream: jsii.String("u"), UpstreamPort: jsii.Number(80)}}}, "props.Routes: route m: port 8080 is the health-check port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				require.NotNil(t, r, "expected a panic")
				assert.Contains(t, fmt.Sprint(r), tt.want)
			}()
			newFleet(t, tt.props)
		})
	}
}

// TestUserDataIsValidBash parses the rendered bootstrap, its files script
// and the resolver with bash -n and checks them with shellcheck.
// (They run on Amazon Linux 2023, which is not available here; the resolver
// itself runs for real in the nginx tests.)
func TestUserDataIsValidBash(t *testing.T) {
	cfg := proxyfleet.Config{Routes: []proxyfleet.ConfigRoute{{Name: "metrics", Host: "metrics.x", Port: 80, Upstream: "m.test", UpstreamPort: 80}}}
	b, err := cfg.Bootstrap(proxyfleet.UserDataInput{SignalStack: "s", SignalResource: "G", SignalRegion: "eu-west-1"})
	require.NoError(t, err)
	assert.Contains(t, b.Files, "OBSLINK_RESOLVER=169.254.169.253", "the VPC resolver by default")
	shellcheck := nginxtest.Require(t, "shellcheck")
	for name, script := range map[string]string{"user data": b.UserData, "files": b.Files, "obslink-resolve": proxyfleet.ResolveScript()} {
		cmd := exec.Command("bash", "-n")
		cmd.Stdin = strings.NewReader(script)
		out, err := cmd.CombinedOutput()
		assert.NoError(t, err, "%s: %s", name, out)
		cmd = exec.Command(shellcheck, "--shell=bash", "-")
		cmd.Stdin = strings.NewReader(script)
		out, err = cmd.CombinedOutput()
		assert.NoError(t, err, "shellcheck %s:\n%s", name, out)
	}
}

func TestUserDataStartsWithOneShebang(t *testing.T) {
	f := newFleet(t, proxyfleet.Props{})
	lt := f.resources("AWS::EC2::LaunchTemplate")[0]
	ud := lt["Properties"].(map[string]any)["LaunchTemplateData"].(map[string]any)["UserData"].(map[string]any)["Fn::Base64"].(string)
	assert.True(t, strings.HasPrefix(ud, "#!/bin/bash\n"))
	assert.Equal(t, 1, strings.Count(ud, "#!/bin/bash"))
}

// TestConsumerTable: the table is sorted, split in whole lines under the
// standard tier's 4,096 characters, and never empty.
func TestConsumerTable(t *testing.T) {
	assert.Equal(t, []string{"# no consumers\n"}, proxyfleet.ConsumerTable(nil))
	assert.Equal(t, []string{"111111111111 eu-west-1 b\n222222222222 us-east-1 a\n"},
		proxyfleet.ConsumerTable([]proxyfleet.Consumer{{Account: jsii.String("222222222222"), Region: jsii.String("us-east-1"), Name: jsii.String("a")}, {Account: jsii.String("111111111111"), Region: jsii.String("eu-west-1"), Name: jsii.String("b")}}))
	var many []proxyfleet.Consumer
	for i := 0; i < 300; i++ {
		many = append(many, proxyfleet.Consumer{Account: jsii.String(fmt.Sprintf("%012d", 100000000000+i)), Region: jsii.String("ap-southeast-1"), Name: jsii.String(fmt.Sprintf("team-%03d-observability-prod", i))})
	}
	chunks := proxyfleet.ConsumerTable(many)
	lines := 0
	for _, c := range chunks {
		assert.LessOrEqual(t, len(c), proxyfleet.MaxParameterChars)
		assert.True(t, strings.HasSuffix(c, "\n"), "whole lines")
		lines += strings.Count(c, "\n")
	}
	assert.Equal(t, 300, lines)
	assert.Len(t, chunks, 5, "300 consumers of 56 characters: 16,800 characters in 5 parameters")
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestAgentConfig: the CloudWatch agent ships nginx's logs to their groups.
func TestAgentConfig(t *testing.T) {
	var agent map[string]any
	require.NoError(t, json.Unmarshal([]byte(proxyfleet.Config{}.AgentConfig("/a", "/e")), &agent))
	assert.Contains(t, js(agent), `"file_path":"/var/log/nginx/access.log","log_group_name":"/a","log_stream_name":"{instance_id}"`)
}

// TestFleetInAStackWithoutEnvironment: the construct works in a stack with
// no explicit account or region (the image is not a per-region map).
func TestFleetInAStackWithoutEnvironment(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{AnalyticsReporting: jsii.Bool(false)})
	stack := awscdk.NewStack(app, jsii.String("Agnostic"), nil)
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2), NatGateways: jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{Name: jsii.String("p"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED}}})
	for i, props := range []proxyfleet.Props{{}, {ImageID: jsii.String("ami-0123456789abcdef0")}, {ImageLatest: jsii.Bool(true)}} {
		props.Vpc = vpc
		props.UpstreamCidrs = jsii.Strings("10.0.0.0/16")
		props.Routes = &[]*proxyfleet.Route{{Name: jsii.String("m"), Host: jsii.String("m.example.internal"), Port: jsii.Number(80), Upstream: jsii.String("m.elb.amazonaws.com"), UpstreamPort: jsii.Number(80)}}
		proxyfleet.New(stack, jsii.String(fmt.Sprint("Fleet", i)), &props)
	}
	tpl := constructstest.Synth(t, stack)
	images := []string{}
	for _, lt := range tpl.Resources("AWS::EC2::LaunchTemplate") {
		b, _ := json.Marshal(lt["Properties"].(map[string]any)["LaunchTemplateData"].(map[string]any)["ImageId"])
		images = append(images, string(b))
	}
	sort.Strings(images)
	require.Len(t, images, 3)
	assert.Equal(t, `"ami-0123456789abcdef0"`, images[0])
	assert.Contains(t, strings.Join(images, " "), `"Parameter.Value"`)
	assert.Contains(t, strings.Join(images, " "), `{"Ref":"SsmParameterValue`)
}

// TestCaptureCallIsPinned: the capture re-runs whenever its serialized call
// changes, so any change to it (an aws-cdk-lib upgrade that serializes it
// differently, say) would roll every fleet: this test makes it visible.
func TestCaptureCallIsPinned(t *testing.T) {
	f := newFleet(t, proxyfleet.Props{})
	capture := f.resources("Custom::AWS")
	require.Len(t, capture, 1)
	props := capture[0]["Properties"].(map[string]any)
	want := `{"action":"getParameter","outputPaths":["Parameter.Value"],"parameters":{"Name":"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-arm64"},"physicalResourceId":{"id":"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-arm64#generation-1"},"service":"SSM"}`
	assert.Equal(t, want, props["Create"])
	assert.Equal(t, want, props["Update"])
	assert.Equal(t, false, props["InstallLatestAwsSdk"])
}

// TestLogrotateConfigParses runs logrotate on the configuration the
// instances get, with the log and pid paths pointed at a temporary
// directory and Amazon Linux's global dateext: a log over 100M rotates, and
// again the same day.
func TestLogrotateConfigParses(t *testing.T) {
	bin := nginxtest.Require(t, "logrotate", "/usr/sbin/logrotate")
	dir := t.TempDir()
	// As on Amazon Linux, whose logrotate.conf sets dateext for every file:
	// a second rotation the same day must not be skipped.
	conf := "dateext\n" + strings.NewReplacer("/var/log/nginx/*.log", dir+"/*.log", "/run/nginx.pid", dir+"/nginx.pid").Replace(proxyfleet.Logrotate())
	require.NotEqual(t, proxyfleet.Logrotate(), conf)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nginx"), []byte(conf), 0o644))
	big := make([]byte, 101<<20) // over the 100M size limit
	require.NoError(t, os.WriteFile(filepath.Join(dir, "access.log"), big, 0o644))
	// Rotate for real twice (in the temporary directory): the second time,
	// the same day, must rotate too.
	for i := 0; i < 2; i++ {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "access.log"), big, 0o644))
		out, err := exec.Command(bin, "-v", "-s", filepath.Join(dir, "state"), filepath.Join(dir, "nginx")).CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Contains(t, string(out), "log needs rotating", "%s", out)
		assert.NotContains(t, string(out), "skipping rotation", "rotation %d: %s", i+1, out)
	}
	assert.FileExists(t, filepath.Join(dir, "access.log.1"))
	assert.FileExists(t, filepath.Join(dir, "access.log.2.gz"), "the first rotation, compressed one rotation later")
}
