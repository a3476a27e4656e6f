# Thin wrapper: set-up (apt-get), configure, build, then run or test.
BUILD   ?= build
JOBS    ?= $(shell nproc)
PKGS     = cmake pkg-config gcc make libcapstone-dev libxxhash-dev libcmocka-dev libunicorn-dev gcc-multilib gdb python3
BENCH_PKGS = qemu-system-x86 gnuplot-nox

.PHONY: all deps build run run-linux test test-xv6 bench bench-linux bench-xv6 bench-migrate bench-snapshot bench-deps clean

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

# Debian 12's i386 Linux with a busybox shell on this terminal (packages are
# fetched into the build folder on first use; `poweroff -f` ends the run).
run-linux: build
	@sh tests/linux/shell.sh $(BUILD)/emulator/bt86 $(BUILD)/tests/linux

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# xv6's usertests to ALL TESTS PASSED (needs ../shared/xv6; minutes of CPU).
test-xv6: build
	cmake --build $(BUILD) --target test-xv6

bench-deps:
	@missing=$$(for p in $(BENCH_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

bench: build bench-deps
	bench/run $(BUILD)

# Debian's i386 Linux (boot to /init, busybox workloads) and xv6 (boot,
# usertests) in bt86 against qemu-system-i386 -accel tcg (bench/README.md).
bench-linux: build bench-deps
	bench/linux $(BUILD)

# Snapshot size and savevm/loadvm time, 128 and 512 MiB guests, against
# QEMU's migrate to a file and -incoming (bench/results/snapshot.txt).
bench-snapshot: build bench-deps
	bench/snapshot/run $(BUILD)

bench-xv6: build bench-deps
	bench/xv6 $(BUILD)

# Live migration, idle and memory-writing guest, bt86 against QEMU TCG.
bench-migrate: build bench-deps
	bench/migrate $(BUILD)

clean:
	rm -rf $(BUILD)
