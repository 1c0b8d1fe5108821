package cfndiff

import (
	"fmt"
	"sort"
	"strings"
)

// Impact is what a change means for running traffic, or for the deploy.
type Impact struct {
	// Stack is the stack whose deploy causes it.
	Stack string
	// Resource is the logical id involved, "" for the whole stack.
	Resource string
	Text     string

	order int // a removed stack's place in the delete order
}

// impacts works out, stack by stack, what the change means for running
// traffic: instance refreshes, replaced endpoints, zones and links, alarms
// removed, and the stacks to delete (in order).
func impacts(diffs []StackDiff, olds, news map[string]Stack, key func(Stack) string) []Impact {
	removed := 0
	for _, d := range diffs {
		if d.Kind == Removed {
			removed++
		}
	}
	exportsGone := exportsRemoved(olds, news, key)
	var out, deletes []Impact
	for _, d := range diffs {
		add := func(id, format string, args ...any) {
			out = append(out, Impact{Stack: d.Name, Resource: id, Text: fmt.Sprintf(format, args...)})
		}
		s := Stack{Name: d.Name, Account: d.Account, Region: d.Region}
		switch d.Kind {
		case Removed:
			old := olds[key(s)]
			add := func(_, format string, args ...any) {
				deletes = append(deletes, Impact{Stack: d.Name, Text: fmt.Sprintf(format, args...), order: d.DeleteOrder})
			}
			add("", "the stack left the topology and CDK does not delete it: delete it (%d of %d, dependents first) with credentials of account %s: aws cloudformation delete-stack --stack-name %s --region %s",
				d.DeleteOrder, removed, d.Account, d.Name, d.Region)
			for _, text := range DeleteFirst(imports(old.Template), exportsGone) {
				add("", "%s", text)
			}
			continue
		case Added:
			continue
		}
		old, cur := olds[key(s)], news[key(s)]
		for _, id := range instanceRefreshes(d.Template, old.Template, cur.Template) {
			add(id, "%s", refreshText(cur.Template.Resources[id]))
		}
		moved := stackSetLines(old.Template, cur.Template)
		for _, id := range sortedKeys(moved) {
			for _, text := range moved[id] {
				add(id, "%s", text)
			}
		}
		for _, r := range d.Template.Resources {
			if text := resourceImpact(r); text != "" {
				add(r.ID, "%s", text)
			}
			if r.Template != nil {
				for _, n := range r.Template.Resources {
					if text := resourceImpact(n); text != "" {
						add(r.ID, "in every stack instance of StackSet %s: %s", r.ID, text)
					}
				}
			}
		}
	}
	// The stacks to delete come last, in the order to delete them.
	sort.SliceStable(deletes, func(i, j int) bool { return deletes[i].order < deletes[j].order })
	return append(out, deletes...)
}

// resourceImpact says what one resource's change means, "" when nothing
// worth a line.
func resourceImpact(r ResourceDiff) string {
	switch r.Kind {
	case Replaced:
		if r.Conditional {
			return ""
		}
		switch r.Type {
		case "AWS::EC2::VPCEndpoint":
			return fmt.Sprintf("interface endpoint %s is replaced: CloudFormation creates the new one (new DNS names, a new connection the provider must accept), moves the private zone's records to it, and deletes the old one at the end of the update; agents are cut off from when the old one goes until their DNS follows the records", r.ID)
		case "AWS::Route53::HostedZone":
			was, now := str(r.old.Properties["Name"]), str(r.new.Properties["Name"])
			if was != now {
				return fmt.Sprintf("private zone %s is replaced by %s: agents that still use names under %s stop resolving them when the old zone is deleted at the end of the update; point the agents at the new names first", was, now, was)
			}
			return fmt.Sprintf("private zone %s is replaced: its records are created anew in the new zone, and names under it may not resolve while the update runs", was)
		case "AWS::EC2::VPCEndpointService":
			return fmt.Sprintf("endpoint service %s is replaced: it gets a new service name, and every consumer's endpoint must be recreated against it; the consumers read the name only when they are updated (deploy them after the provider with -c refresh=VALUE; docs/operations.md, Changes that replace resources)", r.ID)
		case "AWS::ElasticLoadBalancingV2::LoadBalancer":
			return fmt.Sprintf("load balancer %s is replaced: connections through the old one end, and the endpoint service moves to the new one", r.ID)
		case "AWS::EC2::VPCPeeringConnection", "AWS::EC2::TransitGateway", "AWS::EC2::TransitGatewayVpcAttachment",
			"AWS::EC2::TransitGatewayPeeringAttachment":
			return fmt.Sprintf("%s %s is replaced: traffic over it stops until the new one is up and both sides' routes follow; stacks that read its id keep the old one until they are updated (-c refresh=VALUE; docs/operations.md, Changes that replace resources)", shortType(r.Type), r.ID)
		case "AWS::EC2::VPC", "AWS::EC2::Subnet":
			return fmt.Sprintf("%s %s is replaced, and with it what runs in it: not in place (docs/operations.md, Changes that replace resources)", shortType(r.Type), r.ID)
		case "AWS::CloudWatch::Alarm":
			return fmt.Sprintf("alarm %s is replaced by %s: its state and history start anew", str(r.old.Properties["AlarmName"]), str(r.new.Properties["AlarmName"]))
		}
	case Removed:
		switch r.Type {
		case "AWS::CloudWatch::Alarm":
			return fmt.Sprintf("alarm %s is removed: nothing watches this any more: %s", str(r.old.Properties["AlarmName"]), firstSentence(str(r.old.Properties["AlarmDescription"])))
		case "AWS::EC2::VPCEndpoint":
			return fmt.Sprintf("interface endpoint %s is removed: agents that use it lose the cluster", r.ID)
		case "AWS::Route53::HostedZone":
			return fmt.Sprintf("private zone %s is removed: its names stop resolving", str(r.old.Properties["Name"]))
		}
	}
	return ""
}

