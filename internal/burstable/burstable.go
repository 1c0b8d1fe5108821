// Package burstable describes the burstable EC2 instance types obslink
// knows (the t3, t3a and t4g families): their vCPUs, baseline CPU and
// baseline network bandwidth. Pure Go: the monitoring construct and
// obslink plan both read it.
package burstable

import "strings"

// Spec is what an instance type offers without spending credits.
type Spec struct {
	// VCPUs of the instance type.
	VCPUs int
	// BaselineCPU is the share of each vCPU it may use on average
	// without spending more CPU credits than it earns (0.2 = 20 %).
	BaselineCPU float64
	// BaselineMbps is its baseline network bandwidth each way, in Mbps.
	BaselineMbps int
}

// sizes are the t3, t3a and t4g sizes, identical in the three families.
// vCPUs and baseline per vCPU: EC2 User Guide, "Key concepts and definitions
// for burstable performance instances", credit table (baseline utilization
// per vCPU). Baseline bandwidth: EC2 User Guide, "Network specifications",
// general purpose instances (baseline bandwidth in Gbps; the same table
// karpenter generates as pkg/providers/instancetype/zz_generated.bandwidth.go).
var sizes = map[string]Spec{
	"nano":    {VCPUs: 2, BaselineCPU: 0.05, BaselineMbps: 32},
	"micro":   {VCPUs: 2, BaselineCPU: 0.10, BaselineMbps: 64},
	"small":   {VCPUs: 2, BaselineCPU: 0.20, BaselineMbps: 128},
	"medium":  {VCPUs: 2, BaselineCPU: 0.20, BaselineMbps: 256},
	"large":   {VCPUs: 2, BaselineCPU: 0.30, BaselineMbps: 512},
	"xlarge":  {VCPUs: 4, BaselineCPU: 0.40, BaselineMbps: 1024},
	"2xlarge": {VCPUs: 8, BaselineCPU: 0.40, BaselineMbps: 2048},
}

// Families returns the instance families Lookup knows.
func Families() []string { return []string{"t3", "t3a", "t4g"} }

// sizeOrder lists the sizes from the smallest up.
var sizeOrder = []string{"nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"}

// Types returns every instance type Lookup knows, family by family, from
// the smallest size up: t3.nano, t3.micro, ..., t4g.2xlarge.
func Types() []string {
	var out []string
	for _, f := range Families() {
		for _, s := range sizeOrder {
			out = append(out, f+"."+s)
		}
	}
	return out
}

// Lookup returns the Spec of instanceType (such as t4g.small), or false for
// a type obslink does not know.
func Lookup(instanceType string) (Spec, bool) {
	family, size, ok := strings.Cut(instanceType, ".")
	if !ok || (family != "t3" && family != "t3a" && family != "t4g") {
		return Spec{}, false
	}
	s, ok := sizes[size]
	return s, ok
}

// BaselineMbps is the baseline network bandwidth of instanceType in Mbps,
// or 0 when obslink does not know it.
func BaselineMbps(instanceType string) int {
	s, _ := Lookup(instanceType)
	return s.BaselineMbps
}
