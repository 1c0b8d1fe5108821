package test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/internal/iamsim"
	"github.com/obslink/obslink/topology"
)

// The IAM gate: every cross-account and cross-region call a deploy makes is
// read out of the synthesized templates and evaluated by an IAM policy
// evaluator (internal/iamsim), with the condition keys AWS supplies for each
// action and resource type, next to requests that must be denied.

// outsider is an account in no topology and no organization of the tests.
const outsider = "999999999999"

// templates loads every stack template of an assembly with its environment.
func templates(t *testing.T, a Assembly) map[string]*iamsim.Template {
	t.Helper()
	out := map[string]*iamsim.Template{}
	for name, art := range a.Stacks() {
		parts := strings.Split(strings.TrimPrefix(art.Environment, "aws://"), "/")
		require.Len(t, parts, 2, "environment of %s", name)
		tpl, err := iamsim.LoadTemplate(filepath.Join(a.Dir, name+".template.json"), name, iamsim.Env{Account: parts[0], Region: parts[1]})
		require.NoError(t, err)
		out[name] = tpl
	}
	return out
}

// iamCase is one request with the decision it must get.
type iamCase struct {
	name string
	want string
	iamsim.Case
}

func (c iamCase) allowed() bool { return c.want == iamsim.Allowed }

// evaluate runs every case and reports each wrong decision by name.
func evaluate(t *testing.T, cases []iamCase) {
	t.Helper()
	require.NotEmpty(t, cases)
	in := make([]iamsim.Case, len(cases))
	for i, c := range cases {
		in[i] = c.Case
	}
	res, err := iamsim.Simulate(in)
	require.NoError(t, err)
	for i, c := range cases {
		got := res[i].Decision
		if got == iamsim.ImplicitlyDenied || got == iamsim.ExplicitlyDenied {
			got = "denied"
		}
		want := c.want
		if !c.allowed() {
			want = "denied"
		}
		assert.Equal(t, want, got, "%s\n  principal %s\n  %s on %s\n  context %v\n  %s", c.name, c.Principal, c.Action, c.Resource, c.Context, res[i].Error)
	}
}

// principalContext is what AWS supplies about a role session as caller.
func principalContext(roleArn, account, org string) map[string]any {
	ctx := map[string]any{"aws:PrincipalArn": roleArn, "aws:PrincipalAccount": account}
	if org != "" {
		ctx["aws:PrincipalOrgID"] = org
	}
	return ctx
}

func roleArn(region, account, name string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", topology.Partition(region), account, name)
}

// assumeCase is sts:AssumeRole of role by caller (a role of account in org).
func assumeCase(name, want, caller, account, org string, role *iamsim.Role, roleAccount string) iamCase {
	return iamCase{name: name, want: want, Case: iamsim.Case{
		Principal: caller, Action: "sts:AssumeRole", Resource: role.Arn, ResourceAccount: roleAccount,
		Context: principalContext(caller, account, org), IdentityPolicies: []any{iamsim.AdministratorAccess},
		ResourcePolicy: role.Trust,
	}}
}

