# rnnode: `make run` installs what is missing, builds in release and runs the main job; `make test` runs the tests.
SWIFT        ?= swift
CONFIG       ?= release
APT_PACKAGES := libgsl-dev libopenblas-dev liblapacke-dev libssl-dev gnuplot-nox parallel chromium
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN          := .build/$(CONFIG)/rnnode
PROBLEM      ?= lorenz
MODEL        ?= esn

.PHONY: deps build run test bench baseline readme clean fuzz fuzz-smoke fuzz-regressions peers

## Install the Debian packages that are missing (apt-get update first, once).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y $$missing; \
	fi

build: deps
	$(SWIFT) build -c $(CONFIG)

## The main job: the quick comparison grid (every scalar catalog problem × model, every matrix × method), written
## into results/compare/ and ending with the summary table and index.html. The array problems (lorenz96,
## kuramoto-sivashinsky, heat, burgers) are left out here: at their 32-64 variables ngrc needs parallel local models
## (--groups) and the linear model more data than --quick gives; `compare --problems all` runs and reports them.
RUN_PROBLEMS ?= arenstorf,brusselator,damped-driven-pendulum,double-pendulum,duffing,exponential-decay,harmonic-oscillator,kepler,lorenz,lotka-volterra,pendulum,robertson,sir,van-der-pol,van-der-pol-stiff
run: build
	$(BIN) compare --quick --jobs 2 --problems $(RUN_PROBLEMS) --out results/compare

## The whole test suite (release build: the numerical tests train small networks). The CLI tests run the rnnode
## binary that this build makes beside the test bundle.
test: deps
	$(SWIFT) test -c $(CONFIG) -Xswiftc -enable-testing

bench: build
	$(MAKE) -C bench

## The documented baseline: the default grid (SEEDS seeds) on the scalar catalog problems (the array problems
## have their own tables in README), the peers' rows merged in when $(PEERS_OUT) holds them (`make peers`), its
## summary copied to results/baseline/ with the revision that made it, and README's results table regenerated
## from it. Resumable: rerun after an interruption.
SEEDS ?= 3
baseline: build
	$(BIN) compare --problems $(RUN_PROBLEMS) --seeds $(SEEDS) --jobs 2 --out results/compare-default
	if [ -f $(PEERS_OUT)/peers/errors.csv ]; then $(BIN) merge results/compare-default $(PEERS_OUT)/peers --out results/compare-default; fi
	mkdir -p results/baseline
	cp results/compare-default/summary.md results/compare-default/summary.csv results/baseline/
	git rev-parse HEAD > results/baseline/REVISION
	$(MAKE) readme

## The peers (bench/peers: reservoirpy ESN and NVAR, PyTorch RNN/LSTM/GRU) on every catalog problem and seed, on
## rnnode's data files; their rows land in $(PEERS_OUT)/peers/errors.csv for `rnnode merge` (bench/README.md).
## Optional: PEERS_PYTHON needs numpy, reservoirpy and torch; not part of `make test`. Resumable.
PEERS_OUT    ?= /tmp/rnnode-peers
PEERS_PYTHON ?= python3
PEERS_SEEDS  ?= 1-$(SEEDS)
PEERS_BUDGET ?= 40
PEERS_THREADS ?= 1
PEERS_JOBS   ?= 2
peers: build
	python3 bench/peers/all_problems.py --out $(PEERS_OUT) --rnnode $(BIN) --python $(PEERS_PYTHON) \
	  --seeds $(PEERS_SEEDS) --budget $(PEERS_BUDGET) --threads $(PEERS_THREADS) --jobs $(PEERS_JOBS)

## Replace README's results block (between the baseline markers) with results/baseline/summary.md, its headings
## two levels down.
readme:
	@awk 'BEGIN { while ((getline line < "results/baseline/summary.md") > 0) { if (line ~ /^#/) line = "##" line; table = table line "\n" } } \
	     /<!-- baseline:begin -->/ { print; printf "%s", table; skip = 1; next } \
	     /<!-- baseline:end -->/ { skip = 0 } !skip { print }' README.md > README.md.tmp && mv README.md.tmp README.md

clean:
	rm -rf .build

## Fuzzing (libFuzzer, address sanitizer): the targets in fuzz/, built apart under .build-fuzz. `make fuzz` runs
## each target FUZZ_SECONDS from its seeds (fuzz/corpus) and what earlier runs found (fuzz/work, not committed);
## `make fuzz-smoke` runs each briefly from the seeds plus every saved reproducer (fuzz/regressions), for CI.
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10

FUZZ_BUILD = $(SWIFT) build -c release --package-path fuzz --scratch-path .build-fuzz \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library

fuzz: deps
	$(FUZZ_BUILD)
	fuzz/run.sh fuzz $(FUZZ_SECONDS)

fuzz-regressions: deps
	$(FUZZ_BUILD)
	fuzz/run.sh regressions

fuzz-smoke: deps
	$(FUZZ_BUILD)
	@status=0; fuzz/run.sh regressions || status=1; fuzz/run.sh smoke $(FUZZ_SMOKE_SECONDS) || status=1; exit $$status
