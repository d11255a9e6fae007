# The two set-up commands of the README: `make run` and `make test`. Both
# install missing Debian packages first, then build.

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)

.PHONY: all deps configure build run test bench clean install image image-test
PREFIX ?= /usr/local

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# The daemon on its embedded defaults, in $(BUILD_DIR)/run (its socket and
# checkpoint go there): MoQ clients can subscribe to the stats broadcasts on
# ws://127.0.0.1:4450/ with no relay. ARGS adds flags, e.g.
# `make run ARGS=--origin-url=ws://127.0.0.1:4443/anon` to publish into a
# relay too. Ctrl-C stops it gracefully.
# Builds only the daemon and the CLI, quietly (the build's output is shown
# only when it fails), so the daemon's listening line is the last one printed.
run: configure
	@mkdir -p $(BUILD_DIR)/run
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target moq-stats-sidecar moq-stats >$(BUILD_DIR)/run/build.log 2>&1 \
	  || { cat $(BUILD_DIR)/run/build.log >&2; exit 1; }
	@echo "moq-stats (the CLI): $(abspath $(BUILD_DIR))/client/moq-stats"
	@cd $(BUILD_DIR)/run && exec ../server/moq-stats-sidecar $(ARGS)

# The interop tests' npm packages (tests/interop/node_modules) are installed
# from the lockfile when missing or older than it; so are the page test's
# (tests/page/node_modules).
test: build
	@if [ ! -d tests/interop/node_modules ] || [ tests/interop/package-lock.json -nt tests/interop/node_modules ]; then \
	  npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error >/dev/null && touch tests/interop/node_modules; \
	fi
	@if [ ! -d tests/page/node_modules ] || [ tests/page/package-lock.json -nt tests/page/node_modules ]; then \
	  npm ci --prefix tests/page --no-audit --no-fund --loglevel=error >/dev/null && touch tests/page/node_modules; \
	fi
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)
	FUZZ_BUILD_DIR=$(BUILD_DIR)-fuzz JOBS=$(JOBS) scripts/run-fuzzers.sh

# The daemon, the CLI, the headers, the static libraries, libmoqstats.so,
# the CMake package and moqstats.pc under PREFIX (default /usr/local).
install: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target moq-stats-sidecar moq-stats moqstats_shared moqstats_client
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

# The container image localhost/moq-stats-sidecar from deploy/Dockerfile,
# with podman (scripts/build-image.sh); image-test runs it
# (tests/deploy/image_test.sh, with the CLI of this build tree).
image:
	@scripts/install-deps.sh --image
	scripts/build-image.sh

image-test: image configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target moq-stats >/dev/null
	tests/deploy/image_test.sh localhost/moq-stats-sidecar:latest $(BUILD_DIR)/client/moq-stats

bench: deps
	@cmake -S . -B $(BUILD_DIR)-release -DCMAKE_BUILD_TYPE=Release -DMOQSTATS_BUILD_TESTS=OFF >/dev/null
	@cmake --build $(BUILD_DIR)-release -j $(JOBS) --target core_bench ingest_bench client_bench e2e_bench bridge_bench metrics_bench node_track_bench node_publisher_bench compressed_track_bench moq-stats-sidecar
	./$(BUILD_DIR)-release/bench/core_bench
	./$(BUILD_DIR)-release/bench/ingest_bench
	./$(BUILD_DIR)-release/bench/client_bench
	./$(BUILD_DIR)-release/bench/e2e_bench
	./$(BUILD_DIR)-release/bench/bridge_bench
	./$(BUILD_DIR)-release/bench/metrics_bench
	./$(BUILD_DIR)-release/bench/node_track_bench
	./$(BUILD_DIR)-release/bench/node_publisher_bench
	./$(BUILD_DIR)-release/bench/compressed_track_bench

clean:
	rm -rf $(BUILD_DIR) $(BUILD_DIR)-release $(BUILD_DIR)-fuzz

# The fault suite (tests/faults) run longer than in `make test`: each
# scenario for SOAK_SECONDS (default 600) with one seed (SOAK_SEED), then a
# table of iterations, kills, bumps, peak daemon memory and results.
.PHONY: soak
soak: build
	SOAK_SECONDS=$(or $(SOAK_SECONDS),600) SOAK_SEED=$(SOAK_SEED) scripts/soak.sh $(BUILD_DIR)
