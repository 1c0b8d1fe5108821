package cfndiff

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tpl builds a template from JSON text.
func tpl(t *testing.T, text string) Template {
	t.Helper()
	out, err := ParseTemplate([]byte(text))
	require.NoError(t, err, text)
	return out
}

func stack(name, account, region string, t Template, dependsOn ...string) Stack {
	return Stack{Name: name, Account: account, Region: region, Template: t, DependsOn: dependsOn}
}

func resourceByID(t *testing.T, d StackDiff, id string) ResourceDiff {
	t.Helper()
	for _, r := range d.Template.Resources {
		if r.ID == id {
			return r
		}
	}
	require.Failf(t, "no such resource in the diff", "%s in %s", id, d.Name)
	return ResourceDiff{}
}

func TestReplacements(t *testing.T) {
	old := tpl(t, `{"Resources": {
  "Zone": {"Type": "AWS::Route53::HostedZone", "Properties": {"Name": "a.internal.", "VPCs": [{"VPCId": "vpc-1", "VPCRegion": "eu-west-1"}]}},
  "Record": {"Type": "AWS::Route53::RecordSet", "Properties": {"HostedZoneId": {"Ref": "Zone"}, "Name": "m.a.internal.", "Type": "A"}},
  "Endpoint": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcId": "vpc-1", "ServiceName": "svc", "DnsOptions": {"PrivateDnsPreference": "ALL_DOMAINS"}}},
  "Group": {"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": {"MinSize": "2", "VPCZoneIdentifier": ["subnet-1"]}},
  "Sub": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": {"Fn::Sub": "/x/${Zone}"}, "Value": "v"}},
  "Mystery": {"Type": "AWS::Foo::Bar", "Properties": {"A": 1}},
  "Custom": {"Type": "Custom::Thing", "Properties": {"ServiceToken": "arn", "A": 1}},
  "Gone": {"Type": "AWS::SNS::Topic", "Properties": {}}
}}`)
	cur := tpl(t, `{"Resources": {
  "Zone": {"Type": "AWS::Route53::HostedZone", "Properties": {"Name": "b.internal.", "VPCs": [{"VPCId": "vpc-1", "VPCRegion": "eu-west-1"}]}},
  "Record": {"Type": "AWS::Route53::RecordSet", "Properties": {"HostedZoneId": {"Ref": "Zone"}, "Name": "m.a.internal.", "Type": "A"}},
  "Endpoint": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcId": "vpc-1", "ServiceName": "svc", "DnsOptions": {"PrivateDnsPreference": "VERIFIED_DOMAINS_ONLY"}}},
  "Group": {"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": {"MinSize": "3", "VPCZoneIdentifier": ["subnet-2"]}},
  "Sub": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": {"Fn::Sub": "/x/${Zone}"}, "Value": "v"}},
  "Mystery": {"Type": "AWS::Foo::Bar", "Properties": {"A": 2}},
  "Custom": {"Type": "Custom::Thing", "Properties": {"ServiceToken": "arn", "A": 2}},
  "New": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "t"}}
}}`)
	r, err := Compare([]Stack{stack("s", "1", "r", old)}, []Stack{stack("s", "1", "r", cur)})
	require.NoError(t, err)
	require.Len(t, r.Stacks, 1)
	d := r.Stacks[0]
	tests := []struct {
		id   string
		kind Kind
		why  string
	}{
		{"Zone", Replaced, "create-only Name changed"},
		{"Record", Replaced, "create-only HostedZoneId references Zone, which is replaced"},
		{"Sub", Replaced, "create-only Name references Zone, which is replaced"},
		{"Endpoint", Replaced, "create-only DnsOptions.PrivateDnsPreference changed"},
		{"Group", Replaced, "conditionally create-only VPCZoneIdentifier changed"},
		{"Mystery", Modified, "replacement not known: AWS::Foo::Bar is not in the create-only table"},
		{"Custom", Modified, ""},
		{"Gone", Removed, ""},
		{"New", Added, ""},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			rd := resourceByID(t, d, tt.id)
			assert.Equal(t, tt.kind, rd.Kind)
			if tt.why == "" {
				assert.Empty(t, rd.Why)
			} else {
				assert.Contains(t, strings.Join(rd.Why, "; "), tt.why)
			}
		})
	}
	assert.True(t, resourceByID(t, d, "Group").Conditional, "a conditional create-only property may replace")
	assert.Equal(t, "t", resourceByID(t, d, "New").Label)
	assert.Equal(t, map[Kind]int{Added: 1, Modified: 2, Replaced: 5, Removed: 1}, d.Template.Counts())
}

