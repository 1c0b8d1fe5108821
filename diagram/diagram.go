// Package diagram draws a topology: which consumer reaches which provider,
// and how each provider reaches the cluster. Mermaid text for READMEs and
// pull requests, Graphviz DOT for an SVG.
package diagram

import (
	"fmt"
	"sort"
	"strings"

	"github.com/obslink/obslink/topology"
)

type node struct{ id, label string }

type edge struct{ from, to, label string }

type group struct {
	id, label string
	nodes     []node
}

type graph struct {
	groups []group
	edges  []edge
}

func id(parts ...string) string {
	return strings.NewReplacer("-", "_", ".", "_").Replace(strings.Join(parts, "_"))
}

// build lays out t: the control plane, one group per provider region (and
// the hub in tgw mode), one group per consumer.
func build(t *topology.Topology) graph {
	var g graph
	cp := t.ControlPlane
	var names []string
	for _, s := range t.Services {
		names = append(names, s.Name)
	}
	control := group{id: "control", label: fmt.Sprintf("cluster · %s · %s (main region)", cp.Account, cp.Region)}
	control.nodes = append(control.nodes, node{"cluster", fmt.Sprintf("cluster VPC %s<br/>%s", cp.VPC.ID, cp.VPC.CIDR)})
	for _, s := range t.Services {
		alb := s.Upstream
		if t.Proxyless() {
			alb = s.ALBArn[strings.LastIndex(s.ALBArn, "app/")+len("app/"):] // <name>/<id>
		}
		control.nodes = append(control.nodes, node{id("alb", s.Name), fmt.Sprintf("%s ALB<br/>%s:%d", s.Name, alb, s.UpstreamPort)})
		g.edges = append(g.edges, edge{"cluster", id("alb", s.Name), ""})
	}
	if t.Proxyless() {
		// proxy.mode none: the endpoint service's NLB sits in the cluster VPC
		// and forwards each service's port to its ALB; no proxies, no link.
		control.nodes = append(control.nodes, node{id("svc", cp.Region), "endpoint service + NLB<br/>(no proxies)"})
		for _, s := range t.Services {
			g.edges = append(g.edges, edge{id("svc", cp.Region), id("alb", s.Name), fmt.Sprintf("port %d", s.Port)})
		}
	}
	if t.InterRegion == topology.TGW {
		control.nodes = append(control.nodes, node{"hub", fmt.Sprintf("hub Transit Gateway<br/>ASN %d", t.TransitGatewayASN(cp.Region))})
		g.edges = append(g.edges, edge{"hub", "cluster", "attachment"})
	}
	g.groups = append(g.groups, control)

	for _, r := range t.Regions {
		if t.Proxyless() {
			break // the one "region" is the cluster VPC's endpoint service, drawn above
		}
		label := fmt.Sprintf("provider · %s · %s", r.Region, r.CIDR)
		if cp.CrossAccountProviders() {
			label = fmt.Sprintf("provider · %s · %s · %s", cp.ProviderAccountID(), r.Region, r.CIDR)
		}
		p := group{id: id("provider", r.Region), label: label}
		svc, proxies := id("svc", r.Region), id("proxies", r.Region)
		p.nodes = append(p.nodes,
			node{svc, "endpoint service + NLB"},
			node{proxies, fmt.Sprintf("nginx proxies<br/>%d-%d × %s", t.Proxy.Min(), t.Proxy.Max(), t.Proxy.InstanceType)})
		g.edges = append(g.edges, edge{svc, proxies, ""})
		switch t.InterRegion {
		case topology.TGW:
			if r.Region == cp.Region {
				g.edges = append(g.edges, edge{proxies, "hub", "attachment"})
			} else {
				gw := id("tgw", r.Region)
				p.nodes = append(p.nodes, node{gw, fmt.Sprintf("Transit Gateway<br/>ASN %d", t.TransitGatewayASN(r.Region))})
				g.edges = append(g.edges, edge{proxies, gw, "attachment"}, edge{gw, "hub", "TGW peering"})
			}
		default:
			label := "VPC peering"
			if r.Region != cp.Region {
				label = "inter-region VPC peering"
			}
			g.edges = append(g.edges, edge{proxies, "cluster", label})
		}
		g.groups = append(g.groups, p)
	}

	if t.InterRegion == topology.TGW && t.TGWMesh == topology.MeshFull {
		var spokes []string
		for _, r := range t.Regions {
			if r.Region != cp.Region {
				spokes = append(spokes, r.Region)
			}
		}
		sort.Strings(spokes)
		for i, a := range spokes {
			for _, b := range spokes[i+1:] {
				g.edges = append(g.edges, edge{id("tgw", b), id("tgw", a), "TGW peering (mesh)"})
			}
		}
	}

	consumers := append([]topology.Consumer(nil), t.Consumers...)
	sort.SliceStable(consumers, func(i, j int) bool { return consumers[i].Region < consumers[j].Region })
	for _, c := range consumers {
		ep := id("ep", c.Name)
		vpc := "new VPC " + c.VPC.CIDR
		if c.VPC.Existing() {
			vpc = c.VPC.ID + " " + c.VPC.CIDR
		}
		g.groups = append(g.groups, group{id: id("consumer", c.Name), label: fmt.Sprintf("%s · %s · %s", c.Name, c.Account, c.Region),
			nodes: []node{{ep, fmt.Sprintf("agents → %s.%s<br/>endpoint in %s", "{"+strings.Join(names, ",")+"}", t.Domain, vpc)}}})
		label := "PrivateLink"
		if prov := t.ProviderRegionFor(c.Region); prov != c.Region {
			label = "cross-region PrivateLink"
		}
		g.edges = append(g.edges, edge{ep, id("svc", t.ProviderRegionFor(c.Region)), label})
	}
	return g
}

// Mermaid returns t as a Mermaid flowchart: arrows point the way traffic
// flows, agent to cluster.
func Mermaid(t *topology.Topology) string {
	g := build(t)
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	for _, gr := range g.groups {
		fmt.Fprintf(&b, "  subgraph %s[\"%s\"]\n", gr.id, gr.label)
		for _, n := range gr.nodes {
			fmt.Fprintf(&b, "    %s[\"%s\"]\n", n.id, n.label)
		}
		b.WriteString("  end\n")
	}
	for _, e := range g.edges {
		if e.label == "" {
			fmt.Fprintf(&b, "  %s --> %s\n", e.from, e.to)
		} else {
			fmt.Fprintf(&b, "  %s -- \"%s\" --> %s\n", e.from, e.label, e.to)
		}
	}
	return b.String()
}

// DOT returns t as a Graphviz digraph (render with dot -Tsvg).
func DOT(t *topology.Topology) string {
	g := build(t)
	var b strings.Builder
	b.WriteString("digraph obslink {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n")
	for _, gr := range g.groups {
		fmt.Fprintf(&b, "  subgraph cluster_%s {\n    label=%q;\n", gr.id, gr.label)
		for _, n := range gr.nodes {
			fmt.Fprintf(&b, "    %s [label=%q];\n", n.id, strings.ReplaceAll(n.label, "<br/>", "\n"))
		}
		b.WriteString("  }\n")
	}
	for _, e := range g.edges {
		fmt.Fprintf(&b, "  %s -> %s [label=%q];\n", e.from, e.to, e.label)
	}
	b.WriteString("}\n")
	return b.String()
}