// outputReadCases covers every Fn::GetStackOutput with a RoleArn: the
// reading stack's CloudFormation execution role assumes the role, which
// describes the producing stack; and the denials: an account outside the
// organization (or the explicit principals), a role of the reading account
// that is not a CloudFormation execution role, another stack.
func outputReadCases(t *testing.T, tpls map[string]*iamsim.Template, org string) []iamCase {
	var cases []iamCase
	seenRole := map[string]bool{}
	for _, name := range sortedKeys(tpls) {
		reader := tpls[name]
		for _, v := range iamsim.Find(map[string]any{"Resources": toAny(reader.Resources), "Outputs": reader.Outputs}, "Fn::GetStackOutput") {
			ref := v.(map[string]any)
			stackName := reader.ResolveString(ref["StackName"])
			producer := tpls[stackName]
			require.NotNil(t, producer, "%s reads stack %s, which the app does not synthesize", name, stackName)
			if ref["RoleArn"] == nil {
				// CloudFormation reads with the stack's own execution role
				// (AdministratorAccess), which can only describe its own account's stacks.
				require.Equal(t, producer.Env.Account, reader.Env.Account, "%s reads %s of another account without a RoleArn", name, stackName)
				continue
			}
			require.Equal(t, producer.Env.Region, reader.ResolveString(ref["Region"]), "%s reads %s in the wrong region", name, stackName)
			arn := reader.ResolveString(ref["RoleArn"])
			role := producer.RoleByArn(arn)
			require.NotNil(t, role, "%s reads %s through %s, which is no role of that stack", name, stackName, arn)
			require.Contains(t, producer.Outputs, reader.ResolveString(ref["OutputName"]), "%s reads an output %s does not have", name, stackName)
			caller := reader.Env.ExecRoleArn()
			cases = append(cases, assumeCase(name+" assumes the output reader of "+stackName, iamsim.Allowed,
				caller, reader.Env.Account, org, role, producer.Env.Account))
			stackArn := fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/0f0e0d0c-0b0a-0908-0706-050403020100",
				topology.Partition(producer.Env.Region), producer.Env.Region, producer.Env.Account, stackName)
			describe := iamCase{name: "the reader of " + stackName + " describes it", want: iamsim.Allowed, Case: iamsim.Case{
				Principal: role.Arn, Action: "cloudformation:DescribeStacks", Resource: stackArn, ResourceAccount: producer.Env.Account,
				Context: principalContext(role.Arn, producer.Env.Account, org), IdentityPolicies: role.Policies,
			}}
			cases = append(cases, describe)
			if seenRole[role.Arn] {
				continue
			}
			seenRole[role.Arn] = true
			outsiderEnv := iamsim.Env{Account: outsider, Region: reader.Env.Region}
			cases = append(cases,
				assumeCase("an execution role outside the organization assumes the reader of "+stackName, "denied",
					outsiderEnv.ExecRoleArn(), outsider, orOutside(org), role, producer.Env.Account),
				assumeCase("a role that is not an execution role assumes the reader of "+stackName, "denied",
					roleArn(reader.Env.Region, reader.Env.Account, "developer"), reader.Env.Account, org, role, producer.Env.Account))
			other := describe
			other.name, other.want = "the reader of "+stackName+" describes another stack", "denied"
			other.Resource = strings.Replace(stackArn, "/"+stackName+"/", "/payroll/", 1)
			cases = append(cases, other)
		}
	}
	return cases
}

func orOutside(org string) string {
	if org == "" {
		return ""
	}
	return "o-outsider000"
}