func TestPropertyChanges(t *testing.T) {
	old := tpl(t, `{"Resources": {"R": {"Type": "AWS::SNS::Topic", "Properties": {
  "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
  "Blocks": [{"Size": 16}], "Order": ["x", "y"],
  "Doc": "{\"a\": 1, \"b\": [1, 2]}",
  "Text": "one\ntwo\nthree\n"},
  "Metadata": {"cdk_nag": {"rules_to_suppress": [{"id": "X"}]}}}}}`)
	cur := tpl(t, `{"Resources": {"R": {"Type": "AWS::SNS::Topic", "Properties": {
  "Tags": [{"Key": "a", "Value": "1"}, {"Key": "c", "Value": "3"}, {"Key": "d", "Value": "4"}],
  "Blocks": [{"Size": 20}], "Order": ["y", "x"],
  "Doc": "{\"a\": 2, \"b\": [1, 2]}",
  "Text": "one\n2\nthree\n"},
  "Metadata": {"cdk_nag": {"rules_to_suppress": [{"id": "Y"}]}}}}}`)
	r, err := Compare([]Stack{stack("s", "1", "r", old)}, []Stack{stack("s", "1", "r", cur)})
	require.NoError(t, err)
	rd := resourceByID(t, r.Stacks[0], "R")
	byPath := map[string][]Change{}
	for _, c := range rd.Changes {
		byPath[c.Path] = append(byPath[c.Path], c)
	}
	assert.Equal(t, []Change{{Path: "Properties.Blocks[0].Size", Old: float64(16), New: float64(20)}}, byPath["Properties.Blocks[0].Size"], "same length: element by element")
	require.Len(t, byPath["Properties.Tags[]"], 3, "another length: as sets")
	assert.Equal(t, map[string]any{"Key": "b", "Value": "2"}, byPath["Properties.Tags[]"][0].Old)
	assert.Len(t, byPath["Properties.Order"], 1, "a new order")
	assert.Equal(t, []Change{{Path: "Properties.Doc(JSON).a", Old: float64(1), New: float64(2)}}, byPath["Properties.Doc(JSON).a"], "JSON in a string")
	require.Len(t, byPath["Properties.Text"], 1)
	assert.Contains(t, byPath["Properties.Text"][0].Text, "-two\n+2\n", "text of several lines: a unified diff")
	for p := range byPath {
		assert.False(t, strings.HasPrefix(p, "Metadata"), "checker suppressions deploy nothing: %s", p)
	}
}

