package pricelist

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUsageBase(t *testing.T) {
	for _, tt := range []struct{ give, region, want string }{
		{"EUW2-LoadBalancerUsage", "eu-west-2", "LoadBalancerUsage"},
		{"EU-VpcEndpoint-Hours", "eu-west-1", "VpcEndpoint-Hours"},
		{"USE1-VpcEndpoint-Hours", "us-east-1", "VpcEndpoint-Hours"},
		{"LoadBalancerUsage", "us-east-1", "LoadBalancerUsage"},
		{"TS-LoadBalancerUsage", "us-east-1", "TS-LoadBalancerUsage"}, // a trust store, not a region code
		{"EUW2-TS-LoadBalancerUsage", "eu-west-2", "TS-LoadBalancerUsage"},
		{"USE1-LAX1-BoxUsage:t4g.small", "us-east-1", "LAX1-BoxUsage:t4g.small"},
		{"APS3-BoxUsage:t4g.small", "ap-southeast-1", "APS3-BoxUsage:t4g.small"}, // Mumbai's code, not Singapore's
		{"XYZ1-BoxUsage:t4g.small", "xx-new-1", "XYZ1-BoxUsage:t4g.small"},
	} {
		assert.Equal(t, tt.want, usageBase(tt.give, tt.region), "%s in %s", tt.give, tt.region)
	}
}

func TestCommercial(t *testing.T) {
	for region, want := range map[string]bool{"us-east-1": true, "ap-southeast-7": true, "us-gov-west-1": false, "cn-north-1": false, "us-isob-east-1": false, "us-west-2-lax-1": false, "global": false} {
		assert.Equal(t, want, commercial(region), region)
	}
}

const twoPrices = `{"formatVersion" : "v1.0", "offerCode" : "AWSELB", "publicationDate" : "2026-12-02T09:45:12Z",
 "products" : {
  "A" : {"sku" : "A", "productFamily" : "Load Balancer-Network", "attributes" : {"locationType" : "AWS Region", "regionCode" : "eu-west-2", "usagetype" : "EUW2-LoadBalancerUsage", "operation" : "LoadBalancing:Network"}},
  "B" : {"sku" : "B", "productFamily" : "Load Balancer-Network", "attributes" : {"locationType" : "AWS Region", "regionCode" : "eu-west-2", "usagetype" : "EUW2-LoadBalancerUsage", "operation" : "LoadBalancing:Network"}}},
 "terms" : {"OnDemand" : {
  "A" : {"A.JRTCKXETXF" : {"priceDimensions" : {"A.JRTCKXETXF.6YS6EN2CT7" : {"unit" : "Hrs", "beginRange" : "0", "endRange" : "Inf", "pricePerUnit" : {"USD" : "0.0264600000"}}}}},
  "B" : {"B.JRTCKXETXF" : {"priceDimensions" : {"B.JRTCKXETXF.6YS6EN2CT7" : {"unit" : "Hrs", "beginRange" : "0", "endRange" : "Inf", "pricePerUnit" : {"USD" : "0.0300000000"}}}}}}}}`

// Two products for one item and region at different prices: the figure
// is left out and named, not one picked at random.
func TestAmbiguous(t *testing.T) {
	o, err := readOffer(strings.NewReader(twoPrices), elb("eu-west-2"))
	require.NoError(t, err)
	j := job{svc: service{code: "AWSELB"}, region: "eu-west-2"}
	r := build(Options{Endpoint: "http://127.0.0.1", Date: "2026-12-06"}, []job{j}, []*offer{o}, []string{"eu-west-2"}, map[string]string{})
	assert.Equal(t, []string{"nlb.hour in eu-west-2: 0.02646 (SKU A), 0.03 (SKU B)"}, r.Ambiguous)
	_, ok := r.Prices.Price("nlb.hour", "eu-west-2")
	assert.False(t, ok)
	assert.Contains(t, r.Missing, "nlb.hour: eu-west-2")
}

func TestReadOfferErrors(t *testing.T) {
	for _, tt := range []struct{ name, give, want string }{
		{"terms first", `{"terms" : {}, "products" : {}}`, "terms come before products"},
		{"no products", `{"formatVersion" : "v1.0"}`, "no products: not an offer file"},
		{"not a price", strings.Replace(twoPrices, "0.0300000000", "n/a", 1), `terms.OnDemand.B: pricePerUnit USD "n/a"`},
		{"not JSON", `<html>`, "invalid character"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readOffer(strings.NewReader(tt.give), elb("eu-west-2"))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
