package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/internal/plan"
)

// offers serves the trimmed offer files of internal/pricelist/testdata on
// 127.0.0.1, AWSELB's November prices when older is true.
func offers(t *testing.T, older bool) string {
	t.Helper()
	files := http.FileServer(http.Dir("../internal/pricelist/testdata"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if older && r.URL.Path == "/offers/v1.0/aws/AWSELB/current/region_index.json" {
			r.URL.Path = "/offers/v1.0/aws/AWSELB/20261101000000/region_index.json"
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Refresh writes a file plan reads; a second refresh reports what changed
// since; plan with it names the file and its date, and what it lacks.
func TestPricesRefresh(t *testing.T) {
	out := filepath.Join(t.TempDir(), "prices.yaml")
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"prices", "refresh", "--out", out, "--endpoint", offers(t, true)}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "obslink prices refresh: wrote "+out+": 3 regions, 16 items, from 15 offer files (AWS Price List Bulk API, http://127.0.0.1:")
	assert.Contains(t, stdout.String(), "\n- nlb.hour: sa-east-1\n", "AWSELB's region index has no sa-east-1")
	assert.NotContains(t, stdout.String(), "Against the previous file", "there was none")
	assert.Contains(t, stderr.String(), "read AWSELB eu-west-1 (published 2026-11-01T00:00:00Z)")

	stdout.Reset()
	t.Setenv(endpointEnv, offers(t, false))
	require.Equal(t, 0, run([]string{"prices", "refresh", "--out", out}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "Against the previous file (dated ")
	assert.Contains(t, stdout.String(), ": 1 figures changed, 0 new, 0 gone.\n- nlb.hour eu-west-1: 0.0252 -> 0.0261\n")

	p, err := plan.LoadPrices(out)
	require.NoError(t, err)
	v, _ := p.Price(plan.ItemNLBHour, "eu-west-1")
	assert.InDelta(t, 0.0261, v, 1e-12)

	stdout.Reset()
	require.Equal(t, 0, run([]string{"plan", "../examples/minimal.yaml", "--gib-per-day", "100", "--prices", out}, &stdout, &stderr), stderr.String())
	s := stdout.String()
	assert.Contains(t, s, "\nPrices: "+out+", dated "+p.Date+": AWS Price List Bulk API, http://127.0.0.1:")
	assert.Contains(t, s, "- eu-central-1 (controlPlane.region; not one of the file's regions): privatelink.endpointHour, privatelink.dataGB, nlb.hour")
}

func TestPricesRefreshErrors(t *testing.T) {
	shipped, err := os.ReadFile("../" + plan.PriceFile)
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "prices.yaml")
	require.NoError(t, os.WriteFile(out, shipped, 0o644))
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"prices"}, 2, "obslink prices: give a subcommand: obslink prices refresh [--out FILE] [--endpoint URL]\nRun 'obslink prices --help' for usage."},
		{[]string{"prices", "refesh"}, 2, `obslink prices: unknown subcommand "refesh"; the subcommand is refresh`},
		{[]string{"prices", "refresh", "--out", "no/such/dir/prices.yaml"}, 2, "obslink prices refresh: --out no/such/dir/prices.yaml: directory no/such/dir does not exist"},
		{[]string{"prices", "refresh", "--endpoint", "pricing.example"}, 2, `--endpoint "pricing.example" is not an http(s) URL`},
		{[]string{"prices", "refresh", "--out", out, "--endpoint", offers(t, false) + "/nothing"}, 1, "/nothing/offers/v1.0/aws/index.json: 404 Not Found"},
		{[]string{"prices", "refresh", "extra"}, 2, `unexpected argument "extra"`},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			assert.Equal(t, tt.code, run(tt.args, &stdout, &stderr))
			assert.Contains(t, stderr.String(), tt.want)
			assert.Empty(t, stdout.String())
		})
	}
	after, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, shipped, after, "a failed refresh leaves the file alone")

}

func TestPricesRefreshHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"prices", "refresh", "--help"}, &stdout, &stderr), stderr.String())
	out := stdout.String()
	assert.Contains(t, out, "Usage:\n  obslink prices refresh [flags]")
	assert.Contains(t, out, "--out FILE")
	assert.Contains(t, out, "--endpoint URL")
	assert.Contains(t, out, "(default \"internal/plan/prices.yaml\")")
	assert.Regexp(t, `(?m)^  obslink prices refresh --out `, out, "an example runs it")
	stdout.Reset()
	require.Equal(t, 0, run([]string{"prices", "--help"}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "Available Commands:\n  refresh ")
}