func gzipBase64(t *testing.T, s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, err := w.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

// launchTemplate is a launch template whose user data writes nginx.conf
// gzipped and base64-encoded, and an env file in plain text, as
// obslink's bootstrap does.
func launchTemplate(t *testing.T, conf, env, instanceType string) string {
	script := "#!/bin/bash\nset -e\nbase64 -d <<'OBSLINK_EOF' | gunzip >/etc/nginx/nginx.conf\n" + gzipBase64(t, conf) +
		"\nOBSLINK_EOF\ncat >/etc/obslink/resolve.env <<'OBSLINK_EOF'\n" + env + "OBSLINK_EOF\nnginx -t\n"
	ud, err := json.Marshal(map[string]any{"Fn::Base64": script})
	require.NoError(t, err)
	return `"LT": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": {"InstanceType": "` + instanceType + `", "UserData": ` + string(ud) + `}}},
  "ASG": {"Type": "AWS::AutoScaling::AutoScalingGroup",
    "UpdatePolicy": {"AutoScalingInstanceRefresh": {"Strategy": "Rolling", "Preferences": {"MinHealthyPercentage": 100, "InstanceWarmup": 120}}},
    "Properties": {"MinSize": "2", "MaxSize": "4", "LaunchTemplate": {"LaunchTemplateId": {"Ref": "LT"}, "Version": {"Fn::GetAtt": ["LT", "LatestVersionNumber"]}}}}`
}

func TestUserDataFilesAndInstanceRefresh(t *testing.T) {
	conf := "http {\n    upstream metrics {}\n}\n"
	alarm := `"Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmName": "p-NetworkBaseline", "AlarmDescription": "Traffic above the baseline. See README."}}`
	old := tpl(t, `{"Resources": {`+launchTemplate(t, conf, "A=1\n", "t4g.small")+`, `+alarm+`}}`)
	cur := tpl(t, `{"Resources": {`+launchTemplate(t, strings.Replace(conf, "    upstream metrics {}\n", "    upstream metrics {}\n    upstream profiles {}\n", 1), "A=2\n", "c7i.large")+`}}`)
	r, err := Compare([]Stack{stack("p", "1", "r", old)}, []Stack{stack("p", "1", "r", cur)})
	require.NoError(t, err)
	lt := resourceByID(t, r.Stacks[0], "LT")
	assert.Equal(t, Modified, lt.Kind)
	assert.Equal(t, []Change{{Path: "Properties.LaunchTemplateData.InstanceType", Old: "t4g.small", New: "c7i.large"}}, lt.Changes, "the user data shows as files, not as a changed string")
	require.Len(t, lt.Files, 2, "nginx.conf and the env file change, the script around them does not")
	assert.Equal(t, "/etc/nginx/nginx.conf", lt.Files[0].Path)
	assert.Contains(t, lt.Files[0].Text, "+    upstream profiles {}\n")
	assert.Equal(t, "/etc/obslink/resolve.env", lt.Files[1].Path)
	assert.Contains(t, lt.Files[1].Text, "-A=1\n+A=2\n")

	var texts []string
	for _, i := range r.Impacts {
		texts = append(texts, i.Resource+": "+i.Text)
	}
	all := strings.Join(texts, "\n")
	assert.Contains(t, all, "ASG: instance refresh: the Auto Scaling group replaces every instance, new ones before old ones stop (at least 100 % of the capacity healthy, 120 s warm-up)")
	assert.Contains(t, all, "Alarm: alarm p-NetworkBaseline is removed: nothing watches this any more: Traffic above the baseline.")

	var text bytes.Buffer
	require.NoError(t, r.WriteText(&text, "old", "new"))
	assert.False(t, lt.Files[0].Fetched)
	assert.Contains(t, text.String(), "file in the user data: /etc/nginx/nginx.conf (modified)")
	assert.Contains(t, text.String(), "- AWS::CloudWatch::Alarm Alarm (p-NetworkBaseline)")
}

// fetchingLaunchTemplate is a launch template whose user data fetches its
// files script from SSM parameters, as obslink's bootstrap does, and the
// parameters (two chunks) that hold it.
func fetchingLaunchTemplate(t *testing.T, conf string) string {
	files := "#!/bin/bash\nset -e\ncat >/etc/nginx/nginx.conf <<'OBSLINK_EOF'\n" + conf + "OBSLINK_EOF\ncat >/etc/obslink/resolve.env <<'OBSLINK_EOF'\nA=1\nOBSLINK_EOF\n"
	gz := gzipBase64(t, files)
	sum := sha256.Sum256([]byte(conf)) // any hash: the diff does not check it
	hash := hex.EncodeToString(sum[:])
	path := "/obslink/p/files/" + hash[:16]
	script := "#!/bin/bash\nset -e\ndnf install -y nginx\n# obslink-files: " + path + " " + hash + "\nfetch_files() {\n    aws ssm get-parameters-by-path --path '" + path + "'\n}\nfetch_files\nnginx -t\n"
	ud, err := json.Marshal(map[string]any{"Fn::Base64": script})
	require.NoError(t, err)
	param := func(id string, i int, value string) string {
		return `"` + id + `": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Name": "` + fmt.Sprintf("%s/%02d", path, i) + `", "Value": "` + value + `"}}`
	}
	half := len(gz) / 2
	return `"LT": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": {"UserData": ` + string(ud) + `}}}, ` +
		param("Files1", 1, gz[half:]) + `, ` + param("Files0", 0, gz[:half])
}

// TestFetchedFilesShowAsFiles: the files a fleet fetches from SSM
// parameters show as files of the user data, as when they were inside it;
// the chunks' values and the script around the files do not show.
func TestFetchedFilesShowAsFiles(t *testing.T) {
	conf := "http {\n    upstream metrics {}\n}\n"
	old := tpl(t, `{"Resources": {`+fetchingLaunchTemplate(t, conf)+`}}`)
	cur := tpl(t, `{"Resources": {`+fetchingLaunchTemplate(t, strings.Replace(conf, "{}\n", "{}\n    upstream profiles {}\n", 1))+`}}`)
	r, err := Compare([]Stack{stack("p", "1", "r", old)}, []Stack{stack("p", "1", "r", cur)})
	require.NoError(t, err)
	lt := resourceByID(t, r.Stacks[0], "LT")
	assert.Empty(t, lt.Changes, "the user data shows as files")
	require.Len(t, lt.Files, 1, "nginx.conf changes; the env file and the script around them do not")
	assert.Equal(t, "/etc/nginx/nginx.conf", lt.Files[0].Path)
	assert.Contains(t, lt.Files[0].Text, "+    upstream profiles {}\n")
	assert.True(t, lt.Files[0].Fetched, "nginx.conf is in the SSM parameters, not in the user data")
	var text bytes.Buffer
	require.NoError(t, r.WriteText(&text, "old", "new"))
	assert.Contains(t, text.String(), "file in SSM parameters, fetched at boot: /etc/nginx/nginx.conf (modified)")
	assert.NotContains(t, text.String(), "user data: /etc/nginx/nginx.conf")
	for _, id := range []string{"Files0", "Files1"} {
		p := resourceByID(t, r.Stacks[0], id)
		assert.Equal(t, Replaced, p.Kind, "%s: a new name", id)
		for _, c := range p.Changes {
			assert.NotEqual(t, "Properties.Value", c.Path, "%s: its value shows as files", id)
		}
	}
}

func TestNoInstanceRefreshWithoutALaunchTemplateChange(t *testing.T) {
	conf := "http {}\n"
	old := tpl(t, `{"Resources": {`+launchTemplate(t, conf, "A=1\n", "t4g.small")+`}}`)
	cur := tpl(t, `{"Resources": {`+strings.Replace(launchTemplate(t, conf, "A=1\n", "t4g.small"), `"MaxSize": "4"`, `"MaxSize": "6"`, 1)+`}}`)
	r, err := Compare([]Stack{stack("p", "1", "r", old)}, []Stack{stack("p", "1", "r", cur)})
	require.NoError(t, err)
	require.Len(t, r.Stacks, 1)
	assert.Empty(t, r.Impacts, "a capacity change refreshes no instance")
}

func TestStackSetTemplate(t *testing.T) {
	body := func(zone string) string {
		b, err := json.Marshal(`{"Resources": {"Zone": {"Type": "AWS::Route53::HostedZone", "Properties": {"Name": "` + zone + `"}}}}`)
		require.NoError(t, err)
		return string(b)
	}
	set := func(zone, ou string) Template {
		return tpl(t, `{"Resources": {"Set": {"Type": "AWS::CloudFormation::StackSet", "Properties": {"StackSetName": "s", "TemplateBody": `+body(zone)+`, "StackInstancesGroup": [{"DeploymentTargets": {"OrganizationalUnitIds": ["`+ou+`"]}}]}}}}`)
	}
	r, err := Compare([]Stack{stack("c", "1", "r", set("a.internal.", "ou-1"))}, []Stack{stack("c", "1", "r", set("b.internal.", "ou-2"))})
	require.NoError(t, err)
	rd := resourceByID(t, r.Stacks[0], "Set")
	for _, c := range rd.Changes {
		assert.NotContains(t, c.Path, "TemplateBody", "the template shows as a template diff, not as a changed string")
	}
	require.NotNil(t, rd.Template)
	require.Len(t, rd.Template.Resources, 1)
	assert.Equal(t, Replaced, rd.Template.Resources[0].Kind)
	require.Len(t, r.Impacts, 1)
	assert.Contains(t, r.Impacts[0].Text, "in every stack instance of StackSet Set: private zone a.internal. is replaced by b.internal.")
	var md bytes.Buffer
	require.NoError(t, r.WriteMarkdown(&md, "old", "new"))
	assert.Contains(t, md.String(), "the template of every stack instance:")
	assert.Contains(t, md.String(), "ou-2")
}

func TestRemovedStacksDeleteOrder(t *testing.T) {
	empty := Template{}
	exporter := tpl(t, `{"Outputs": {"Id": {"Value": "x", "Export": {"Name": "p:Id"}}}}`)
	importer := tpl(t, `{"Resources": {"R": {"Type": "AWS::EC2::Route", "Properties": {"VpcPeeringConnectionId": {"Fn::ImportValue": "p:Id"}}}}}`)
	old := []Stack{
		stack("provider-b", "1", "sa-east-1", empty),
		stack("consumer-b", "2", "sa-east-1", empty, "provider-b"),
		stack("control-plane", "1", "eu-west-1", importer, "provider-a", "provider-b"),
		stack("provider-a", "1", "eu-west-1", exporter),
	}
	cur := []Stack{stack("provider-a", "1", "eu-west-1", Template{})}
	r, err := Compare(old, cur)
	require.NoError(t, err)
	order := map[string]int{}
	for _, s := range r.Stacks {
		if s.Kind == Removed {
			order[s.Name] = s.DeleteOrder
		}
	}
	assert.Equal(t, map[string]int{"consumer-b": 1, "control-plane": 2, "provider-b": 3}, order, "dependents first, ties by name")
	var texts []string
	for _, i := range r.Impacts {
		texts = append(texts, i.Stack+": "+i.Text)
	}
	assert.Contains(t, strings.Join(texts, "\n"), "control-plane: delete it BEFORE you deploy provider-a: it imports p:Id, which provider-a no longer exports")
	assert.Contains(t, strings.Join(texts, "\n"), "consumer-b: the stack left the topology and CDK does not delete it: delete it (1 of 3, dependents first) with credentials of account 2: aws cloudformation delete-stack --stack-name consumer-b --region sa-east-1")
}

func TestIdenticalIsUnchanged(t *testing.T) {
	a := tpl(t, `{"Resources": {"R": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "t"}}}}`)
	r, err := Compare([]Stack{stack("s", "1", "r", a)}, []Stack{stack("s", "1", "r", a)})
	require.NoError(t, err)
	assert.False(t, r.Changed())
	var text bytes.Buffer
	require.NoError(t, r.WriteText(&text, "x", "y"))
	assert.Equal(t, "obslink diff: x -> y: no changes\n", text.String())
}

func TestMarkdownStaysUnderACommentsLimit(t *testing.T) {
	var old, cur []Stack
	var long strings.Builder
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&long, "line %d\n", i)
	}
	for i := 0; i < 20; i++ {
		name := "s" + strings.Repeat("x", i)
		b, err := json.Marshal(long.String())
		require.NoError(t, err)
		c, err := json.Marshal(strings.ToUpper(long.String()))
		require.NoError(t, err)
		old = append(old, stack(name, "1", "r", tpl(t, `{"Resources": {"R": {"Type": "AWS::SNS::Topic", "Properties": {"T": `+string(b)+`}}}}`)))
		cur = append(cur, stack(name, "1", "r", tpl(t, `{"Resources": {"R": {"Type": "AWS::SNS::Topic", "Properties": {"T": `+string(c)+`}}}}`)))
	}
	r, err := Compare(old, cur)
	require.NoError(t, err)
	var md bytes.Buffer
	require.NoError(t, r.WriteMarkdown(&md, "old", "new"))
	assert.LessOrEqual(t, md.Len(), MaxMarkdown)
	assert.Contains(t, md.String(), "more stack(s) are left out")
	assert.Equal(t, 20, strings.Count(md.String(), "| modified |"), "the table lists every stack")
}
