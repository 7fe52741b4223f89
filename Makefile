# nsdb — build, test and benchmark. Plain make + pkg-config; see README.
#   make          builds ./nsdb (release flags)
#   make asan     builds build/asan/nsdb with AddressSanitizer + UndefinedBehaviorSanitizer
#   make test     unit tests (release and sanitizer builds), HTTP end-to-end (SQLite, then the
#                 release build on a throwaway PostgreSQL server), browser tests
#   make lint     cppcheck over src/ (warnings, performance, portability) and the layer rules
#                 (scripts/check-layers.sh: no transaction or store write in src/web, src/cli);
#                 make test runs it first
#   make bench    benchmarks in bench/
# WERROR=1 (set by CI) turns warnings into errors.

PKGS     := libmicrohttpd sqlite3 libsodium jansson libcurl cairo pangocairo libutf8proc libzip libxml-2.0 xlsxwriter libcrypto libisofs-1 libpq liboath libqrencode
CC       ?= cc
# -Wswitch-enum: a switch on an enum names every value (a new state must be placed everywhere)
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 -Wno-format-nonliteral -Wswitch-enum
ifeq ($(WERROR),1)
WARN     += -Werror
endif
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE $(WARN) -Isrc -Ibuild/gen \
               $(shell pkg-config --cflags $(PKGS))
# libzxcvbn ships no .pc file in Debian: it is linked by name.
LIBS     := $(shell pkg-config --libs $(PKGS)) -lzxcvbn -lpthread -lm
REL_CFLAGS  := $(BASE_CFLAGS) -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
ASAN_CFLAGS := $(BASE_CFLAGS) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined
ASAN_LDFLAGS := -fsanitize=address,undefined

