# obslink: the two commands are `make synth` and `make test`. Every target
# installs what it needs on first use (the pinned Node 22 and CDK CLI from npm,
# Go modules from the module proxy, the tests' Debian packages with apt-get).
SHELL := /bin/bash
.DEFAULT_GOAL := synth

TOOLCHAIN := $(CURDIR)/.toolchain
NODE_BIN  := $(TOOLCHAIN)/node_modules/node/bin
NODE      := $(NODE_BIN)/node
CDK       := $(TOOLCHAIN)/node_modules/.bin/cdk

# jsii runs our pinned Node 22 (Node 20 is end of life), found first on PATH too.
export JSII_NODE := $(NODE)
export PATH := $(NODE_BIN):$(TOOLCHAIN)/node_modules/.bin:$(PATH)
# Synthesis is offline: no instance-metadata probe, no CLI telemetry or notices.
export AWS_EC2_METADATA_DISABLED := true
export CDK_DISABLE_CLI_TELEMETRY := true

TOPOLOGY ?=
GOFLAGS_TEST ?=
# make test SKIP_MISSING=1: install nothing; tests whose tool is missing skip.
SKIP_MISSING ?=
TESTDEPS := SKIP_MISSING=$(SKIP_MISSING) bash internal/nginxtest/testdeps.sh $(TOOLCHAIN)/trixie

.PHONY: synth test lint golden bench faults toolchain validate clean testdeps

toolchain: $(NODE) $(CDK)

$(NODE) $(CDK): $(TOOLCHAIN)/package.json $(TOOLCHAIN)/package-lock.json
	cd $(TOOLCHAIN) && npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE) $(CDK)

# Synthesize a topology (default: the embedded one) into cdk.out/ with the CDK
# CLI. The topology is validated first, so an invalid one leaves cdk.out alone
# (the CLI creates its output directory before it runs the app).
synth: toolchain
	go run ./bin validate $(TOPOLOGY)
	rm -rf cdk.out
	$(CDK) synth --quiet --no-notices --no-version-reporting $(if $(TOPOLOGY),-c topology=$(TOPOLOGY))
	@echo "templates:"; ls cdk.out/*.template.json

# Check a topology file without synthesizing: make validate TOPOLOGY=file.yaml
validate:
	go run ./bin validate $(TOPOLOGY)

# All tests: Go hygiene first, then every package (real nginx, cfn-lint, cdk-nag,
# golden templates included). CDK's own template validator is off in tests
# (1-2 s per synth); cfn-lint covers the same ground once. With SKIP_MISSING=1
# the list of what was not installed comes again at the end.
test: toolchain testdeps lint
	CDK_VALIDATION=false go test -count=1 $(GOFLAGS_TEST) ./...$(if $(filter 1,$(SKIP_MISSING)),; status=$$?; $(TESTDEPS); exit $$status)

# What the tests run: Debian packages (nginx-light, libnginx-mod-stream,
# haproxy, bind9-dnsutils, shellcheck, graphviz, logrotate, debootstrap) and
# Debian 13's nginx 1.26 for the proxy protocol tests (Debian 12 has 1.22), in
# a debootstrap root in .toolchain/trixie. Installs what is missing as root;
# otherwise names it and the command that installs it, and fails.
testdeps:
	@$(TESTDEPS)

# gofmt, go vet, staticcheck and actionlint (pinned in go.mod as tools).
lint:
	@unformatted=$$(git ls-files '*.go' | xargs gofmt -l); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	go vet ./...
	go tool staticcheck ./...
	cd faults && go vet ./... && go tool staticcheck ./...
	go tool actionlint
	@if command -v shellcheck >/dev/null; then shellcheck .ci/run assets/nginx/*.sh internal/nginxtest/*.sh; \
	else echo "shellcheck not installed: skipped (make testdeps installs it)"; fi

# Rewrite test/golden/ from the default topology, and diagram/testdata/ from
# every example's drawing, after an intended change.
golden: toolchain
	UPDATE_GOLDEN=1 CDK_VALIDATION=false go test -count=1 -run TestGoldenTemplates ./test
	UPDATE_GOLDEN=1 go test -count=1 -run TestGoldenGraphs ./diagram

# Benchmarks: synth at scale (1 to 1,000 consumers in stacks mode and 1,000
# as StackSets, next to an empty-stack floor; the ratios to one consumer and
# the targets) and the proxy's data path (obslink's nginx config vs HAProxy
# doing the same job vs the seed's vs straight to the ALB, three rounds in
# turn). Results and how to read them: docs/benchmarks.md.
BENCH_DIR := $(CURDIR)/.toolchain/bench
bench: toolchain
	@command -v nginx >/dev/null || command -v /usr/sbin/nginx >/dev/null || { echo "make bench needs nginx, HAProxy and dig: apt-get install nginx-light haproxy bind9-dnsutils"; exit 1; }
	@command -v haproxy >/dev/null || command -v /usr/sbin/haproxy >/dev/null || { echo "make bench needs HAProxy (the peer): apt-get install haproxy"; exit 1; }
	mkdir -p $(BENCH_DIR)
	go build -o $(BENCH_DIR)/obslink ./bin
	go build -o $(BENCH_DIR)/floor ./bench/floor
	@echo "## Synth (4 rounds, every case once per round; peak RSS sums the Go process and its Node child)"
	go run ./bench/synthbench -bin $(BENCH_DIR)/obslink -floor $(BENCH_DIR)/floor -runs 4
	@echo "## Proxy data path (loopback, 2 cores shared by load generator, nginx and stand-in ALBs)"
	go test -run '^$$' -bench BenchmarkProxy -benchtime 2s ./constructs/proxyfleet | tee $(BENCH_DIR)/proxy.txt
	go run ./bench/report < $(BENCH_DIR)/proxy.txt

# The fault suite: each fault on obslink's nginx and on the HAProxy peer side
# by side, real clients and receivers, one line per fault and proxy (results
# and what they mean: docs/reliability.md). It runs in namespaces of its own
# (needs root) and is a Go module of its own (faults/), so that the library's
# users never get its Prometheus and OpenTelemetry dependencies.
# FAULTS_LOAD=1 holds the 2,000 connections for 2 minutes (20 s by default);
# FAULTS_ONLY=alb-refused,retire runs only those faults.
FAULTS_DIR := $(CURDIR)/.toolchain/faults
faults: testdeps
	@mkdir -p $(FAULTS_DIR) && rm -f $(FAULTS_DIR)/report.txt
	set -o pipefail; cd faults && OBSLINK_FAULTS=1 FAULTS_REPORT=$(FAULTS_DIR)/report.txt \
		go test -count=1 -v -timeout 45m -run TestFaults . 2>&1 | tee $(FAULTS_DIR)/faults.log | \
		grep --line-buffered -E '^(fault |--- |    --- |FAIL|ok|PASS)|_test.go:[0-9]+: |Error:|Messages:'

clean:
	rm -rf cdk.out
