# Thin wrapper so a fresh Debian 12 machine needs two commands: `make demo` and `make check`.
# Both install what is missing (packaging/install-deps.sh), configure with the `ci` preset (warnings are
# errors) into ./build, and build with ccache. `make bench` runs the benchmarks, `make package` builds
# the Debian packages.

MAKEFLAGS += --no-print-directory

PRESET ?= ci
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CTEST_JOBS ?= 2
DEMO_DB ?= sqlite:var/keel.db
DEMO_PORT ?= 8080

.PHONY: all deps configure build demo check test bench package format clean

all: build

deps:
	@./packaging/install-deps.sh

configure: deps
	@cmake --preset $(PRESET) -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null

build: configure
	@cmake --build --preset $(PRESET) -j $(JOBS)

# The demo prices its orders through the tax-table plugin (plugins/tax-table, the sample tables of config/tax) and
# translates its 850 with the edi-x12 plugin (config/demo/plugins.d), loaded from the build tree. In-tree plugins are
# unsigned: the demo allows that explicitly, as an operator would. It serves until Ctrl-C on port DEMO_PORT (8080):
# `make demo DEMO_PORT=8081` when that port is taken.
DEMO_FLAGS ?= -D plugins.directory=$(BUILD_DIR)/plugins/lib -D plugins.instances=config/demo/plugins.d \
              -D plugins.allow_unsigned=true -D tax.plugin=tax

demo: build
	@mkdir -p var
	@./$(BUILD_DIR)/modules/cli/keel --db $(DEMO_DB) $(DEMO_FLAGS) -D server.port=$(DEMO_PORT) demo

check: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(CTEST_JOBS) --timeout 900

# `make test` is `make check` without the dependency installation, for a quick re-run.
test:
	@cmake --build --preset $(PRESET) -j $(JOBS)
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(CTEST_JOBS) --timeout 900

bench: build
	@cmake --build --preset $(PRESET) -j $(JOBS) --target keel_benchmarks
	@./tests/scripts/with-databases.sh sh -c "./$(BUILD_DIR)/tests/bench/bench_db && ./$(BUILD_DIR)/tests/bench/bench_inventory && ./$(BUILD_DIR)/tests/bench/bench_orders && ./$(BUILD_DIR)/tests/bench/bench_ledger && ./$(BUILD_DIR)/tests/bench/bench_events && ./$(BUILD_DIR)/tests/bench/bench_edi"
	@./tests/bench/bench_api.sh $(BUILD_DIR)

# The Debian packages keel, keel-dev, keel-plugin-tax and keel-plugin-edi (packaging/CMakeLists.txt) from the tested build tree,
# into $(BUILD_DIR)/packages.
package: build
	@cd $(BUILD_DIR) && cpack --config CPackConfig.cmake
	@ls -1 $(BUILD_DIR)/packages/*.deb

format:
	@git ls-files '*.cpp' '*.h' | xargs clang-format -i

clean:
	@rm -rf $(BUILD_DIR) var
