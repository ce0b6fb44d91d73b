# govwatch — make help lists the targets.
GO      ?= go
BIN     ?= bin
PKGS    ?= ./...
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/govwatch/govwatch/pkg/daemon.Version=$(VERSION)
KUSTOMIZE_VERSION ?= v5.7.1
KUSTOMIZE ?= $(shell command -v kustomize 2>/dev/null || echo $$($(GO) env GOPATH)/bin/kustomize)

.PHONY: help build test vet fmt bench run demo check-config docs clean lint-deploy tools-deploy

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## build govwatch and the three daemons into bin/
	@mkdir -p $(BIN)
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

test: vet ## go vet, then every test with the race detector
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

vet: ## go vet and a gofmt check
	$(GO) vet $(PKGS)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

fmt: ## gofmt every Go file
	gofmt -w $$(git ls-files '*.go')

bench: ## benchmarks (compare runs with benchstat)
	$(GO) test -run '^$$' -bench . -benchmem -count 6 $(PKGS)

run: ## the demo: everything in one process on :8080
	$(GO) run ./cmd/govwatch run -config configs/govwatch.yaml

docs: ## regenerate docs/config-reference.md and pkg/model's category table from the config types and the plugins
	$(GO) run ./cmd/govwatch config reference > docs/config-reference.md
	$(GO) test ./docs -run TestCategoryTableIsCurrent -update > /dev/null

check-config: build ## check the shipped config
	$(BIN)/govwatch config check configs/govwatch.yaml

lint-deploy: ## check deployments/: promtool config, rules and rule tests; docker-compose config; kustomize build; the Dockerfile's build stage replayed
	promtool check config deployments/prometheus/prometheus.yml
	promtool check rules deployments/prometheus/rules/*.rules.yml
	promtool test rules deployments/prometheus/rules/*.test.yml
	docker-compose -f deployments/docker-compose.yml --profile demo config -q
	$(KUSTOMIZE) build deployments/kubernetes >/dev/null
	$(GO) test -count=1 -timeout 30m -run 'TestDockerBuildStage|TestReadBuildStage' ./deployments/
	@echo "deployments: prometheus config and rules, compose file and kustomize base are valid; the image's build stage builds"

tools-deploy: ## install kustomize (KUSTOMIZE_VERSION) from the Go module proxy; promtool and docker-compose come from apt
	GOFLAGS= $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

clean: ## remove build output and the demo's data directory
	rm -rf $(BIN) data