// instanceRefreshes returns the Auto Scaling groups whose instances the
// change replaces: the group has an AutoScalingInstanceRefresh or
// AutoScalingRollingUpdate policy, and its launch template (property) or
// the launch template it runs (a modified AWS::EC2::LaunchTemplate, whose
// LatestVersionNumber then changes) changes.
func instanceRefreshes(d TemplateDiff, old, new Template) []string {
	changed := map[string]bool{}
	for _, r := range d.Resources {
		if r.Kind == Modified || r.Kind == Replaced {
			changed[r.ID] = true
		}
	}
	var out []string
	for _, id := range sortedKeys(new.Resources) {
		g := new.Resources[id]
		if g.Type != "AWS::AutoScaling::AutoScalingGroup" {
			continue
		}
		if _, existed := old.Resources[id]; !existed || refreshPolicy(g) == "" {
			continue
		}
		o := old.Resources[id]
		refresh := !equalJSON(o.Properties["LaunchTemplate"], g.Properties["LaunchTemplate"]) ||
			!equalJSON(o.Properties["MixedInstancesPolicy"], g.Properties["MixedInstancesPolicy"])
		for _, ref := range refs(g.Properties["LaunchTemplate"]) {
			if changed[ref] && new.Resources[ref].Type == "AWS::EC2::LaunchTemplate" {
				refresh = true
			}
		}
		if refresh {
			out = append(out, id)
		}
	}
	return out
}

func refreshPolicy(g Resource) string {
	p, _ := g.Attributes["UpdatePolicy"].(map[string]any)
	for _, k := range []string{"AutoScalingInstanceRefresh", "AutoScalingRollingUpdate"} {
		if _, ok := p[k]; ok {
			return k
		}
	}
	return ""
}

// refreshText describes the instance refresh of group g from its policy.
func refreshText(g Resource) string {
	p, _ := g.Attributes["UpdatePolicy"].(map[string]any)
	var how []string
	if r, ok := p["AutoScalingInstanceRefresh"].(map[string]any); ok {
		prefs, _ := r["Preferences"].(map[string]any)
		if v, ok := prefs["MinHealthyPercentage"]; ok {
			how = append(how, fmt.Sprintf("at least %v %% of the capacity healthy", v))
		}
		if v, ok := prefs["MaxHealthyPercentage"]; ok {
			how = append(how, fmt.Sprintf("up to %v %% during it", v))
		}
		if v, ok := prefs["InstanceWarmup"]; ok {
			how = append(how, fmt.Sprintf("%v s warm-up", v))
		}
		if v, ok := prefs["BakeTime"]; ok {
			how = append(how, fmt.Sprintf("%v s bake time", v))
		}
		return fmt.Sprintf("instance refresh: the Auto Scaling group replaces every instance, new ones before old ones stop (%s); each old proxy's open connections close when it stops and the agents reconnect through the load balancer", strings.Join(how, ", "))
	}
	return "rolling update: the Auto Scaling group replaces every instance in batches; each old proxy's open connections close when it stops and the agents reconnect through the load balancer"
}

// DeleteFirst returns, for a removed stack that imports the exports
// imports, a line for each one the new side no longer exports (gone: export
// -> the stack that exported it). CloudFormation refuses to remove an export
// in use, so the removed stack must be deleted before that stack deploys.
// obslink diff reads imports and exports from the templates; obslink
// diff-stacks, which has no templates, from the deployment model.
func DeleteFirst(imports []string, gone map[string]string) []string {
	var out []string
	for _, imp := range imports {
		if producer, ok := gone[imp]; ok {
			out = append(out, fmt.Sprintf("delete it BEFORE you deploy %s: it imports %s, which %s no longer exports, and CloudFormation refuses to remove an export in use", producer, imp, producer))
		}
	}
	return out
}

// exportsRemoved returns the exports that a stack present on both sides no
// longer has, with the stack.
func exportsRemoved(olds, news map[string]Stack, key func(Stack) string) map[string]string {
	out := map[string]string{}
	for k, o := range olds {
		n, ok := news[k]
		if !ok {
			continue
		}
		have := map[string]bool{}
		for _, e := range exports(n.Template) {
			have[e] = true
		}
		for _, e := range exports(o.Template) {
			if !have[e] {
				out[e] = o.Name
			}
		}
	}
	return out
}

func exports(t Template) []string {
	var out []string
	for _, name := range sortedKeys(t.Outputs) {
		o, _ := t.Outputs[name].(map[string]any)
		e, _ := o["Export"].(map[string]any)
		if s, ok := e["Name"].(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// imports returns the export names a template imports (Fn::ImportValue of a string).
func imports(t Template) []string {
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			if s, ok := x["Fn::ImportValue"].(string); ok && len(x) == 1 {
				seen[s] = true
				return
			}
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, r := range t.Resources {
		walk(toAny(r.Properties))
	}
	for _, o := range t.Outputs {
		walk(o)
	}
	return sortedKeys(seen)
}

func equalJSON(a, b any) bool { return compact(a) == compact(b) }

func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if v == nil {
		return "(none)"
	}
	return compact(v)
}

// shortType is AWS::EC2::VPCPeeringConnection as VPCPeeringConnection.
func shortType(t string) string { return t[strings.LastIndex(t, ":")+1:] }

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}