// peeringAcceptCases covers every peering that names a PeerRoleArn: the
// requesting stack's execution role assumes the accepter role, which accepts
// the peering (two resources: the accepter VPC and the peering connection,
// each with its own condition keys); and the denials: another role of the
// requesting account, another account, a peering into another VPC, a
// peering requested from a VPC of another account.
func peeringAcceptCases(t *testing.T, tpls map[string]*iamsim.Template) []iamCase {
	var cases []iamCase
	for _, name := range sortedKeys(tpls) {
		req := tpls[name]
		for id, r := range req.Resources {
			if r.Type != "AWS::EC2::VPCPeeringConnection" || r.Properties["PeerRoleArn"] == nil {
				continue
			}
			arn := req.ResolveString(r.Properties["PeerRoleArn"])
			var role *iamsim.Role
			var owner *iamsim.Template
			for _, other := range tpls {
				if rl := other.RoleByArn(arn); rl != nil {
					role, owner = rl, other
				}
			}
			require.NotNil(t, role, "%s/%s: PeerRoleArn %s is no role of the app", name, id, arn)
			peerAccount := req.ResolveString(r.Properties["PeerOwnerId"])
			require.Equal(t, owner.Env.Account, peerAccount, "the accepter role lives in the peer account")
			peerRegion := req.Env.Region
			if r.Properties["PeerRegion"] != nil {
				peerRegion = req.ResolveString(r.Properties["PeerRegion"])
			}
			part := topology.Partition(peerRegion)
			vpcArn := func(region, account, id string) string {
				return fmt.Sprintf("arn:%s:ec2:%s:%s:vpc/%s", part, region, account, id)
			}
			accepterVpc := vpcArn(peerRegion, peerAccount, req.ResolveString(r.Properties["PeerVpcId"]))
			requesterVpc := vpcArn(req.Env.Region, req.Env.Account, req.ResolveString(r.Properties["VpcId"]))
			pcx := fmt.Sprintf("arn:%s:ec2:%s:%s:vpc-peering-connection/pcx-0123456789abcdef0", part, peerRegion, peerAccount)
			caller := req.Env.ExecRoleArn()
			accept := func(what, want, resource string, ctx map[string]any) iamCase {
				ctx["ec2:Region"] = peerRegion
				return iamCase{name: name + ": " + what, want: want, Case: iamsim.Case{
					Principal: role.Arn, Action: "ec2:AcceptVpcPeeringConnection", Resource: resource, ResourceAccount: peerAccount,
					Context: ctx, IdentityPolicies: role.Policies,
				}}
			}
			otherVpc := vpcArn(peerRegion, peerAccount, "vpc-0badbadbadbadbad0")
			cases = append(cases,
				assumeCase(name+": the execution role assumes the accepter role", iamsim.Allowed, caller, req.Env.Account, "", role, peerAccount),
				assumeCase(name+": another role of the provider account assumes the accepter role", "denied",
					roleArn(req.Env.Region, req.Env.Account, "developer"), req.Env.Account, "", role, peerAccount),
				assumeCase(name+": another account's execution role assumes the accepter role", "denied",
					iamsim.Env{Account: outsider, Region: req.Env.Region}.ExecRoleArn(), outsider, "", role, peerAccount),
				accept("accept authorizes the cluster VPC", iamsim.Allowed, accepterVpc, map[string]any{"ec2:Tenancy": "default"}),
				accept("accept authorizes the peering connection", iamsim.Allowed, pcx,
					map[string]any{"ec2:AccepterVpc": accepterVpc, "ec2:RequesterVpc": requesterVpc}),
				accept("accept into another VPC (VPC resource)", "denied", otherVpc, map[string]any{"ec2:Tenancy": "default"}),
				accept("accept a peering into another VPC", "denied", pcx,
					map[string]any{"ec2:AccepterVpc": otherVpc, "ec2:RequesterVpc": requesterVpc}),
				accept("accept a peering requested by another account's VPC", "denied", pcx,
					map[string]any{"ec2:AccepterVpc": accepterVpc, "ec2:RequesterVpc": vpcArn(req.Env.Region, outsider, "vpc-0badbadbadbadbad0")}),
			)
		}
	}
	return cases
}

// tgwAcceptCases covers every Transit Gateway peering acceptance: the
// handler's role accepts its attachment in the accepter region and reads its
// state; it may not accept another attachment.
func tgwAcceptCases(t *testing.T, tpls map[string]*iamsim.Template) []iamCase {
	var cases []iamCase
	for _, name := range sortedKeys(tpls) {
		tpl := tpls[name]
		roles := tpl.Roles()
		for id, r := range tpl.Resources {
			if r.Type != "Custom::ObslinkTgwPeeringAccept" {
				continue
			}
			role := handlerRole(t, tpl, roles, name+"/"+id, r)
			region := tpl.ResolveString(r.Properties["AccepterRegion"])
			att := tpl.ResolveString(r.Properties["AttachmentId"])
			arn := func(account, att string) string {
				return fmt.Sprintf("arn:%s:ec2:%s:%s:transit-gateway-attachment/%s", topology.Partition(region), region, account, att)
			}
			call := func(what, want, action, resource, account string) iamCase {
				return ec2Call(name+"/"+id+": "+what, want, role, region, action, resource, account)
			}
			cases = append(cases,
				call("accepts its attachment", iamsim.Allowed, "ec2:AcceptTransitGatewayPeeringAttachment", arn(tpl.Env.Account, att), tpl.Env.Account),
				call("reads the attachment's state", iamsim.Allowed, "ec2:DescribeTransitGatewayPeeringAttachments", "*", tpl.Env.Account),
				call("accepts another attachment", "denied", "ec2:AcceptTransitGatewayPeeringAttachment", arn(tpl.Env.Account, "tgw-attach-0badbadbadbadbad0"), tpl.Env.Account),
				call("accepts an attachment of another account", "denied", "ec2:AcceptTransitGatewayPeeringAttachment", arn(outsider, att), outsider),
			)
		}
	}
	return cases
}

// endpointHandler is a custom resource of one type whose function acts on
// an endpoint service of its template's account and region.
type endpointHandler struct {
	where, service, region, account string
	res                             iamsim.Resource
	role                            *iamsim.Role
}

