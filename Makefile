# Canopy - forest-loss alerts from multispectral scene pairs.
#
#   make            build bin/canopy (and the scene generator)
#   make demo       run canopy detect on the bundled sample pair
#   make man        the man pages (build/man/) and bash completion (build/canopy.bash)
#   make test       build and run every test (ends with "N passed, N failed")
#   make check-asan the same tests built with AddressSanitizer + UBSan
#   make check-ubsan-clang  the same tests built by clang with ASan + UBSan
#   make fuzz       build the libFuzzer targets (clang) and run each for
#                   FUZZ_SECONDS (60) on the committed corpus and seeds
#
#   make install    PREFIX=/usr/local DESTDIR=: program, profiles, sample, docs
#   make uninstall  remove exactly what install put there
#   make deb        the Debian package, built in $(BUILD)/deb/
#
# Missing Debian packages are installed by scripts/setup-deps.sh on first use.

CC       ?= cc
BUILD    ?= build
# The sanitizer build keeps its own binary so that a plain build is never replaced.
BIN      ?= bin
OPT      ?= -O2 -g
# `make V=1` shows every command line.
Q        := $(if $(V),,@)
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wvla -Wformat=2 -Wundef -Wcast-qual -Wwrite-strings -Werror
# -ffp-contract=off: no FMA contraction, so results do not depend on -march.
CFLAGS   += -std=c17 -D_GNU_SOURCE $(OPT) $(WARN) -ffp-contract=off -fopenmp -MMD -MP
LDFLAGS  += -fopenmp
ifdef SAN
CFLAGS   += -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=$(SAN)
endif
# `make fuzz` compiles everything with libFuzzer's coverage instrumentation.
CFLAGS   += $(COVERAGE)

GEO_PKGS   := gdal proj libpng libcrypto inih json-c cairo freetype2
# Recursive (=) so pkg-config runs after scripts/setup-deps.sh, not at parse time.
# -isystem: warnings in GDAL headers (e.g. -Wundef in cpl_port.h) are not ours.
GEO_CFLAGS  = $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(GEO_PKGS)))
GEO_LIBS    = $(shell pkg-config --libs $(GEO_PKGS)) -lm

# The release is the VERSION file; a build from a git checkout of this tree
# adds `git describe` (a clone without tags: the commit), so run.json tells a
# release from a work in progress. Without git or .git: the release alone.
RELEASE  := $(shell cat VERSION 2>/dev/null)
GIT_DESC := $(shell [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ] && \
                    git describe --tags --always --dirty 2>/dev/null)
VERSION  := $(or $(RELEASE),unknown)$(if $(GIT_DESC), (git $(GIT_DESC)))

