package cfndiff

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// A StackSet's target is where it keeps stack instances: an
// organizational unit's accounts, or one account, in a region.
type stackSetTarget struct{ unit, region string }

// stackSetsOf returns the AWS::CloudFormation::StackSet resources of t, by
// logical id.
func stackSetsOf(t Template) map[string]Resource {
	out := map[string]Resource{}
	for id, r := range t.Resources {
		if r.Type == "AWS::CloudFormation::StackSet" {
			out[id] = r
		}
	}
	return out
}

// instanceGroup is one entry of a StackSet's StackInstancesGroup.
type instanceGroup struct {
	ous, accounts, regions []string
	filter                 string // AccountFilterType
}

// instanceGroupsOf reads a StackSet resource's StackInstancesGroup.
func instanceGroupsOf(r Resource) []instanceGroup {
	strs := func(v any) []string {
		list, _ := v.([]any)
		out := make([]string, 0, len(list))
		for _, x := range list {
			out = append(out, str(x))
		}
		return out
	}
	groups, _ := r.Properties["StackInstancesGroup"].([]any)
	out := make([]instanceGroup, 0, len(groups))
	for _, g := range groups {
		group, _ := g.(map[string]any)
		targets, _ := group["DeploymentTargets"].(map[string]any)
		out = append(out, instanceGroup{ous: strs(targets["OrganizationalUnitIds"]), accounts: strs(targets["Accounts"]),
			regions: strs(group["Regions"]), filter: str(targets["AccountFilterType"])})
	}
	return out
}

// inRegions returns each unit in each region.
func inRegions(units, regions []string) []stackSetTarget {
	var out []stackSetTarget
	for _, u := range units {
		for _, region := range regions {
			out = append(out, stackSetTarget{u, region})
		}
	}
	return out
}

// accountUnits names accounts as targets' units.
func accountUnits(accounts []string) []string {
	out := make([]string, len(accounts))
	for i, a := range accounts {
		out[i] = "account " + a
	}
	return out
}

// targetsOf returns the targets of a StackSet resource: each account an
// instance group names with an INTERSECTION filter (or without OUs), else
// each OU (a DIFFERENCE filter's exclusions aside), in each region.
func targetsOf(r Resource) map[stackSetTarget]bool {
	out := map[stackSetTarget]bool{}
	for _, g := range instanceGroupsOf(r) {
		units := g.ous
		if len(g.accounts) > 0 && (len(g.ous) == 0 || g.filter == "INTERSECTION") {
			units = accountUnits(g.accounts)
		}
		for _, tg := range inRegions(units, g.regions) {
			out[tg] = true
		}
	}
	return out
}

// exclusionsOf returns the accounts a StackSet resource's instance groups
// exclude from their OUs (a DIFFERENCE filter), in each region.
func exclusionsOf(r Resource) map[stackSetTarget]bool {
	out := map[stackSetTarget]bool{}
	for _, g := range instanceGroupsOf(r) {
		if g.filter != "DIFFERENCE" {
			continue
		}
		for _, tg := range inRegions(accountUnits(g.accounts), g.regions) {
			out[tg] = true
		}
	}
	return out
}