SRC      := $(shell find src -name '*.c' | sort)
# the command line (main.c and src/cli/) is not linked into the unit tests
CLI_SRC  := src/main.c $(filter src/cli/%,$(SRC))
LIB_SRC  := $(filter-out $(CLI_SRC),$(SRC))
EMBED    := $(sort $(wildcard templates/*.html) $(wildcard static/*) $(wildcard migrations/*.sql) \
              data/common-passwords.txt)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))

REL_OBJ  := $(patsubst src/%.c,build/rel/%.o,$(LIB_SRC)) build/rel/embedded.o
ASAN_OBJ := $(patsubst src/%.c,build/asan/%.o,$(LIB_SRC)) build/asan/embedded.o
REL_TESTS  := $(patsubst tests/unit/%.c,build/rel/tests/%,$(UNIT_SRC))
ASAN_TESTS := $(patsubst tests/unit/%.c,build/asan/tests/%,$(UNIT_SRC))

# V=1 shows the full compiler command lines.
ifneq ($(V),1)
Q := @
endif

.PHONY: all asan lint unit unit-asan test test-e2e test-e2e-pg test-browser bench clean format
.PHONY: fuzz fuzz-build fuzz-smoke
all: nsdb

nsdb: $(patsubst src/%.c,build/rel/%.o,$(CLI_SRC)) $(REL_OBJ)
	@echo "  CC $@"
	$(Q)$(CC) -o $@ $^ $(LIBS)

asan: build/asan/nsdb
build/asan/nsdb: $(patsubst src/%.c,build/asan/%.o,$(CLI_SRC)) $(ASAN_OBJ)
	@echo "  CC $@"
	$(Q)$(CC) $(ASAN_LDFLAGS) -o $@ $^ $(LIBS)

build/rel/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC $@"
	$(Q)$(CC) $(REL_CFLAGS) -MMD -MP -c -o $@ $<
build/asan/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC $@"
	$(Q)$(CC) $(ASAN_CFLAGS) -MMD -MP -c -o $@ $<

# Templates, stylesheet, migrations and the common-password list are compiled into the binary,
# so that ./nsdb runs from any directory.
build/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	@echo "  CC $@"
	$(Q)$(CC) -std=c17 -O2 -Wall -Wextra -o $@ $<
build/gen/embedded.c: build/tools/embed $(EMBED)
	@mkdir -p $(dir $@)
	build/tools/embed $(EMBED) > $@.tmp && mv $@.tmp $@
build/rel/embedded.o: build/gen/embedded.c
	@echo "  CC $@"
	$(Q)$(CC) $(REL_CFLAGS) -c -o $@ $<
build/asan/embedded.o: build/gen/embedded.c
	@mkdir -p $(dir $@)
	@echo "  CC $@"
	$(Q)$(CC) $(ASAN_CFLAGS) -c -o $@ $<

build/rel/tests/%: tests/unit/%.c $(REL_OBJ)
	@mkdir -p $(dir $@)
	@echo "  CC $@"
	$(Q)$(CC) $(REL_CFLAGS) -MMD -MP $(shell pkg-config --cflags cmocka) -o $@ $(filter %.c %.o,$^) $(LIBS) $(shell pkg-config --libs cmocka)
build/asan/tests/%: tests/unit/%.c $(ASAN_OBJ)
	@mkdir -p $(dir $@)
	@echo "  CC $@"
	$(Q)$(CC) $(ASAN_CFLAGS) -MMD -MP $(shell pkg-config --cflags cmocka) $(ASAN_LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LIBS) $(shell pkg-config --libs cmocka)

unit: $(REL_TESTS)
	@for t in $(REL_TESTS); do echo "== $$t"; $$t || exit 1; done
unit-asan: $(ASAN_TESTS)
	@for t in $(ASAN_TESTS); do echo "== $$t"; ASAN_OPTIONS=detect_leaks=1 $$t || exit 1; done

test-e2e: nsdb build/asan/nsdb
	python3 -m unittest discover -s tests/e2e -p 'test_*.py' -v

# The storage unit test and the same e2e suite on PostgreSQL (scripts/pg-test.sh: initdb, a
# server on a free port, one database per e2e class), release build only to keep CI time down.
test-e2e-pg: nsdb build/rel/tests/test_db build/rel/tests/test_user_search \
             build/rel/tests/test_store_writes build/rel/tests/test_mailer \
             build/rel/tests/test_media_timing build/rel/tests/test_import_job \
             build/rel/tests/test_import_discard
	NSDB_BIN=release bash scripts/pg-test.sh sh -c \
	  "build/rel/tests/test_db && build/rel/tests/test_user_search && \
	   build/rel/tests/test_store_writes && build/rel/tests/test_mailer && \
	   build/rel/tests/test_media_timing && build/rel/tests/test_import_job && \
	   build/rel/tests/test_import_discard && \
	   python3 -m unittest discover -s tests/e2e -p 'test_*.py' -v"

test-browser: nsdb
	node tests/browser/run.mjs

# Static analysis, one configuration (the build's -D_GNU_SOURCE), two jobs: a few seconds.
# varFuncNullUB is off: it flags NULL as the sentinel of log_event(); NULL is ((void *)0) with
# glibc and GCC, and reading it back as a char * is defined (C11 7.16.1.1).
lint:
	cppcheck -j2 --quiet --std=c11 -D_GNU_SOURCE -Isrc -Ibuild/gen \
	  --enable=warning,performance,portability --inline-suppr --error-exitcode=1 \
	  --suppress=missingIncludeSystem --suppress=varFuncNullUB src
	bash scripts/check-layers.sh

test: lint unit unit-asan fuzz-smoke test-e2e test-e2e-pg test-browser

bench: nsdb
	bash bench/run.sh

# libFuzzer harnesses (tests/fuzz/, see README "Fuzzing"): the library is built again with clang,
# coverage, ASan and UBSan into build/fuzz/libnsdb.a, and each harness links what it needs.
# make fuzz runs every harness for FUZZ_SECONDS on a scratch copy of tests/fuzz/corpus/<name>/;
# FUZZ=name runs one. make fuzz-smoke is the short run that make test includes, one harness per
# core at a time (at most 4).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ         ?= $(FUZZ_NAMES)
FUZZ_CFLAGS  := $(BASE_CFLAGS) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
                -fno-sanitize-recover=undefined
FUZZ_OBJ     := $(patsubst src/%.c,build/fuzz/obj/%.o,$(LIB_SRC)) build/fuzz/obj/embedded.o
FUZZ_BINS    := $(patsubst %,build/fuzz/fuzz_%,$(FUZZ_NAMES))

build/fuzz/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<
build/fuzz/obj/embedded.o: build/gen/embedded.c
	@mkdir -p $(dir $@)
	@echo "  CC $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<
build/fuzz/libnsdb.a: $(FUZZ_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_support.h build/fuzz/libnsdb.a
	@echo "  CC $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Itests/fuzz -o $@ $< build/fuzz/libnsdb.a $(LIBS)

fuzz-build: $(FUZZ_BINS)
fuzz: fuzz-build
	bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ)
fuzz-smoke: fuzz-build
	FUZZ_JOBS=$$(nproc) bash tests/fuzz/run.sh 15 $(FUZZ_NAMES)

format:
	clang-format -i $(SRC) $(wildcard src/*/*.h) $(UNIT_SRC)

clean:
	rm -rf build nsdb

-include $(shell find build -name '*.d' 2>/dev/null)