// endpointHandlers returns every resource of type typ in tpls, with its
// function's role and the endpoint service it names.
func endpointHandlers(t *testing.T, tpls map[string]*iamsim.Template, typ string) []endpointHandler {
	var out []endpointHandler
	for _, name := range sortedKeys(tpls) {
		tpl := tpls[name]
		roles := tpl.Roles()
		for _, id := range sortedKeys(tpl.Resources) {
			r := tpl.Resources[id]
			if r.Type != typ {
				continue
			}
			out = append(out, endpointHandler{where: name + "/" + id, service: tpl.ResolveString(r.Properties["ServiceId"]),
				region: tpl.Env.Region, account: tpl.Env.Account, res: r, role: handlerRole(t, tpl, roles, name+"/"+id, r)})
		}
	}
	return out
}

// arn is the ARN of endpoint service svc of account, in the handler's region.
func (h endpointHandler) arn(account, svc string) string {
	return fmt.Sprintf("arn:%s:ec2:%s:%s:vpc-endpoint-service/%s", topology.Partition(h.region), h.region, account, svc)
}

// call is an EC2 request of the handler's role.
func (h endpointHandler) call(what, want, action, resource, account string) iamCase {
	return ec2Call(h.where+": "+what, want, h.role, h.region, action, resource, account)
}

// revokeCases covers every endpoint-connection revocation: the handler's
// role rejects connections to its own endpoint service and lists
// connections; it may not reject on another service or another account's.
func revokeCases(t *testing.T, tpls map[string]*iamsim.Template) []iamCase {
	var cases []iamCase
	for _, h := range endpointHandlers(t, tpls, "Custom::ObslinkRevokeEndpointConnections") {
		cases = append(cases,
			h.call("rejects connections to its service", iamsim.Allowed, "ec2:RejectVpcEndpointConnections", h.arn(h.account, h.service), h.account),
			h.call("lists connections", iamsim.Allowed, "ec2:DescribeVpcEndpointConnections", "*", h.account),
			h.call("rejects connections to another service", "denied", "ec2:RejectVpcEndpointConnections", h.arn(h.account, "vpce-svc-0badbadbadbadbad0"), h.account),
			h.call("rejects connections of another account's service", "denied", "ec2:RejectVpcEndpointConnections", h.arn(outsider, h.service), outsider),
		)
	}
	return cases
}

// admitCases covers admission: each admission handler's role accepts and
// rejects connections on its own service, lists connections and, with OUs,
// may assume the organization reader role, whose trust admits it
// (cross-account, both policies evaluated); that role lists the accounts and
// OUs under an OU of the topology's organization. Denied: another service,
// another role of the provider account assuming the reader, the reader
// listing another organization or the root, or writing to Organizations.
func admitCases(t *testing.T, tpls map[string]*iamsim.Template, org string) []iamCase {
	var reader *iamsim.Role
	var readerAccount string
	for _, name := range sortedKeys(tpls) {
		for _, r := range tpls[name].Roles() {
			if strings.HasSuffix(r.Name, "-org-reader") {
				reader, readerAccount = r, tpls[name].Env.Account
			}
		}
	}
	var cases []iamCase
	for _, h := range endpointHandlers(t, tpls, "Custom::ObslinkAdmitEndpointConnections") {
		assume := func(what, want string, caller *iamsim.Role) iamCase {
			return iamCase{name: h.where + ": " + what, want: want, Case: iamsim.Case{
				Principal: caller.Arn, Action: "sts:AssumeRole", Resource: reader.Arn, ResourceAccount: readerAccount,
				Context: principalContext(caller.Arn, h.account, org), IdentityPolicies: caller.Policies, ResourcePolicy: reader.Trust,
			}}
		}
		own := h.arn(h.account, h.service)
		cases = append(cases,
			h.call("accepts connections to its service", iamsim.Allowed, "ec2:AcceptVpcEndpointConnections", own, h.account),
			h.call("rejects connections to its service", iamsim.Allowed, "ec2:RejectVpcEndpointConnections", own, h.account),
			h.call("lists connections", iamsim.Allowed, "ec2:DescribeVpcEndpointConnections", "*", h.account),
			h.call("accepts connections to another service", "denied", "ec2:AcceptVpcEndpointConnections", h.arn(h.account, "vpce-svc-0badbadbadbadbad0"), h.account),
		)
		if ous, _ := h.res.Properties["OrganizationalUnitIds"].([]any); len(ous) > 0 {
			require.NotNil(t, reader, "%s: admission by OU without the organization reader role", h.where)
			stranger := &iamsim.Role{Arn: roleArn(h.region, h.account, "intruder"), Policies: []any{iamsim.AdministratorAccess}}
			cases = append(cases,
				assume("assumes the organization reader", iamsim.Allowed, h.role),
				assume("another role of its account assumes the reader", "denied", stranger))
		}
	}
	if reader != nil {
		parents := func(what, want, action, resource string) iamCase {
			return iamCase{name: "org reader: " + what, want: want, Case: iamsim.Case{
				// Organizations authorizes a delegated administrator's read-only calls on
				// its identity policy (no resource policy): evaluated in its own account.
				Principal: reader.Arn, Action: action, Resource: resource, ResourceAccount: readerAccount,
				Context: map[string]any{}, IdentityPolicies: reader.Policies,
			}}
		}
		ou := "arn:aws:organizations::999999999999:ou/" + org + "/ou-a1b2-c3d4e5f6"
		cases = append(cases,
			parents("lists an OU's accounts", iamsim.Allowed, "organizations:ListAccountsForParent", ou),
			parents("lists an OU's OUs", iamsim.Allowed, "organizations:ListOrganizationalUnitsForParent", ou),
			parents("lists an OU of another organization", "denied", "organizations:ListAccountsForParent", "arn:aws:organizations::888888888888:ou/o-zzzzzzzzzz/ou-a1b2-c3d4e5f6"),
			parents("lists the root's accounts", "denied", "organizations:ListAccountsForParent", "arn:aws:organizations::999999999999:root/"+org+"/r-a1b2"),
			parents("moves an account", "denied", "organizations:MoveAccount", "arn:aws:organizations::999999999999:account/"+org+"/222222222222"),
		)
	}
	return cases
}

