# reversetunnel for Java: build, test, demo.
# `make` builds ./fixed_rtunnel and ./dynamic_rtunnel; `make test` runs every test; `make demo` shows
# the whole path on loopback.
SHELL := /bin/sh
JAVA_HOME := $(shell scripts/find-jdk)
export JAVA_HOME
MVN := mvn -B -q -Dstyle.color=never
LAUNCHERS := fixed_rtunnel dynamic_rtunnel

.PHONY: all build test unit demo clean check-jdk fuzz

all: build

check-jdk:
	@test -n "$(JAVA_HOME)" || { scripts/find-jdk; exit 1; }

build: check-jdk
	$(MVN) -Dmaven.test.skip=true package
	scripts/install-build.sh

# Unit tests, then the integration tests that drive real processes of ./fixed_rtunnel and ./dynamic_rtunnel.
test: build
	$(MVN) verify

unit: check-jdk
	$(MVN) test

# Longer fuzzing of the handshake decoders and the control parser (make test runs 20,000 inputs each).
FUZZ_ITERATIONS ?= 2000000
fuzz: check-jdk
	$(MVN) -pl common test -Dtest='DecoderFuzzTest,ControlWireFuzzTest' -Dsurefire.failIfNoSpecifiedTests=false -Dfuzz.iterations=$(FUZZ_ITERATIONS)

demo: build
	scripts/demo.sh

clean:
	$(MVN) clean || true
	rm -rf build $(LAUNCHERS)
