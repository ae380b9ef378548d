# rnnode: `make run` installs what is missing, builds in release and runs the main job; `make test` runs the tests.
SWIFT        ?= swift
CONFIG       ?= release
APT_PACKAGES := libgsl-dev libopenblas-dev gnuplot-nox pkg-config
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN          := .build/$(CONFIG)/rnnode
PROBLEM      ?= lorenz
MODEL        ?= esn

.PHONY: deps build run test bench clean

## Install the Debian packages that are missing (apt-get update first, once).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y $$missing; \
	fi

build: deps
	$(SWIFT) build -c $(CONFIG)

## The main job on the default problem with the default model (learned stepper vs GSL), written into results/.
run: build
	$(BIN) solve $(PROBLEM) --model $(MODEL) --out results

## The whole test suite (release build: the numerical tests train small networks).
test: deps
	$(SWIFT) build -c $(CONFIG)
	$(SWIFT) test -c $(CONFIG) -Xswiftc -enable-testing

bench: build
	$(MAKE) -C bench

clean:
	rm -rf .build
