# reversetunnel for Java: build, test, demo.
# `make` builds ./fixed_rtunnel and ./dynamic_rtunnel; `make test` runs every test; `make demo` shows
# the whole path on loopback.
SHELL := /bin/sh
JAVA_HOME := $(shell scripts/find-jdk)
export JAVA_HOME
MVN := mvn -B -q -Dstyle.color=never
LAUNCHERS := fixed_rtunnel dynamic_rtunnel

.PHONY: all build test unit demo clean check-jdk fuzz bench completion install deb soak

all: build

check-jdk:
	@test -n "$(JAVA_HOME)" || { scripts/find-jdk; exit 1; }

# The copied libraries are made afresh: a dependency dropped from a pom must not linger in build/lib.
build: check-jdk
	rm -rf fixed-rtunnel/target/lib dynamic-rtunnel/target/lib
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
	$(MVN) -pl common -am test -Dtest='DecoderFuzzTest,ControlWireFuzzTest' -Dsurefire.failIfNoSpecifiedTests=false -Dfuzz.iterations=$(FUZZ_ITERATIONS)

demo: build
	scripts/demo.sh

# Reliability soak (issue 7): RelSoakIT runs a mixed load for SOAK_MINUTES (sessions over rotating
# links, --kill-tunnel reconnects, control commands, v1 peers), then the churn, load and hostile-input
# tests run at the issue's full figures (-Drel.full=true: 10,000 sessions and 1,000 tunnel cycles;
# 200 sessions over 20 tunnels x 10 MB; 1,000 half-open connections). Their loops bound themselves,
# so the short runs' JUnit timeouts are switched off. Prints the soak's summary table at the end.
SOAK_MINUTES ?= 10
SOAK_TESTS ?= RelSoakIT,RelChurnIT,RelLoadIT,RelHostileInputIT
soak: build
	$(MVN) -pl integration-tests -am verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
	    -Dit.test='$(SOAK_TESTS)' -Drel.soak.minutes=$(SOAK_MINUTES) -Drel.full=true \
	    -Djunit.jupiter.execution.timeout.mode=disabled; status=$$?; \
	    cat integration-tests/target/rel-soak-summary.txt 2>/dev/null; exit $$status

# Speed and scale beside ssh -R, plain TCP and direct TLS (issue 6); not part of `make test`.
# Writes bench/results.md and bench/results.png. BENCH_QUICK=1 for a smaller, faster run.
bench: build
	$(MVN) -f bench/pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=target/lib
	ulimit -n "$$(ulimit -Hn)" 2>/dev/null || true; "$(JAVA_HOME)/bin/java" -Xmx2g -Djava.awt.headless=true \
	    -cp 'bench/target/lib/*' bench/src/Bench.java

clean:
	$(MVN) clean || true
	rm -rf build $(LAUNCHERS)

# ---- Installing and packaging ------------------------------------------------------------------
# `make && make install` (PREFIX and DESTDIR honoured); install and completion use what `make`
# built and do not rebuild, so they can run while the tests run. `make deb` builds, stages an
# install under build/debroot with PREFIX=/usr and packs it with jdeb (packaging/deb/pom.xml).
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(PREFIX)/bin
RTUNNEL_SHARE := $(PREFIX)/share/rtunnel
MAN8DIR := $(PREFIX)/share/man/man8
UNITDIR ?= $(PREFIX)/lib/systemd/system
COMPLETIONDIR := $(PREFIX)/share/bash-completion/completions
EXAMPLEDIR := $(PREFIX)/share/doc/rtunnel
VERSION = $(shell sed -n 's:^  <version>\(.*\)</version>$$:\1:p' pom.xml | head -n 1)

