# obslink: the two commands are `make synth` and `make test`. Every target
# installs what it needs on first use (the pinned Node 22 and CDK CLI from npm,
# Go modules from the module proxy).
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

.PHONY: synth test toolchain validate clean

toolchain: $(NODE) $(CDK)

$(NODE) $(CDK): $(TOOLCHAIN)/package.json $(TOOLCHAIN)/package-lock.json
	cd $(TOOLCHAIN) && npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE) $(CDK)

# Synthesize a topology (default: the embedded one) into cdk.out/ with the CDK CLI.
synth: toolchain
	rm -rf cdk.out
	$(CDK) synth --quiet --no-notices --no-version-reporting $(if $(TOPOLOGY),-c topology=$(TOPOLOGY))
	@echo "templates:"; ls cdk.out/*.template.json

# Check a topology file without synthesizing: make validate TOPOLOGY=file.yaml
validate:
	go run ./bin validate $(TOPOLOGY)

# All tests.
test: toolchain
	CDK_VALIDATION=false go test -count=1 $(GOFLAGS_TEST) ./...

clean:
	rm -rf cdk.out
