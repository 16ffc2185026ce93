# stopcoord: build, test and run locally. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

FUNCTIONS := $(notdir $(wildcard functions/*))
LOCAL     := .local
GOARCH_HOST := $(shell go env GOARCH)

# DynamoDB Local, the real engine, ships inside this npm package. Pinned by
# version and by the tarball's sha512 (npm's integrity field).
DDB_PKG       := amplify-dynamodb-simulator@2.9.30
DDB_INTEGRITY := sha512-xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ==
DDB_DIR       := $(LOCAL)/ddb
DDB_JAR       := $(DDB_DIR)/package/emulator/DynamoDBLocal.jar

LAMBDA_FLAGS := -tags lambda.norpc -trimpath -buildvcs=false -ldflags='-s -w'

# STAGE names a deployment (make deploy STAGE=dev): the stack becomes
# StopCoord-<stage>, so several share an account and region.
STAGE    ?=
STACK    := StopCoord$(if $(STAGE),-$(STAGE))
TEMPLATE := cdk.out/$(STACK).template.json
CDK      := CDK_DISABLE_CLI_TELEMETRY=true npx cdk
CDK_CONTEXT := $(if $(STAGE),-c stopcoord:stage=$(STAGE))
# The local stack (demo, local, invoke, chaos) cleans only what
# local/cleanup-scope.json allows, as a deployment cleans only what its
# stopcoord:cleanupScope context allows (none by default).
LOCAL_SCOPE := -c "stopcoord:cleanupScope=$$(tr -d '\n' < local/cleanup-scope.json)"

export STOPCOORD_DYNAMODB_LOCAL_JAR := $(abspath $(DDB_JAR))
export STOPCOORD_AWS_LAMBDA_RIE     := $(abspath $(LOCAL)/bin/aws-lambda-rie)

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

.PHONY: tools
tools: $(DDB_JAR) ## install what the tests and the local stack need (DynamoDB Local, aws-lambda-rie; checks java, node, moto_server)
	@command -v java >/dev/null || { echo "java not found: install a Java 17 runtime (apt-get install openjdk-17-jre-headless)"; exit 1; }
	@command -v moto_server >/dev/null || { echo 'moto_server not found: python3 -m pip install "moto[server]"'; exit 1; }
	go build -o $(LOCAL)/bin/aws-lambda-rie github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie

$(DDB_JAR):
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20+ with npm"; exit 1; }
	rm -rf $(DDB_DIR) && mkdir -p $(DDB_DIR)
	cd $(DDB_DIR) && npm pack --silent $(DDB_PKG) >/dev/null
	@got="sha512-$$(openssl dgst -sha512 -binary $(DDB_DIR)/*.tgz | base64 -w0)"; \
	  if [ "$$got" != "$(DDB_INTEGRITY)" ]; then echo "integrity mismatch for $(DDB_PKG): $$got"; rm -rf $(DDB_DIR); exit 1; fi
	tar -xzf $(DDB_DIR)/*.tgz -C $(DDB_DIR) package/emulator
	rm -f $(DDB_DIR)/*.tgz
	@test -f $@

.PHONY: build
build: ## build every function: dist/<fn>/bootstrap (linux/arm64) and .local/bin/<fn>/bootstrap (host)
	@for fn in $(FUNCTIONS); do \
	  echo "build $$fn"; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build $(LAMBDA_FLAGS) -o dist/$$fn/bootstrap ./functions/$$fn; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH_HOST) go build $(LAMBDA_FLAGS) -o $(LOCAL)/bin/$$fn/bootstrap ./functions/$$fn; \
	done

# One DynamoDB Local for the whole run, shared by every test binary
# (local/cmd/dynamodb-local sets STOPCOORD_DYNAMODB_ENDPOINT); each test
# still gets a fresh table. STOPCOORD_TEST_SLOWDOWN=3 stretches every
# deadline the tests keep, on a slow or busy machine.
# TEST_TIMEOUT is go test's per-binary limit against a hang: on a loaded
# 2-core machine one binary has taken over 10 minutes (go test's default).
TEST_TIMEOUT ?= 30m
.PHONY: test
test: tools ## gofmt, go vet and every test with the race detector, against real DynamoDB Local and moto
	@unformatted=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	go run ./local/cmd/dynamodb-local -- go test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --silent

.PHONY: synth
synth: build node_modules/.package-lock.json ## synthesize the stack for the local stack into cdk.out/ (pinned CDK CLI, offline; local/cleanup-scope.json as its cleanup scope)
	$(CDK) synth -q $(CDK_CONTEXT) $(LOCAL_SCOPE)

.PHONY: deploy
deploy: build node_modules/.package-lock.json ## build, then cdk deploy to the current AWS account and region (run `npx cdk bootstrap` once first): make deploy [STAGE=dev]
	@major=$$(node -p 'process.versions.node.split(".")[0]'); \
	  if [ "$$major" -lt 22 ]; then echo "warning: Node $$major is end-of-life for the CDK CLI; use Node 22 or 24"; fi
	$(CDK) deploy $(CDK_CONTEXT) $(STACK)

.PHONY: demo
demo: tools build synth ## the main job end to end: a pipeline with callback and Lambda steps, stopped over HTTP, with its timeline
	go run ./local/cmd/demo -template $(TEMPLATE) -bin $(LOCAL)/bin

# ARGS passes flags to stopcoord-local: Lambda-step functions and the
# emulator's switches and faults, e.g.
#   make local ARGS="-lambda arn:aws:lambda:us-east-1:123456789012:function:score=./score/bootstrap -fault '*:throttle=0.2'"
# (`go run ./local/cmd/stopcoord-local -h` lists them all).
ARGS ?=

# make chaos: the chaos run's template carries policies (max runtime,
# fail-fast, short grace periods) and a scheduled stop for its pipelines.
# CHAOS_ARGS passes more flags (go run ./local/cmd/chaos -h), e.g.
# CHAOS_ARGS="-function-logs chaos-functions.log -lose-messages 1".
N    ?= 100
SEED ?= 0
CHAOS_ARGS ?=
CHAOS_OUT     := $(LOCAL)/chaos
CHAOS_CONTEXT := -c 'stopcoord:policies={"policies":[{"pipelines":["chaos-maxrt"],"maxRuntime":"20s","gracePeriod":"10s","forceDeadline":"40s"},{"pipelines":["chaos-failfast"],"failFast":true,"gracePeriod":"10s","forceDeadline":"40s"},{"pipelines":["chaos-*"],"gracePeriod":"10s","forceDeadline":"40s"}]}' \
                 -c 'stopcoord:scheduledStops=[{"schedule":"rate(1 minute)","pipelineName":"chaos-nightly","reason":"chaos: nightly stop"}]'

.PHONY: chaos
chaos: tools build node_modules/.package-lock.json ## stopcoord under faults, every promise checked: make chaos N=500 SEED=<to replay>
	$(CDK) synth -q -o $(CHAOS_OUT) $(CHAOS_CONTEXT) $(LOCAL_SCOPE)
	go run ./local/cmd/chaos -template $(CHAOS_OUT)/StopCoord.template.json -bin $(LOCAL)/bin -n $(N) -seed $(SEED) $(CHAOS_ARGS)

.PHONY: local
local: tools build synth ## run the synthesized stack locally (HTTP API on 127.0.0.1:3000; function logs on stderr) until Ctrl-C; ARGS='-lambda ARN=bootstrap ...'
	go run ./local/cmd/stopcoord-local -template $(TEMPLATE) -bin $(LOCAL)/bin $(ARGS)

.PHONY: invoke
invoke: tools build synth ## invoke one function once, like sam local invoke, and print its logs: make invoke FN=stop-api EVENT=events/apigw/stop.json
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<function> EVENT=<events/...json>"; exit 2; }
	go run ./local/cmd/stopcoord-local -template $(TEMPLATE) -bin $(LOCAL)/bin -invoke $(FN) -event $(EVENT) $(ARGS)

.PHONY: sam-invoke
sam-invoke: build synth ## the real SAM CLI on the same template (needs sam and Docker): make sam-invoke FN=<logical id> EVENT=...
	@command -v sam >/dev/null || { echo "sam not found: the SAM CLI (and Docker) are needed; make invoke is the local equivalent"; exit 1; }
	sam local invoke -t $(TEMPLATE) $(FN) -e $(EVENT)

.PHONY: sam-api
sam-api: build synth ## the real SAM CLI's local API on the same template (needs sam and Docker)
	@command -v sam >/dev/null || { echo "sam not found: the SAM CLI (and Docker) are needed; make local is the local equivalent"; exit 1; }
	sam local start-api -t $(TEMPLATE)

.PHONY: lint
lint: ## gofmt and go vet only
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	go vet ./...

.PHONY: bench
BENCH_RUNS ?= 51
BENCH_BOOTSTRAPS := bench/testdata/hello bench/testdata/floor bench/testdata/floor-cleaners $(addprefix functions/,$(FUNCTIONS))
bench: ## cold init of every function against hello world, the floor and Python/boto3, in one table (BENCH_RUNS=51)
	@for pkg in $(BENCH_BOOTSTRAPS); do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH_HOST) go build $(LAMBDA_FLAGS) -o $(LOCAL)/bench/$$(basename $$pkg)/bootstrap ./$$pkg; \
	done
	go run ./bench/cmd/coldstart -runs $(BENCH_RUNS) -python bench/testdata/python/bootstrap.py -cleaning-floor floor-cleaners -cleaning callback,sweeper \
	  $(foreach pkg,$(BENCH_BOOTSTRAPS),$(notdir $(pkg))=$(LOCAL)/bench/$(notdir $(pkg))/bootstrap)

.PHONY: inittrace
inittrace: ## where each function's init time goes, package by package (GODEBUG=inittrace=1)
	@for pkg in $(BENCH_BOOTSTRAPS); do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH_HOST) go build $(LAMBDA_FLAGS) -o $(LOCAL)/bench/$$(basename $$pkg)/bootstrap ./$$pkg; \
	done
	go run ./bench/cmd/coldstart -inittrace -runs 5 \
	  $(foreach pkg,$(BENCH_BOOTSTRAPS),$(notdir $(pkg))=$(LOCAL)/bench/$(notdir $(pkg))/bootstrap)

.PHONY: bench-bulk
BULK_EXECUTIONS ?= 1000
BULK_BUDGET ?= 10
bench-bulk: tools build synth ## stop BULK_EXECUTIONS=1000 running executions with one POST /pipelines/{name}/stops on the local stack, within BULK_BUDGET=10 calls/s
	go run ./bench/cmd/bulkstop -template $(TEMPLATE) -bin $(LOCAL)/bin -executions $(BULK_EXECUTIONS) -budget $(BULK_BUDGET)

.PHONY: bench-go
bench-go: tools ## the Go benchmarks of every package (results in bench/out/)
	mkdir -p bench/out
	go test -run='^$$' -bench=. -benchmem -count=5 ./... | tee bench/out/bench.txt

.PHONY: clean
clean: ## remove build outputs (keeps the installed tools in .local/ddb)
	rm -rf dist cdk.out node_modules $(LOCAL)/bin $(LOCAL)/bench bench/out
