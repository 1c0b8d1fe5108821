// Package diagram draws a topology: which consumer reaches which provider,
// and how each provider reaches the cluster. Mermaid text for READMEs and
// pull requests, Graphviz DOT for an SVG.
package diagram

import (
	"fmt"
	"sort"
	"strings"

	"github.com/obslink/obslink/deployment"
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

// build lays out t as deployment.Resolve models it: the control plane, one
// group per provider region (and the hub in tgw mode), one group per
// consumer. The topology adds what only a drawing needs: the services and
// their ALBs, the VPCs' CIDRs, the gateways' ASNs.
func build(t *topology.Topology) graph {
	d := deployment.Resolve(t)
	var g graph
	cp := t.ControlPlane
	var names []string
	for _, s := range t.Services {
		names = append(names, s.Name)
	}
	control := group{id: "control", label: fmt.Sprintf("cluster · %s · %s (main region)", cp.Account, d.MainRegion)}
	control.nodes = append(control.nodes, node{"cluster", fmt.Sprintf("cluster VPC %s<br/>%s", cp.VPC.ID, cp.VPC.CIDR)})
	for _, s := range t.Services {
		alb := s.Upstream
		if d.Link == deployment.LinkNone {
			alb = s.ALBArn[strings.LastIndex(s.ALBArn, "app/")+len("app/"):] // <name>/<id>
		}
		control.nodes = append(control.nodes, node{id("alb", s.Name), fmt.Sprintf("%s ALB<br/>%s:%d", s.Name, alb, s.UpstreamPort)})
		g.edges = append(g.edges, edge{"cluster", id("alb", s.Name), ""})
	}
	if d.Link == deployment.LinkNone {
		// proxy.mode none: the endpoint service's NLB sits in the cluster VPC
		// and forwards each service's port to its ALB; no proxies, no link.
		control.nodes = append(control.nodes, node{id("svc", d.MainRegion), "endpoint service + NLB<br/>(no proxies)"})
		for _, s := range t.Services {
			g.edges = append(g.edges, edge{id("svc", d.MainRegion), id("alb", s.Name), fmt.Sprintf("port %d", s.Port)})
		}
	}
	if d.Link == string(topology.TGW) {
		control.nodes = append(control.nodes, node{"hub", fmt.Sprintf("hub Transit Gateway<br/>ASN %d", t.TransitGatewayASN(d.MainRegion))})
		g.edges = append(g.edges, edge{"hub", "cluster", "attachment"})
	}
	g.groups = append(g.groups, control)

	for _, p := range providers(t, d) {
		if p.Fleet == nil {
			continue // proxy.mode none: the cluster VPC's endpoint service, drawn above
		}
		r, _ := t.Region(p.Region)
		label := fmt.Sprintf("provider · %s · %s", p.Region, r.CIDR)
		if p.Account != cp.Account {
			label = fmt.Sprintf("provider · %s · %s · %s", p.Account, p.Region, r.CIDR)
		}
		pg := group{id: id("provider", p.Region), label: label}
		svc, proxies := id("svc", p.Region), id("proxies", p.Region)
		pg.nodes = append(pg.nodes,
			node{svc, "endpoint service + NLB"},
			node{proxies, fmt.Sprintf("nginx proxies<br/>%d-%d × %s", p.Fleet.Min, p.Fleet.Max, p.Fleet.InstanceType)})
		g.edges = append(g.edges, edge{svc, proxies, ""})
		switch d.Link {
		case string(topology.TGW):
			if p.Region == d.MainRegion {
				g.edges = append(g.edges, edge{proxies, "hub", "attachment"})
			} else {
				gw := id("tgw", p.Region)
				pg.nodes = append(pg.nodes, node{gw, fmt.Sprintf("Transit Gateway<br/>ASN %d", t.TransitGatewayASN(p.Region))})
				g.edges = append(g.edges, edge{proxies, gw, "attachment"}, edge{gw, "hub", "TGW peering"})
			}
		default:
			label := "VPC peering"
			if p.Region != d.MainRegion {
				label = "inter-region VPC peering"
			}
			g.edges = append(g.edges, edge{proxies, "cluster", label})
		}
		g.groups = append(g.groups, pg)
	}

	// tgwMesh full: a peering per pair of regions other than the main one.
	if d.Link == string(topology.TGW) && t.TGWMesh == topology.MeshFull {
		var spokes []string
		for _, p := range d.Providers {
			if p.Region != d.MainRegion {
				spokes = append(spokes, p.Region)
			}
		}
		for i, a := range spokes {
			for _, b := range spokes[i+1:] {
				g.edges = append(g.edges, edge{id("tgw", b), id("tgw", a), "TGW peering (mesh)"})
			}
		}
	}

	byName := map[string]topology.Consumer{}
	for _, c := range t.Consumers {
		byName[c.Name] = c
	}
	consumers := append([]deployment.Consumer(nil), d.Consumers...)
	sort.SliceStable(consumers, func(i, j int) bool { return consumers[i].Region < consumers[j].Region })
	for _, c := range consumers {
		ep := id("ep", c.Name)
		v := byName[c.Name].VPC
		vpc := "new VPC " + v.CIDR
		if v.Existing() {
			vpc = v.ID + " " + v.CIDR
		}
		g.groups = append(g.groups, group{id: id("consumer", c.Name), label: fmt.Sprintf("%s · %s · %s", c.Name, c.Account, c.Region),
			nodes: []node{{ep, fmt.Sprintf("agents → %s.%s<br/>endpoint in %s", "{"+strings.Join(names, ",")+"}", t.Domain, vpc)}}})
		g.edges = append(g.edges, edge{ep, id("svc", c.Provider), privateLink(c.Region, c.Provider)})
	}
	return g
}

// privateLink labels the edge from an endpoint in region to the endpoint
// service in provider.
func privateLink(region, provider string) string {
	if region != provider {
		return "cross-region PrivateLink"
	}
	return "PrivateLink"
}

// providers are d's providers in the order of the file's regions.
func providers(t *topology.Topology, d *deployment.Deployment) []deployment.Provider {
	out := make([]deployment.Provider, 0, len(d.Providers))
	for _, r := range t.Regions {
		for _, p := range d.Providers {
			if p.Region == r.Region {
				out = append(out, p)
			}
		}
	}
	return out
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
