# roomcal — `make run` serves on http://127.0.0.1:8080 with the embedded
# store; `make test` runs every check and test (scripts/test.sh).

GO  ?= go
BIN := bin/roomcal

# What build, run and test need besides the Go sources. The front-end
# assets (fetched and built with npm) will be a target listed here.
PREREQS :=

.PHONY: build run test bench vet fmt fmt-check clean

build: $(PREREQS)
	$(GO) build -o $(BIN) ./cmd/roomcal

run: build
	./$(BIN) serve

test: $(PREREQS)
	GO=$(GO) bash scripts/test.sh

# Go benchmarks and the load driver against a private Redis and Radicale;
# results go to BENCHMARKS.md by hand, with the machine and the date.
bench: $(PREREQS)
	GO=$(GO) bash scripts/bench.sh

vet:
	$(GO) vet ./...

fmt:
	$(GO) fmt ./...

fmt-check:
	GO=$(GO) bash scripts/fmt-check.sh

clean:
	rm -rf bin