# Bash completion scripts from the picocli model (picocli.AutoComplete: -n name, -o file, -f overwrite).
completion: check-jdk
	@test -d build/lib || { echo "make completion: nothing built yet; run 'make' first" >&2; exit 1; }
	mkdir -p build/completion
	for prog in fixed_rtunnel:rtunnel.fixed.FixedCommand dynamic_rtunnel:rtunnel.dynamic.DynamicCommand; do \
	    "$(JAVA_HOME)/bin/java" -Dpicocli.autocomplete.systemExitOnError=true -cp 'build/lib/*' \
	        picocli.AutoComplete -f -n "$${prog%%:*}" -o "build/completion/$${prog%%:*}" "$${prog#*:}" || exit 1; \
	done

# The installed launchers are scripts/launcher.sh with the installed home (share/rtunnel next to
# bin/, found relative to the script, so a DESTDIR tree runs too) in place of share/reversetunnel.
# The unit files name the installed launchers.
install: completion
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(RTUNNEL_SHARE)/lib" "$(DESTDIR)$(MAN8DIR)" \
	    "$(DESTDIR)$(UNITDIR)" "$(DESTDIR)$(COMPLETIONDIR)" "$(DESTDIR)$(EXAMPLEDIR)"
	rm -f "$(DESTDIR)$(RTUNNEL_SHARE)"/lib/*.jar
	install -m 0644 build/lib/*.jar "$(DESTDIR)$(RTUNNEL_SHARE)/lib/"
	install -m 0755 build/find-jdk "$(DESTDIR)$(RTUNNEL_SHARE)/find-jdk"
	install -m 0644 build/build-id "$(DESTDIR)$(RTUNNEL_SHARE)/build-id"
	for f in build/*.jsa; do [ ! -f "$$f" ] || install -m 0644 "$$f" "$(DESTDIR)$(RTUNNEL_SHARE)/"; done
	for prog in fixed_rtunnel:rtunnel.fixed.FixedMain dynamic_rtunnel:rtunnel.dynamic.DynamicMain; do \
	    name=$${prog%%:*}; main=$${prog#*:}; \
	    sed -e "s/@NAME@/$$name/g" -e "s/@MAIN@/$$main/" -e 's:share/reversetunnel:share/rtunnel:g' \
	        scripts/launcher.sh > "$(DESTDIR)$(BINDIR)/$$name.tmp" || exit 1; \
	    grep -q 'share/rtunnel' "$(DESTDIR)$(BINDIR)/$$name.tmp" \
	        || { echo "make install: scripts/launcher.sh no longer names its installed home" >&2; exit 1; }; \
	    chmod 0755 "$(DESTDIR)$(BINDIR)/$$name.tmp" && mv -f "$(DESTDIR)$(BINDIR)/$$name.tmp" "$(DESTDIR)$(BINDIR)/$$name"; \
	    install -m 0644 "man/$$name.8" "$(DESTDIR)$(MAN8DIR)/$$name.8"; \
	    install -m 0644 "build/completion/$$name" "$(DESTDIR)$(COMPLETIONDIR)/$$name"; \
	done
	for unit in fixed_rtunnel.service dynamic_rtunnel@.service; do \
	    sed -e 's:/usr/bin/:$(BINDIR)/:g' "systemd/$$unit" > "$(DESTDIR)$(UNITDIR)/$$unit" && chmod 0644 "$(DESTDIR)$(UNITDIR)/$$unit" || exit 1; \
	done
	install -m 0644 systemd/fixed.conf.example systemd/dynamic.conf.example "$(DESTDIR)$(EXAMPLEDIR)/"

# build/rtunnel_VERSION_all.deb. The Java runtime is only recommended: Debian 12's default is 17
# and the programs need 21 or newer, which often comes from elsewhere (see packaging/deb).
deb: build
	rm -rf build/debroot
	$(MAKE) install DESTDIR="$(CURDIR)/build/debroot" PREFIX=/usr
	$(MVN) -f packaging/deb/pom.xml package -Ddeb.root="$(CURDIR)/build/debroot" -Ddeb.out="$(CURDIR)/build"
	@ls build/rtunnel_$(VERSION)_all.deb
