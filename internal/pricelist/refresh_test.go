package pricelist_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/internal/plan"
	"github.com/obslink/obslink/internal/pricelist"
	"github.com/obslink/obslink/topology"
)

// elbIndex is where the pricing endpoint serves AWSELB's current region
// index; serve(t, true) answers it with the older version's.
const elbIndex = "/offers/v1.0/aws/AWSELB/current/region_index.json"

// serve serves testdata on 127.0.0.1 as AWS's pricing endpoint does, with
// AWSELB's prices of November when older is true. The server stops with
// the test.
func serve(t *testing.T, older bool) *httptest.Server {
	t.Helper()
	files := http.FileServer(http.Dir("testdata"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if older && r.URL.Path == elbIndex {
			r.URL.Path = "/offers/v1.0/aws/AWSELB/20261101000000/region_index.json"
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func refresh(t *testing.T, srv *httptest.Server) *pricelist.Result {
	t.Helper()
	r, err := pricelist.Refresh(context.Background(), pricelist.Options{Endpoint: srv.URL, Date: "2026-12-06"})
	require.NoError(t, err)
	return r
}

func TestRefresh(t *testing.T) {
	srv := serve(t, false)
	r := refresh(t, srv)
	p := r.Prices
	assert.Equal(t, []string{"eu-west-1", "sa-east-1", "us-east-1"}, p.Regions, "the commercial regions of the region indexes (not us-gov-west-1)")
	assert.Equal(t, 15, r.Files, "5 regional services × 3 regions, less AWSELB's sa-east-1, plus Route 53's one file")
	assert.Equal(t, "2026-12-06", p.Date)
	assert.Equal(t, "AWS Price List Bulk API, "+srv.URL+"/offers/v1.0/aws/index.json: offer files published 2026-10-21 to 2026-12-03, read by obslink prices refresh", p.Source)

	for _, tt := range []struct {
		item, region string
		want         float64
	}{
		{plan.ItemEndpointHour, "us-east-1", 0.01},
		{plan.ItemEndpointHour, "eu-west-1", 0.011},
		{plan.ItemEndpointHour, "sa-east-1", 0.015},
		{plan.ItemEndpointGB, "eu-west-1", 0.01}, // the first of three tiers
		{plan.ItemTGWAttachment, "sa-east-1", 0.07},
		{plan.ItemTGWGB, "us-east-1", 0.02},
		{plan.ItemNLBHour, "us-east-1", 0.0225}, // not the ALB's, the trust store's or the Outpost's
		{plan.ItemNLBHour, "eu-west-1", 0.0261},
		{plan.ItemNLCUHour, "eu-west-1", 0.006},          // not the ALB's 0.008
		{plan.ItemEC2("t4g.small"), "us-east-1", 0.0168}, // not Windows, dedicated, unused reservations or the Local Zone
		{plan.ItemEC2("t4g.small"), "sa-east-1", 0.0269},
		{plan.ItemEC2("t4g.medium"), "eu-west-1", 0.0368},
		{plan.ItemEC2("t3.small"), "eu-west-1", 0.0228},
		{plan.ItemGP3, "sa-east-1", 0.152}, // not gp2
		{plan.ItemSurplus("t4g"), "eu-west-1", 0.04},
		{plan.ItemSurplus("t3"), "us-east-1", 0.05}, // Linux, not Windows
		{plan.ItemLogsIngestGB, "eu-west-1", 0.57},  // not vended logs or storage
		{plan.ItemCrossZoneGB, "us-east-1", 0.01},
		{plan.ItemInterRegionGB, "us-east-1", 0.02},
		{plan.ItemInterRegionGB, "sa-east-1", 0.138},
		{plan.ItemZoneMonth, plan.RegionGlobal, 0.5}, // the first 25 zones
	} {
		v, ok := p.Price(tt.item, tt.region)
		if assert.True(t, ok, "%s in %s", tt.item, tt.region) {
			assert.InDelta(t, tt.want, v, 1e-12, "%s in %s", tt.item, tt.region)
		}
	}
	assert.Equal(t, map[string]float64{"us-east-1>us-east-2": 0.01}, p.Items[plan.ItemInterRegionGB].Pairs, "the destinations at another price than the sending region's most common one")

	nlb := p.Items[plan.ItemNLBHour]
	assert.Equal(t, srv.URL+elbIndex, nlb.Source)
	assert.Equal(t, "2026-12-02", nlb.Date, "the day AWSELB's files were published")
	assert.Contains(t, nlb.Checked, "read by obslink prices refresh from offer AWSELB: usage type LoadBalancerUsage, operation LoadBalancing:Network, on-demand")
	assert.Equal(t, srv.URL+"/offers/v1.0/aws/AmazonRoute53/current/index.json", p.Items[plan.ItemZoneMonth].Source)

	// AWSELB's region index has no sa-east-1: its items are named, not zero.
	_, ok := p.Price(plan.ItemNLBHour, "sa-east-1")
	assert.False(t, ok)
	for _, want := range []string{
		"nlb.hour: sa-east-1",
		"nlb.nlcuHour: sa-east-1",
		"ec2.t3.small: sa-east-1",
		"burstable.t3.surplusVCPUHour: sa-east-1",
		"ec2.t3a.nano: eu-west-1, sa-east-1, us-east-1",
	} {
		assert.Contains(t, r.Missing, want)
	}
	assert.Empty(t, r.Ambiguous)
}

// What refresh writes, plan reads, and plans a topology in each of its
// regions with: sa-east-1's NLB is named once and left out.
func TestRefreshedFilePlans(t *testing.T) {
	r := refresh(t, serve(t, false))
	data, err := pricelist.Marshal(r.Prices)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(data), pricelist.Header))
	p, err := plan.ParsePrices("refreshed.yaml", data)
	require.NoError(t, err)
	assert.Equal(t, r.Prices.Items, p.Items, "the file holds every figure")
	assert.Equal(t, r.Prices.Regions, p.Regions)

	text := string(topology.DefaultYAML())
	for _, edit := range [][2]string{
		{"region: ap-southeast-1\n    cidr", "region: sa-east-1\n    cidr"},
		{"availabilityZones: [ap-southeast-1a, ap-southeast-1b, ap-southeast-1c]", "availabilityZones: [sa-east-1a, sa-east-1b, sa-east-1c]"},
		{"region: ap-southeast-1\n    vpc", "region: sa-east-1\n    vpc"},
		{"availabilityZones: [ap-southeast-1a, ap-southeast-1b]", "availabilityZones: [sa-east-1a, sa-east-1b]"},
	} {
		require.Contains(t, text, edit[0])
		text = strings.Replace(text, edit[0], edit[1], 1)
	}
	topo, err := topology.Parse("sa.yaml", []byte(text))
	require.NoError(t, err)
	res, err := plan.Make(topo, plan.Options{Total: plan.Load{GiBPerDay: 100}, Capacity: plan.MeasuredCapacity(), Prices: p})
	require.NoError(t, err)
	require.Len(t, res.Unpriced, 1)
	assert.Equal(t, plan.Unpriced{Region: "sa-east-1", Field: "regions[2].region", Items: []string{plan.ItemNLBHour, plan.ItemNLCUHour}}, res.Unpriced[0])
}

// A price changed between two publications: the second refresh has it,
// and Changes names that figure and no other.
func TestRefreshPriceChange(t *testing.T) {
	before := refresh(t, serve(t, true))
	after := refresh(t, serve(t, false))
	v, _ := before.Prices.Price(plan.ItemNLBHour, "eu-west-1")
	assert.InDelta(t, 0.0252, v, 1e-12)
	assert.Equal(t, "2026-11-01", before.Prices.Items[plan.ItemNLBHour].Date)
	assert.Equal(t, []string{"nlb.hour eu-west-1: 0.0252 -> 0.0261"}, pricelist.Changes(before.Prices, after.Prices))
	assert.Empty(t, pricelist.Changes(after.Prices, after.Prices))

	shipped, err := plan.EmbeddedPrices()
	require.NoError(t, err)
	changes := pricelist.Changes(shipped, after.Prices)
	assert.Contains(t, changes, "burstable.t4g.surplusVCPUHour sa-east-1: none -> 0.04", "a figure the shipped table lacks")
	assert.Contains(t, changes, "nlb.hour ap-northeast-1: 0.0243 -> none", "a region the offer files here lack")
}

func TestRefreshErrors(t *testing.T) {
	srv := serve(t, false)
	for _, tt := range []struct {
		name, endpoint, want string
	}{
		{"no index", srv.URL + "/elsewhere", "GET " + srv.URL + "/elsewhere/offers/v1.0/aws/index.json: 404 Not Found"},
		{"not an endpoint", "http://127.0.0.1:1", "connection refused"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pricelist.Refresh(context.Background(), pricelist.Options{Endpoint: tt.endpoint, Date: "2026-12-06"})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}

	// An index without an offer refresh needs.
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"formatVersion" : "v1.0", "offers" : {"AmazonS3" : {"offerCode" : "AmazonS3"}}}`))
	}))
	defer broken.Close()
	_, err := pricelist.Refresh(context.Background(), pricelist.Options{Endpoint: broken.URL, Date: "2026-12-06"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the offer index has no offer AmazonVPC")
}
