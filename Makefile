# paymeter — build, test, benchmark.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
export CGO_ENABLED = 1

.PHONY: build test lint bench bench-ledger bench-load bench-load-postgres bench-stream bench-demo-start demo fuzz clean contracts

build: ## the paymeter binary in bin/
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/paymeter ./cmd/paymeter

test: lint testdata/interop/node_modules .bin/geth ## gofmt check, go vet, and the whole suite under the race detector
	$(GO) test -race -count=1 ./...

# geth for the end-to-end test on a real chain (geth --dev), built from the
# go-ethereum module at the version go.mod pins.
GETH_VERSION = $(shell $(GO) list -m -f '{{.Version}}' github.com/ethereum/go-ethereum)
.bin/geth: go.mod
	GOBIN=$(CURDIR)/.bin $(GO) install github.com/ethereum/go-ethereum/cmd/geth@$(GETH_VERSION)
	touch $@

# The third-party clients of the interop tests (viem, siwe), from the lock file.
testdata/interop/node_modules: testdata/interop/package.json testdata/interop/package-lock.json
	npm ci --prefix testdata/interop --no-audit --no-fund
	touch $@

# The test contracts of docs/design.md §5: ABI and bytecode from the Solidity sources with the solc-js pinned in
# contracts/package-lock.json, then classic (v1) Go bindings from the abigen of the go-ethereum version in
# go.mod (abigen writes its files 0600, hence the chmod). All outputs are committed; a rebuild from unchanged
# sources leaves no diff.
contracts: ABIGEN = $(GO) run github.com/ethereum/go-ethereum/cmd/abigen@$(shell $(GO) list -m -f '{{.Version}}' github.com/ethereum/go-ethereum)
contracts: ## rebuild contracts/build/* and the bindings contracts/test*.go from contracts/*.sol
	npm ci --prefix contracts --no-audit --no-fund
	node contracts/build.mjs
	$(ABIGEN) --abi contracts/build/TestUSDC.abi --bin contracts/build/TestUSDC.bin --pkg contracts --type TestUSDC --out contracts/testusdc.go
	$(ABIGEN) --abi contracts/build/TestWallet.abi --bin contracts/build/TestWallet.bin --pkg contracts --type TestWallet --out contracts/testwallet.go
	$(ABIGEN) --abi contracts/build/TestPermit2.abi --bin contracts/build/TestPermit2.bin --pkg contracts --type TestPermit2 --out contracts/testpermit2.go
	$(ABIGEN) --abi contracts/build/TestUptoProxy.abi --bin contracts/build/TestUptoProxy.bin --pkg contracts --type TestUptoProxy --out contracts/testuptoproxy.go
	chmod 644 contracts/testusdc.go contracts/testwallet.go contracts/testpermit2.go contracts/testuptoproxy.go

lint:
	@unformatted=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

bench: bench-ledger bench-load bench-load-postgres bench-stream bench-demo-start ## every benchmark docs/design.md §8 names

bench-ledger:
	$(GO) test -run '^$$' -bench . -benchtime 3s ./internal/sqlite ./internal/postgres ./internal/auth ./internal/httpapi ./internal/upstream ./internal/demo ./internal/x402

bench-load:
	$(GO) test -run '^$$' -bench BenchmarkLoad -benchtime 1x -timeout 20m ./cmd/paymeter

bench-load-postgres: ## the load bench's API-key path with paymeter on PostgreSQL (a throwaway cluster), beside the bare hop
	PMBENCH_DATABASE=postgres PMBENCH_ONLY=direct,barehop,paymeter $(GO) test -run '^$$' -bench 'BenchmarkLoad$$' -benchtime 1x -timeout 20m ./cmd/paymeter

bench-stream: ## streamed answers on each API: added time to first event and CPU per event against a bare streaming hop
	$(GO) test -run '^$$' -bench BenchmarkStreamRelay -benchtime 1x -timeout 20m ./cmd/paymeter

bench-demo-start: ## go run ./cmd/paymeter demo on a fresh clone: seconds to its printed lines, cold and warm
	scripts/demo-start.sh

demo: build ## run paymeter in front of its built-in demo upstream
	./bin/paymeter demo

# Every fuzz target in the tree (each func Fuzz… in a _test.go file), FUZZTIME each; .ci/run runs them
# for 10 s after the tests. A run that fails only with "context deadline exceeded" and writes no failing
# input is Go's own race at the end of -fuzztime (go.dev/issue/75804, fixed in Go 1.27), not a finding:
# it is reported and passed over; any other failure fails.
FUZZTIME ?= 30s
fuzz: ## every fuzz target for FUZZTIME (default 30s)
	@set -e; for file in $$(git ls-files -co --exclude-standard '*_test.go' | xargs grep -l '^func Fuzz'); do \
	  for f in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$file); do \
	    echo "fuzz ./$$(dirname $$file) $$f for $(FUZZTIME)"; \
	    out=$$(mktemp); \
	    if $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) ./$$(dirname $$file) > $$out 2>&1; then \
	      grep -v '^fuzz: elapsed' $$out; \
	    elif grep -q 'context deadline exceeded' $$out && ! grep -q 'Failing input written\|panic:' $$out; then \
	      grep -v '^fuzz: elapsed' $$out; \
	      echo "fuzz: $$f ended on Go's -fuzztime deadline race (go.dev/issue/75804), not a finding"; \
	    else \
	      cat $$out; rm -f $$out; exit 1; \
	    fi; \
	    rm -f $$out; \
	  done; \
	done

clean:
	rm -rf bin