// stackSetLines says what a change of the StackSets of one stack means for
// the accounts they reach, by StackSet logical id: targets a StackSet no
// longer has lose their stack instances (each account's endpoint and
// private zone), and targets that move from one StackSet to another get new
// ones, in an order the two StackSets' dependencies decide.
func stackSetLines(old, new Template) map[string][]string {
	olds, news := stackSetsOf(old), stackSetsOf(new)
	gainedBy := map[stackSetTarget]string{}
	for id, r := range news {
		before := targetsOf(olds[id])
		for tg := range targetsOf(r) {
			if !before[tg] {
				gainedBy[tg] = id
			}
		}
	}
	// Lost targets, by the StackSet that lost them and the one that gained
	// them ("" for none).
	type move struct{ from, to string }
	lost := map[move][]stackSetTarget{}
	for id, r := range olds {
		after := targetsOf(news[id])
		for tg := range targetsOf(r) {
			if !after[tg] {
				m := move{id, gainedBy[tg]}
				lost[m] = append(lost[m], tg)
			}
		}
	}
	name := func(id string, rs map[string]Resource) string {
		if n := str(rs[id].Properties["StackSetName"]); n != "" {
			return n
		}
		return id
	}
	out := map[string][]string{}
	for _, id := range sortedKeys(news) {
		if _, ok := olds[id]; !ok {
			continue
		}
		before, after := exclusionsOf(olds[id]), exclusionsOf(news[id])
		var excluded, readmitted []stackSetTarget
		for tg := range after {
			if !before[tg] {
				excluded = append(excluded, tg)
			}
		}
		for tg := range before {
			if !after[tg] {
				readmitted = append(readmitted, tg)
			}
		}
		if len(excluded) > 0 {
			out[id] = append(out[id], fmt.Sprintf("StackSet %s now excludes %s: those stack instances are deleted, and with them each account's endpoint and private zone; agents there lose the cluster", name(id, news), describeTargets(excluded)))
		}
		if len(readmitted) > 0 {
			out[id] = append(out[id], fmt.Sprintf("StackSet %s no longer excludes %s: it creates their stack instances again, each with a new endpoint and private zone", name(id, news), describeTargets(readmitted)))
		}
	}
	moves := make([]move, 0, len(lost))
	for m := range lost {
		moves = append(moves, m)
	}
	sort.Slice(moves, func(i, j int) bool {
		return moves[i].from < moves[j].from || moves[i].from == moves[j].from && moves[i].to < moves[j].to
	})
	for _, m := range moves {
		from := name(m.from, olds)
		where := describeTargets(lost[m])
		if m.to == "" {
			out[m.from] = append(out[m.from], fmt.Sprintf("StackSet %s no longer deploys to %s: those stack instances are deleted, and with them each account's endpoint and private zone; agents there lose the cluster", from, where))
			continue
		}
		to := name(m.to, news)
		text := fmt.Sprintf("the stack instances for %s move from StackSet %s to StackSet %s: %s's are deleted and %s creates new ones (a new endpoint and private zone in each account; agents are cut off in between); ", where, from, to, from, to)
		_, fromStays := news[m.from]
		switch {
		case !fromStays:
			text += fmt.Sprintf("%s is deleted only at the end of the update, after %s has created its instances, which then meet the old private zones of the same name in the same VPCs and fail: remove the group, deploy, then add it back (docs/operations.md, Move a consumer group)", from, to)
		case dependsOn(news[m.from], m.to):
			text += fmt.Sprintf("%s depends on %s, so %s creates its instances first, beside the old private zones of the same name in the same VPCs, and they fail: remove the group, deploy, then add it back (docs/operations.md, Move a consumer group)", from, to, to)
		case dependsOn(news[m.to], m.from):
			text += fmt.Sprintf("%s depends on %s, so the old instances go before the new ones come", to, from)
		default:
			text += "nothing orders the two StackSets, so the new instances may meet the old private zones of the same name and fail: remove the group, deploy, then add it back (docs/operations.md, Move a consumer group)"
		}
		out[m.from] = append(out[m.from], text)
	}
	return out
}

// dependsOn reports whether r's DependsOn names id.
func dependsOn(r Resource, id string) bool {
	switch d := r.Attributes["DependsOn"].(type) {
	case string:
		return d == id
	case []any:
		return slices.ContainsFunc(d, func(v any) bool { return str(v) == id })
	}
	return false
}

// describeTargets writes targets as "ou-x (eu-west-1, us-east-1), account
// 1 (eu-west-1)", each unit once with its regions.
func describeTargets(targets []stackSetTarget) string {
	regions := map[string][]string{}
	for _, tg := range targets {
		regions[tg.unit] = append(regions[tg.unit], tg.region)
	}
	units := make([]string, 0, len(regions))
	for u := range regions {
		units = append(units, u)
	}
	sort.Strings(units)
	parts := make([]string, 0, len(units))
	for _, u := range units {
		sort.Strings(regions[u])
		parts = append(parts, u+" ("+strings.Join(regions[u], ", ")+")")
	}
	return strings.Join(parts, ", ")
}