// instanceCases covers what the proxies' instance role does itself: signal
// its own stack (cfn-signal), write its own log groups, read its own files
// and consumer table and list endpoint connections; it may not signal
// another stack, write another log group, read another stack's files or
// table or change a connection.
func instanceCases(t *testing.T, tpls map[string]*iamsim.Template) []iamCase {
	var cases []iamCase
	for _, name := range sortedKeys(tpls) {
		tpl := tpls[name]
		for _, id := range sortedKeys(tpl.Roles()) {
			role := tpl.Roles()[id]
			if !strings.Contains(fmt.Sprint(role.Trust), "ec2.amazonaws.com") {
				continue
			}
			var groups []string
			for _, r := range tpl.Resources {
				if r.Type == "AWS::Logs::LogGroup" && r.Properties["LogGroupName"] != nil {
					if g := tpl.ResolveString(r.Properties["LogGroupName"]); strings.HasPrefix(g, "/obslink/") {
						groups = append(groups, g)
					}
				}
			}
			require.Len(t, groups, 2, "%s: the proxies' log groups", name)
			part, region, acct := topology.Partition(tpl.Env.Region), tpl.Env.Region, tpl.Env.Account
			call := func(what, want, action, resource string) iamCase {
				return iamCase{name: name + "/" + id + ": " + what, want: want, Case: iamsim.Case{
					Principal: role.Arn, Action: action, Resource: resource, ResourceAccount: acct,
					Context: map[string]any{}, IdentityPolicies: role.Policies,
				}}
			}
			stackArn := fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/0f0e0d0c-0b0a-0908-0706-050403020100", part, region, acct, name)
			cases = append(cases,
				call("signals its stack", iamsim.Allowed, "cloudformation:SignalResource", stackArn),
				call("signals another stack", "denied", "cloudformation:SignalResource", strings.Replace(stackArn, "/"+name+"/", "/payroll/", 1)))
			for _, g := range groups {
				stream := fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s:log-stream:i-0123456789abcdef0", part, region, acct, g)
				cases = append(cases,
					call("writes "+g, iamsim.Allowed, "logs:PutLogEvents", stream),
					call("creates its stream in "+g, iamsim.Allowed, "logs:CreateLogStream", stream))
			}
			other := fmt.Sprintf("arn:%s:logs:%s:%s:log-group:/payroll/audit:log-stream:x", part, region, acct)
			cases = append(cases, call("writes another log group", "denied", "logs:PutLogEvents", other))

			// The bootstrap's files script (its chunks, by path), and
			// obslink-consumers (proxy protocol): the stack's consumer table, and the endpoint connections.
			var table, files string
			for _, r := range tpl.Resources {
				if r.Type != "AWS::SSM::Parameter" || r.Properties["Name"] == nil {
					continue
				}
				switch n := tpl.ResolveString(r.Properties["Name"]); {
				case strings.HasSuffix(n, "/consumers/0"):
					table = strings.TrimSuffix(n, "/0")
				case strings.HasSuffix(n, "/00") && strings.Contains(n, "/files/"):
					files = strings.TrimSuffix(n, "/00")
				}
			}
			param := func(path string) string { return fmt.Sprintf("arn:%s:ssm:%s:%s:parameter%s", part, region, acct, path) }
			require.True(t, strings.HasPrefix(files, "/obslink/"+name+"/files/"), "%s: the files' parameters, at %q", name, files)
			hash := strings.TrimPrefix(files, "/obslink/"+name+"/files/")
			cases = append(cases,
				call("reads its files", iamsim.Allowed, "ssm:GetParametersByPath", param(files)),
				call("reads other files of its stack (a rollout's previous ones)", iamsim.Allowed, "ssm:GetParametersByPath", param("/obslink/"+name+"/files/0123456789abcdef")),
				call("reads another stack's files", "denied", "ssm:GetParametersByPath", param("/obslink/payroll/files/"+hash)),
				call("reads another path of its stack", "denied", "ssm:GetParametersByPath", param("/obslink/"+name+"/secrets")),
				call("reads every stack's files", "denied", "ssm:GetParametersByPath", param("/obslink")),
				call("reads every version of its files at once", "denied", "ssm:GetParametersByPath", param("/obslink/"+name+"/files")))
			svc := fmt.Sprintf("arn:%s:ec2:%s:%s:vpc-endpoint-service/vpce-svc-0123456789abcdef0", part, region, acct)
			if table == "" { // consumer groups only: no named consumer to attribute, no table
				cases = append(cases,
					call("reads a consumer table that does not exist", "denied", "ssm:GetParametersByPath", param("/obslink/"+name+"/consumers")),
					call("reads everything under /obslink", "denied", "ssm:GetParametersByPath", param("/obslink")))
				continue
			}
			require.Equal(t, "/obslink/"+name+"/consumers", table, "%s: the consumer table", name)
			cases = append(cases,
				call("reads its consumer table", iamsim.Allowed, "ssm:GetParametersByPath", param(table)),
				call("reads a chunk of its table", iamsim.Allowed, "ssm:GetParametersByPath", param(table+"/0")),
				// (by path; AmazonSSMManagedInstanceCore, not evaluated, allows GetParameter on any parameter)
				call("reads another stack's table by path", "denied", "ssm:GetParametersByPath", param("/obslink/payroll/consumers")),
				call("reads everything under /obslink", "denied", "ssm:GetParametersByPath", param("/obslink")),
				call("lists endpoint connections", iamsim.Allowed, "ec2:DescribeVpcEndpointConnections", "*"),
				call("rejects a connection", "denied", "ec2:RejectVpcEndpointConnections", svc),
				call("accepts a connection", "denied", "ec2:AcceptVpcEndpointConnections", svc))
		}
	}
	return cases
}

