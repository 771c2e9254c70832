# roomcal — `make run` serves on http://127.0.0.1:8080 with the embedded
# store; `make test` runs every check and test (scripts/test.sh).

GO  ?= go
BIN := bin/roomcal

# How the binary is built, here, in the Dockerfile and by the load driver
# alike: static (no cgo), and without gin's MessagePack binding
# (nomsgpack), which roomcal never uses and which weighs 9.5 MB of the
# binary and ~3 MB of its resident memory.
BUILD_FLAGS := -trimpath -tags nomsgpack

# What build, run and test need besides the Go sources: the front-end
# assets (the calendar bundle, fetched with npm ci from web/package-lock.json
# and copied into web/static/vendor/, which git ignores; go:embed takes
# them from there).
PREREQS := assets

.PHONY: build run test bench vet fmt fmt-check clean assets screenshots image

build: $(PREREQS)
	CGO_ENABLED=0 $(GO) build $(BUILD_FLAGS) -o $(BIN) ./cmd/roomcal

run: build
	./$(BIN) serve

# scripts/test.sh installs what is missing (npm among it), then runs
# make assets itself.
test:
	GO=$(GO) bash scripts/test.sh

# The help page's pictures (help-images/, git-ignored; `make run` serves
# them from there): screenshots of the real pages, taken by the browser
# test that checks the help page (TestBrowserHelp), which `make test` runs
# too, so they never show an older page than the code's.
screenshots:
	GO=$(GO) bash scripts/test.sh ./cmd/roomcal -run 'TestBrowserHelp$$'

# The Docker image with the help page's pictures: taken first (above),
# then copied in by the Dockerfile from the build context. A plain
# `docker build` (or docker-compose build) of a clean clone works too,
# its help page text only. IMAGE names the image.
IMAGE ?= roomcal
image: screenshots
	docker build -t $(IMAGE) .

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

# assets: the front-end files (scripts/assets.sh: npm ci when the lock
# file changed, then web/static/vendor/). A plain `go build` without them
# still works: the day view then offers its booking form alone.
assets:
	bash scripts/assets.sh

clean:
	rm -rf bin web/static/vendor web/node_modules
