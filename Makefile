# Thin wrapper: set-up (apt-get), configure, build, then run or test.
BUILD   ?= build
JOBS    ?= $(shell nproc)
PKGS     = cmake pkg-config gcc make libcapstone-dev libxxhash-dev libcmocka-dev libunicorn-dev gcc-multilib gdb
BENCH_PKGS = qemu-system-x86 gnuplot-nox

.PHONY: all deps build run test bench clean

all: build

# Install only what is missing; apt-get needs root (as on a fresh Debian 12 machine).
deps:
	@missing=$$(for p in $(PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/emulator/bt86 $(BUILD)/tests/kernels/demo.elf

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	@missing=$$(for p in $(BENCH_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi
	bench/run $(BUILD)

clean:
	rm -rf $(BUILD)