// sdkCallCases covers every AwsCustomResource SDK call (Custom::AWS): the
// singleton function's role may make the call on the resource it names, and
// may not read another SSM parameter.
func sdkCallCases(t *testing.T, tpls map[string]*iamsim.Template) []iamCase {
	var cases []iamCase
	for _, name := range sortedKeys(tpls) {
		tpl := tpls[name]
		roles := tpl.Roles()
		for _, id := range sortedKeys(tpl.Resources) {
			r := tpl.Resources[id]
			if r.Type != "Custom::AWS" {
				continue
			}
			role := handlerRole(t, tpl, roles, name+"/"+id, r)
			for _, phase := range []string{"Create", "Update"} {
				var call struct {
					Service    string         `json:"service"`
					Action     string         `json:"action"`
					Parameters map[string]any `json:"parameters"`
				}
				require.NoError(t, json.Unmarshal([]byte(tpl.ResolveString(r.Properties[phase])), &call), "%s/%s %s", name, id, phase)
				action := strings.ToLower(call.Service) + ":" + strings.ToUpper(call.Action[:1]) + call.Action[1:]
				region, part := tpl.Env.Region, topology.Partition(tpl.Env.Region)
				resource, other := "*", ""
				if action == "ssm:GetParameter" {
					param := call.Parameters["Name"].(string)
					// AWS's public parameters: the evaluator's resource type
					// needs an account; the policy's account field is a wildcard.
					resource = fmt.Sprintf("arn:%s:ssm:%s:%s:parameter%s", part, region, tpl.Env.Account, param)
					other = fmt.Sprintf("arn:%s:ssm:%s:%s:parameter/obslink/secret", part, region, tpl.Env.Account)
				}
				mk := func(what, want, res string) iamCase {
					return iamCase{name: fmt.Sprintf("%s/%s %s: %s", name, id, phase, what), want: want, Case: iamsim.Case{
						Principal: role.Arn, Action: action, Resource: res, ResourceAccount: tpl.Env.Account,
						Context: map[string]any{}, IdentityPolicies: role.Policies,
					}}
				}
				cases = append(cases, mk(action, iamsim.Allowed, resource))
				if other != "" {
					cases = append(cases, mk("reads another parameter", "denied", other))
				}
			}
		}
	}
	return cases
}

