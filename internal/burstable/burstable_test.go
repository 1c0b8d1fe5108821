package burstable_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/obslink/obslink/internal/burstable"
)

func TestBaselineMbps(t *testing.T) {
	for typ, want := range map[string]int{"t4g.small": 128, "t3.nano": 32, "t3a.2xlarge": 2048, "t4g.medium": 256, "m7g.large": 0, "t4g": 0, "t4g.huge": 0} {
		assert.Equal(t, want, burstable.BaselineMbps(typ), typ)
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		give string
		want burstable.Spec
		ok   bool
	}{
		{"t4g.small", burstable.Spec{VCPUs: 2, BaselineCPU: 0.20, BaselineMbps: 128}, true},
		{"t3.large", burstable.Spec{VCPUs: 2, BaselineCPU: 0.30, BaselineMbps: 512}, true},
		{"t3a.xlarge", burstable.Spec{VCPUs: 4, BaselineCPU: 0.40, BaselineMbps: 1024}, true},
		{"m7g.large", burstable.Spec{}, false},
		{"t2.small", burstable.Spec{}, false},
	}
	for _, tt := range tests {
		got, ok := burstable.Lookup(tt.give)
		assert.Equal(t, tt.ok, ok, tt.give)
		assert.Equal(t, tt.want, got, tt.give)
	}
}

func TestTypes(t *testing.T) {
	types := burstable.Types()
	assert.Len(t, types, 21, "3 families × 7 sizes")
	assert.Equal(t, "t3.nano", types[0])
	assert.Equal(t, "t4g.2xlarge", types[len(types)-1])
	for _, typ := range types {
		_, ok := burstable.Lookup(typ)
		assert.True(t, ok, typ)
	}
}
