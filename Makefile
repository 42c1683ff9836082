# Build, test and lint kist. Needs GNU make and Go, and `make ci` needs root.

GO ?= go

# kist links libcontainer's nsenter, which needs cgo. The netgo and
# osusergo tags and -extldflags -static make the binary fully static.
BUILD_FLAGS := -trimpath -tags 'netgo osusergo' -ldflags '-s -w -extldflags -static'

STATICCHECK_VERSION := v0.8.2
TOOLS := $(CURDIR)/bin/tools/staticcheck-$(STATICCHECK_VERSION)
STATICCHECK := $(TOOLS)/staticcheck

# E2E_FLAGS adds flags to the end-to-end run, such as -v or -run TestRunStdin.
E2E_FLAGS ?=

.PHONY: build hello test unit fuzz corpus e2e ci lint clean

build:
	CGO_ENABLED=1 $(GO) build $(BUILD_FLAGS) -o bin/kist .

# hello builds the example image as an OCI layout and runs it. kist needs
# no network and no root for it.
hello: build
	$(GO) run ./testdata/mkhello -o build/hello
	bin/kist run --rm oci:build/hello

test: unit fuzz e2e

unit:
	$(GO) test $$($(GO) list ./... | grep -v '/e2e$$')

# fuzz runs the unpacker's fuzz target briefly; see unpack/doc.go for a
# longer session. -fuzzminimizetime keeps the workers fuzzing rather than
# shrinking the corpus's large seeds. The budget is a count of executions
# (about 20 s here) because Go 1.26 can fail a time-limited fuzz run with
# "context deadline exceeded" when the deadline races a busy worker.
fuzz:
	$(GO) test ./unpack -run '^$$' -fuzz FuzzLayer -fuzztime 25000x -fuzzminimizetime 200x

# corpus regenerates testdata/layers, which TestCorpusUpToDate checks.
corpus:
	$(GO) run ./testdata/mklayers -o testdata/layers

# e2e builds its own kist binary. Tests whose prerequisites are missing
# skip, unless KIST_E2E_REQUIRE=1 makes them fail.
e2e:
	$(GO) test -count=1 -timeout 60m $(E2E_FLAGS) ./e2e/

# ci prepares the machine (as root) and runs every test, with no skips.
# -k runs the end-to-end tests even when a unit test fails.
ci:
	bash scripts/setup-test-machine
	KIST_E2E_REQUIRE=1 $(MAKE) -k test

# ./... skips testdata/, so its programs are named too.
LINT_PACKAGES := ./... ./testdata/hello ./testdata/mkhello

lint: $(STATICCHECK)
	@unformatted=$$(gofmt -l .); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(LINT_PACKAGES)
	$(STATICCHECK) $(LINT_PACKAGES)

$(STATICCHECK):
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

clean:
	rm -rf bin build