// handlerRole is the role of the function behind a custom resource
// (ServiceToken -> function -> Role).
func handlerRole(t *testing.T, tpl *iamsim.Template, roles map[string]*iamsim.Role, where string, r iamsim.Resource) *iamsim.Role {
	fn := tpl.Resources[getAttID(t, r.Properties["ServiceToken"])]
	role := roles[getAttID(t, fn.Properties["Role"])]
	require.NotNil(t, role, "%s: handler role", where)
	return role
}

// ec2Call is an EC2 request of role in region, with the ec2:Region key.
func ec2Call(name, want string, role *iamsim.Role, region, action, resource, account string) iamCase {
	return iamCase{name: name, want: want, Case: iamsim.Case{
		Principal: role.Arn, Action: action, Resource: resource, ResourceAccount: account,
		Context: map[string]any{"ec2:Region": region}, IdentityPolicies: role.Policies,
	}}
}

func getAttID(t *testing.T, v any) string {
	m, _ := v.(map[string]any)
	parts, _ := m["Fn::GetAtt"].([]any)
	require.Len(t, parts, 2, "want Fn::GetAtt, have %v", v)
	return parts[0].(string)
}

func toAny(rs map[string]iamsim.Resource) map[string]any {
	out := map[string]any{}
	for id, r := range rs {
		out[id] = map[string]any{"Type": r.Type, "Properties": r.Properties}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestIAMEvaluation evaluates the cross-account and cross-region calls of the
// default topology and every example: output reads, peering acceptance and
// Transit Gateway acceptance, each with the requests that must be denied.
func TestIAMEvaluation(t *testing.T) {
	kinds := map[string]int{}
	for _, nt := range allTopologies(t) {
		topo := nt.topo
		t.Run(filepath.Base(nt.file), func(t *testing.T) {
			tpls := templates(t, nt.synth(t))
			reads := outputReadCases(t, tpls, topo.ControlPlane.OrganizationID)
			peerings := peeringAcceptCases(t, tpls)
			tgws := tgwAcceptCases(t, tpls)
			sdk := sdkCallCases(t, tpls)
			revokes := revokeCases(t, tpls)
			admits := admitCases(t, tpls, topo.ControlPlane.OrganizationID)
			kinds["admit"] += len(admits)
			revokes = append(revokes, admits...)
			instances := instanceCases(t, tpls)
			kinds["instance"] += len(instances)
			kinds["sdk"] += len(sdk)
			kinds["revoke"] += len(revokes)
			kinds["reads"] += len(reads)
			kinds["peerings"] += len(peerings)
			kinds["tgw"] += len(tgws)
			cases := append(append(append(append(append(reads, peerings...), tgws...), sdk...), revokes...), instances...)
			if len(cases) > 0 {
				evaluate(t, cases)
			}
		})
	}
	// Each kind of call is exercised somewhere, so a refactor that hides one
	// (say, a renamed handler type) cannot pass by evaluating nothing.
	for _, k := range []string{"reads", "peerings", "tgw", "sdk", "revoke", "admit", "instance"} {
		assert.NotZero(t, kinds[k], "no %s cases were evaluated", k)
	}
}