# `make install` (PREFIX, DESTDIR as usual): the program, the product profiles
# and default.ini where the program finds them (BIN/../share/canopy), the docs.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share/canopy
DOCDIR  ?= $(PREFIX)/share/doc/canopy
# The man pages and bash completion generated from the option table (make man):
MANDIR      ?= $(PREFIX)/share/man/man1
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL ?= install
CONFIG_FILES := $(wildcard configs/*.ini)
DOC_FILES    := README.md LICENSE VERSION
# The demo pair, so an installed Canopy can run the README's first command.
SAMPLE_FILES := $(wildcard samples/pair/*)

# ---- Layers -------------------------------------------------------------------
# pipeline/ is a stack of stage folders; each may use the ones below it, never
# one above (docs/architecture.md draws it):
#
#   cli  ->  batch, monitor  ->  run  ->  outputs  ->  core  ->  io  ->  base
#   (every layer may use kernels/, which uses nothing of the project)
#
# The build proves it: a stage is compiled with the include paths of itself
# and the stages below only, so a header from above is not found. GDAL, OGR
# and PROJ's GDAL-side headers are on the path of io/ and outputs/ (and, until
# they are moved down, of the stages listed in GDAL_STAGES); base/ and core/
# are compiled without them, as kernels/ is.
STAGES      := base io core outputs run batch monitor cli
below_base    := base
below_io      := io base
below_core    := core io base
below_outputs := outputs core io base
below_run     := run outputs core io base
below_batch   := batch run outputs core io base
below_monitor := monitor run outputs core io base
below_cli     := cli batch monitor run outputs core io base
GDAL_STAGES := io outputs run batch monitor cli
stage_inc    = -Ikernels $(addprefix -Ipipeline/,$(below_$(1)))
# Libraries base/ and core/ may use: no GDAL. (libcrypto, inih, json-c, PROJ's geodesic.h)
PLAIN_PKGS  := libcrypto inih json-c
PLAIN_CFLAGS = $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(PLAIN_PKGS)))

KERNEL_SRC   := $(wildcard kernels/*.c)
# The two main()s of cli/: canopy itself and the generator of its man pages.
CLI_MAINS    := pipeline/cli/cnp_cli.c pipeline/cli/cnp_doc_main.c
PIPELINE_SRC := $(filter-out $(CLI_MAINS),$(foreach s,$(STAGES),$(wildcard pipeline/$(s)/*.c)))
KERNEL_OBJ   := $(KERNEL_SRC:%.c=$(BUILD)/%.o)
PIPELINE_OBJ := $(PIPELINE_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC     := $(filter-out tests/unit/test_base_% tests/unit/test_plain_%,$(wildcard tests/unit/test_*.c))
UNIT_BIN     := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BASE_UNIT_SRC := $(wildcard tests/unit/test_base_*.c)
BASE_UNIT_BIN := $(BASE_UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
PLAIN_UNIT_SRC := $(wildcard tests/unit/test_plain_*.c)
PLAIN_UNIT_BIN := $(PLAIN_UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
DEPS_STAMP   := $(BUILD)/.deps-ok

.PHONY: all deps fuzz-deps demo test check check-asan check-ubsan-clang fuzz fuzz-bin bench clean \
        install uninstall print-version deb man check-prints
all: $(BIN)/canopy $(BUILD)/canopy-synth $(BUILD)/canopy-doc

# Re-run when the package list changes.
# NO_SETUP=1 (package builds: their build dependencies are declared, and
# nothing may be fetched) skips the installing.
$(DEPS_STAMP): scripts/setup-deps.sh
	@$(if $(NO_SETUP),true,scripts/setup-deps.sh)
	@mkdir -p $(@D) && touch $@
deps: $(DEPS_STAMP)

# Kernel loops are written to be vectorised; GCC's -O2 cost model would leave
# most of them scalar. The classification, haze and normalisation loops also
# need GCC free to evaluate both sides of a select, i.e. no FP traps to preserve
# (results are unchanged: contraction stays off, so every operation rounds as
# written).
# (clang has no such cost-model switch; its builds are for sanitizers and fuzzing.)
CC_IS_CLANG := $(shell $(CC) --version 2>/dev/null | grep -q clang && echo 1)
ifneq ($(CC_IS_CLANG),1)
$(BUILD)/kernels/%.o: CFLAGS += -fvect-cost-model=dynamic
endif
$(BUILD)/kernels/cnp_change.o $(BUILD)/kernels/cnp_haze.o $(BUILD)/kernels/cnp_norm.o: CFLAGS += -fno-trapping-math

# kernels/ must build without any geo headers: this rule proves it.
$(BUILD)/kernels/%.o: kernels/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  CC      $<')
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# One rule per stage: its own include paths, GDAL's only where allowed.
define stage_rule
$$(BUILD)/pipeline/$(1)/%.o: pipeline/$(1)/%.c | $$(DEPS_STAMP)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo '  CC      $$<')
	$$(Q)$$(CC) $$(CPPFLAGS) $$(call stage_inc,$(1)) $$(if $$(filter $(1),$$(GDAL_STAGES)),$$(GEO_CFLAGS),$$(PLAIN_CFLAGS)) $$(CFLAGS) -c $$< -o $$@
endef
$(foreach s,$(STAGES),$(eval $(call stage_rule,$(s))))

# The version lives in one generated file, rewritten only when `git describe`
# changes, so every object agrees on it and nothing else rebuilds for it.
$(BUILD)/cnp_version.c: FORCE
	@mkdir -p $(@D)
	@printf '#include "cnp_version.h"\nconst char cnp_version[] = "%s";\n' '$(VERSION)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@

$(BUILD)/cnp_version.o: $(BUILD)/cnp_version.c
	$(CC) $(CPPFLAGS) -Ipipeline/base $(CFLAGS) -c $< -o $@

.PHONY: FORCE
FORCE:

$(BUILD)/scripts/%.o: scripts/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Ikernels $(GEO_CFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/libkernels.a: $(KERNEL_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/libpipeline.a: $(PIPELINE_OBJ) $(BUILD)/cnp_version.o
	$(AR) rcs $@ $^

$(BIN)/canopy: $(BUILD)/pipeline/cli/cnp_cli.o $(BUILD)/libpipeline.a $(BUILD)/libkernels.a
	@mkdir -p $(@D)
	$(CC) $^ -o $@ $(LDFLAGS) $(GEO_LIBS)

$(BUILD)/canopy-doc: $(BUILD)/pipeline/cli/cnp_doc_main.o $(BUILD)/libpipeline.a $(BUILD)/libkernels.a
	$(CC) $^ -o $@ $(LDFLAGS) $(GEO_LIBS)

# ---- Man pages and bash completion ------------------------------------------------
# Written by build/canopy-doc from the option and exit-code tables that
# --help prints, so the three cannot drift apart (tests/e2e/test_options.sh).
MAN_CMDS  := detect batch monitor info verify
MAN_PAGES := $(BUILD)/man/canopy.1 $(MAN_CMDS:%=$(BUILD)/man/canopy-%.1)
man: $(MAN_PAGES) $(BUILD)/canopy.bash

$(BUILD)/man/canopy.1: $(BUILD)/canopy-doc
	@mkdir -p $(@D)
	$(Q)$(BUILD)/canopy-doc man > $@.tmp && mv -f $@.tmp $@

$(BUILD)/man/canopy-%.1: $(BUILD)/canopy-doc
	@mkdir -p $(@D)
	$(Q)$(BUILD)/canopy-doc man $* > $@.tmp && mv -f $@.tmp $@

$(BUILD)/canopy.bash: $(BUILD)/canopy-doc
	$(Q)$(BUILD)/canopy-doc bash > $@.tmp && mv -f $@.tmp $@

$(BUILD)/canopy-synth: $(BUILD)/scripts/cnp_synth.o $(BUILD)/libkernels.a
	$(CC) $^ -o $@ $(LDFLAGS) $(GEO_LIBS)

# `make bench` only (scripts/bench.sh builds it): the read-only floor reader.
$(BUILD)/bench-read-floor: scripts/bench/read_floor.c | $(DEPS_STAMP)
	$(CC) $(CPPFLAGS) $(GEO_CFLAGS) $(CFLAGS) $< -o $@ $(LDFLAGS) $(GEO_LIBS)

# Unit tests link only the kernels: no GDAL involved.
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libkernels.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Ikernels -Itests/unit $(CFLAGS) $< -o $@ $(BUILD)/libkernels.a $(LDFLAGS) -lm

# Unit tests of base/ (tests/unit/test_base_*.c) link every base/ object, not
# an archive that would pull in only what the test calls, with the kernels and
# base's own libraries: the link fails if any part of base/ needs GDAL.
BASE_OBJ   := $(filter $(BUILD)/pipeline/base/%,$(PIPELINE_OBJ))
PLAIN_LIBS  = $(shell pkg-config --libs $(PLAIN_PKGS)) -lm
$(BUILD)/tests/test_base_%: tests/unit/test_base_%.c $(BASE_OBJ) $(BUILD)/libkernels.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Ikernels -Ipipeline/base -Itests/unit $(PLAIN_CFLAGS) $(CFLAGS) $< -o $@ \
	    $(BASE_OBJ) $(BUILD)/libkernels.a $(LDFLAGS) $(PLAIN_LIBS)

# Unit tests of the GDAL-free modules above base/ (tests/unit/test_plain_*.c):
# base/ and the modules listed here, linked as for base/ (no GDAL library),
# so a GDAL call slipping into one of them fails the link.
PLAIN_MODULES := $(BUILD)/pipeline/batch/cnp_batch_pair.o
$(BUILD)/tests/test_plain_%: tests/unit/test_plain_%.c $(BASE_OBJ) $(PLAIN_MODULES) $(BUILD)/libkernels.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Ikernels -Ipipeline/base -Ipipeline/batch -Itests/unit $(PLAIN_CFLAGS) $(CFLAGS) $< -o $@ \
	    $(PLAIN_MODULES) $(BASE_OBJ) $(BUILD)/libkernels.a $(LDFLAGS) $(PLAIN_LIBS)

# ---- Fuzzing -------------------------------------------------------------------
# One target per parser of external text (tests/fuzz/fuzz_<target>.c). `make
# test` builds each with tests/fuzz/cnp_fuzz_replay.c as main() and replays
# tests/fuzz/corpus/<target>/ through it (tests/e2e/test_fuzz_replay.sh);
# `make fuzz` builds them with clang and libFuzzer and runs them.
FUZZ_TARGETS := mtl_txt mtl_xml mtl_json stac_item mtd_msil2a settings_ini profile_ini
FUZZ_SECONDS ?= 60
FUZZ_INC      = -Itests/fuzz $(call stage_inc,io) $(GEO_CFLAGS)
FUZZ_SRC     := tests/fuzz/cnp_fuzz.c
FUZZ_REPLAY  := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay_%)
FUZZ_LIBS     = $(BUILD)/libpipeline.a $(BUILD)/libkernels.a

$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/cnp_fuzz_replay.c $(FUZZ_SRC) \
                        tests/fuzz/cnp_fuzz.h $(FUZZ_LIBS)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(CPPFLAGS) $(FUZZ_INC) $(filter-out -MMD -MP,$(CFLAGS)) $(filter %.c,$^) -o $@ \
	    $(FUZZ_LIBS) $(LDFLAGS) $(GEO_LIBS)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SRC) tests/fuzz/cnp_fuzz.h $(FUZZ_LIBS)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(CPPFLAGS) $(FUZZ_INC) $(filter-out -MMD -MP,$(CFLAGS)) $(filter %.c,$^) -o $@ \
	    -fsanitize=fuzzer $(FUZZ_LIBS) $(LDFLAGS) $(GEO_LIBS)

fuzz-deps:
	@scripts/setup-fuzz-deps.sh

# The targets under clang with libFuzzer, ASan and UBSan (in build-fuzz/).
fuzz-bin: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)

fuzz: fuzz-deps all
	@$(MAKE) --no-print-directory CC=clang BUILD=build-fuzz BIN=build-fuzz/bin OPT='-O1 -g' \
	    SAN=address,undefined COVERAGE=-fsanitize=fuzzer-no-link fuzz-bin
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh build-fuzz $(FUZZ_TARGETS)

# Only cli/ writes to the terminal: library code returns results or reports
# through the callbacks the CLI passes down (a stream the CLI hands over, as
# for info's report, is fine). This check fails on a call that prints.
PRINT_CALLS := (^|[^_a-zA-Z0-9])(v?printf|puts|putchar|perror|GDALTermProgress)[[:space:]]*\(
PRINT_TO    := (v?fprintf|fputs|fputc|putc|fwrite)[[:space:]]*\(.*(stderr|stdout)|[(,][[:space:]]*(stderr|stdout)[[:space:]]*\)
check-prints:
	@bad=$$(grep -nE '$(PRINT_CALLS)|$(PRINT_TO)' $(filter-out pipeline/cli/%,$(PIPELINE_SRC)) \
	        $(KERNEL_SRC) | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)'); \
	if [ -n "$$bad" ]; then \
	    echo "Library code prints (only pipeline/cli/ may):"; echo "$$bad"; exit 1; fi

demo: all
	@scripts/demo.sh

test: all man check-prints $(UNIT_BIN) $(BASE_UNIT_BIN) $(PLAIN_UNIT_BIN) $(FUZZ_REPLAY)
	@BUILD=$(BUILD) BIN=$(BIN) tests/run-tests.sh
check: test

check-asan:
	@$(MAKE) --no-print-directory BUILD=build-asan BIN=build-asan/bin OPT='-O1 -g' SAN=address,undefined test

# clang's UBSan checks what GCC's does not, e.g. arithmetic on a NULL pointer
# (NULL + 0, as when a detection strip has no loss).
check-ubsan-clang: fuzz-deps
	@$(MAKE) --no-print-directory CC=clang BUILD=build-asan-clang BIN=build-asan-clang/bin OPT='-O1 -g' \
	    SAN=address,undefined test

bench: all
	@scripts/bench.sh

# DATADIR must be a folder the program finds: BINDIR/../share/canopy, else
# CANOPY_CONFIG_DIR at run time.
install: $(BIN)/canopy man
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)
	$(INSTALL) -d $(DESTDIR)$(MANDIR) $(DESTDIR)$(BASHCOMPDIR)
	$(INSTALL) -m 644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/
	$(INSTALL) -m 644 $(BUILD)/canopy.bash $(DESTDIR)$(BASHCOMPDIR)/canopy
	$(INSTALL) -m 755 $(BIN)/canopy $(DESTDIR)$(BINDIR)/canopy
	$(INSTALL) -m 644 $(CONFIG_FILES) $(DESTDIR)$(DATADIR)/
	$(INSTALL) -m 644 $(DOC_FILES) $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -d $(DESTDIR)$(DATADIR)/samples/pair
	$(INSTALL) -m 644 $(SAMPLE_FILES) $(DESTDIR)$(DATADIR)/samples/pair/

# The version this tree builds as (the release tests and packaging read it).
print-version:
	@echo '$(VERSION)'

# Exactly what install put there: shared folders (bin/, share/) stay.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/canopy
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/,$(notdir $(MAN_PAGES))) $(DESTDIR)$(BASHCOMPDIR)/canopy
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/,$(notdir $(CONFIG_FILES)))
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOC_FILES)))
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/samples/pair/,$(notdir $(SAMPLE_FILES)))
	-rmdir $(DESTDIR)$(DATADIR)/samples/pair $(DESTDIR)$(DATADIR)/samples 2>/dev/null
	-rmdir $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR) 2>/dev/null
	-rmdir $(DESTDIR)$(MANDIR) $(DESTDIR)$(BASHCOMPDIR) 2>/dev/null
	-rmdir $(DESTDIR)$(PREFIX)/share/man $(DESTDIR)$(PREFIX)/share/bash-completion 2>/dev/null

# The Debian package (debian/), built from an export of this tree in
# $(BUILD)/deb/: canopy_<version>_<arch>.deb lands there. Needs dpkg-dev,
# debhelper and the build dependencies (scripts/setup-test-deps.sh).
deb:
	@scripts/make-deb.sh $(BUILD)/deb

clean:
	rm -rf build build-asan build-asan-clang build-fuzz bin

-include $(KERNEL_OBJ:.o=.d) $(PIPELINE_OBJ:.o=.d) $(CLI_MAINS:%.c=$(BUILD)/%.d) $(BUILD)/scripts/cnp_synth.d
