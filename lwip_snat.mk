# lwip_snat.mk: lwip-snat in a plain Makefile build, used like lwIP's own src/Filelists.mk.
#
#   LWIP_SNAT_DIR := /path/to/lwip-snat
#   LWIP_SNAT_RUST_TARGET := thumbv7em-none-eabihf
#   include $(LWIP_SNAT_DIR)/lwip_snat.mk
#   CFLAGS += $(LWIP_SNAT_INCLUDES)              # lwIP's sources include lwip_snat_hook.h too
#   SRCS   += $(LWIP_SNAT_FILES)                 # compile the shim with lwIP's flags/lwipopts.h
#   $(OBJS): | $(LWIP_SNAT_HEADER)               # the header exists before anything includes it
#   firmware.elf: $(OBJS) $(LWIP_SNAT_LIB)       # link the archive after lwIP's objects
#
# Variables read (set them before the include; docs/integration.md explains each):
#   LWIP_SNAT_DIR              lwip-snat's source tree (default: the directory of this file)
#   LWIP_SNAT_BUILDDIR         where the archive and header go (default: build/lwip_snat)
#   LWIP_SNAT_RUST_TARGET      Rust target triple (empty: cargo's host, which then links std)
#   LWIP_SNAT_CARGO_FEATURES   extra cargo features, space separated; `panic-handler` (no_std
#                              target) or `std` (host) is added
#   LWIP_SNAT_DEFAULT_FEATURES 0 turns cargo's default features off (default 1)
#   LWIP_SNAT_BUILD_STD        1 builds core from source (-Zbuild-std=core, Debian's rustc-web)
#   LWIP_SNAT_FRAME_POINTERS   0 omits frame pointers (default 1: the target's own setting, always
#                              on thumb): the library and core are built for the rustc's spec of
#                              the target with "frame-pointer": "may-omit" (docs/footprint.md);
#                              needs LWIP_SNAT_RUST_TARGET and LWIP_SNAT_BUILD_STD=1
#   LWIP_SNAT_CARGO, LWIP_SNAT_RUSTC   the cargo (default cargo) and rustc (default: cargo's) to use
#   LWIP_SNAT_CARGO_TARGET_DIR cargo's target directory (default: $(LWIP_SNAT_BUILDDIR)/cargo)
#   LWIP_SNAT_MAX_TCP, LWIP_SNAT_MAX_UDP, ... the capacities (build.rs's LWIP_SNAT_* variables)
#   LWIP_SNAT_LWIP_INCLUDE, LWIP_SNAT_LWIPOPTS_DIR   when both are set, cargo compiles the shim
#                              into liblwip_snat.a (lwIP's include dir; lwipopts.h's and arch/cc.h's
#                              dirs, space separated) and LWIP_SNAT_FILES is empty
# Defined here:
#   LWIP_SNAT_FILES     the shim (c-shim/*.c), to compile like lwIP's COREFILES
#   LWIP_SNAT_INCLUDES  -I flags: c-shim/ and the generated header's directory
#   LWIP_SNAT_LIB       $(LWIP_SNAT_BUILDDIR)/liblwip_snat.a (cargo runs every time; it is a no-op
#                       when nothing changed)
#   LWIP_SNAT_HEADER    $(LWIP_SNAT_BUILDDIR)/include/lwip_snat.h for the capacities in use

# The rules below must not become the including Makefile's default goal.
lwip_snat_default_goal := $(.DEFAULT_GOAL)

LWIP_SNAT_DIR ?= $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
LWIP_SNAT_BUILDDIR ?= build/lwip_snat
LWIP_SNAT_RUST_TARGET ?=
LWIP_SNAT_CARGO_FEATURES ?=
LWIP_SNAT_DEFAULT_FEATURES ?= 1
LWIP_SNAT_BUILD_STD ?= 0
LWIP_SNAT_FRAME_POINTERS ?= 1
LWIP_SNAT_CARGO ?= cargo
LWIP_SNAT_RUSTC ?=
LWIP_SNAT_CARGO_TARGET_DIR ?= $(LWIP_SNAT_BUILDDIR)/cargo
LWIP_SNAT_LWIP_INCLUDE ?=
LWIP_SNAT_LWIPOPTS_DIR ?=

lwip_snat_shim_in_lib := $(and $(LWIP_SNAT_LWIP_INCLUDE),$(LWIP_SNAT_LWIPOPTS_DIR))
LWIP_SNAT_FILES := $(if $(lwip_snat_shim_in_lib),,$(LWIP_SNAT_DIR)/c-shim/lwip_snat_hook.c $(LWIP_SNAT_DIR)/c-shim/lwip_snat_netif.c \
  $(LWIP_SNAT_DIR)/c-shim/lwip_snat_tcpip.c)
LWIP_SNAT_INCLUDE_DIRS := $(LWIP_SNAT_DIR)/c-shim $(LWIP_SNAT_BUILDDIR)/include
LWIP_SNAT_INCLUDES := $(addprefix -I,$(LWIP_SNAT_INCLUDE_DIRS))
LWIP_SNAT_LIB := $(LWIP_SNAT_BUILDDIR)/liblwip_snat.a
LWIP_SNAT_HEADER := $(LWIP_SNAT_BUILDDIR)/include/lwip_snat.h

lwip_snat_empty :=
lwip_snat_space := $(lwip_snat_empty) $(lwip_snat_empty)
lwip_snat_abs_builddir = $(abspath $(LWIP_SNAT_BUILDDIR))
lwip_snat_features = $(strip $(LWIP_SNAT_CARGO_FEATURES) $(if $(LWIP_SNAT_RUST_TARGET),panic-handler,std))
lwip_snat_cargo_out = $(abspath $(LWIP_SNAT_CARGO_TARGET_DIR))/$(if $(LWIP_SNAT_RUST_TARGET),$(LWIP_SNAT_RUST_TARGET)/)release
# Without frame pointers cargo builds for a spec file named after the triple (so its output
# directory is the same); core must then be built from source.
lwip_snat_spec := $(if $(filter 0,$(LWIP_SNAT_FRAME_POINTERS)),$(LWIP_SNAT_BUILDDIR)/target-spec/$(LWIP_SNAT_RUST_TARGET).json)
ifneq ($(lwip_snat_spec),)
ifeq ($(LWIP_SNAT_RUST_TARGET),)
$(error lwip_snat.mk: LWIP_SNAT_FRAME_POINTERS=0 is for a cross target; LWIP_SNAT_RUST_TARGET is empty)
endif
ifneq ($(LWIP_SNAT_BUILD_STD),1)
$(error lwip_snat.mk: LWIP_SNAT_FRAME_POINTERS=0 needs LWIP_SNAT_BUILD_STD=1: core must be built from source for a target spec without frame pointers (with rustup: rustup component add rust-src))
endif
endif
lwip_snat_capacities = $(foreach v,MAX_TCP MAX_UDP MAX_ICMP MAX_RULES MAX_HOSTS REASS_SLOTS REASS_BYTES MAX_PORTMAPS,\
  $(if $(LWIP_SNAT_$(v)),LWIP_SNAT_$(v)=$(LWIP_SNAT_$(v))))

# cargo decides what is stale, so it always runs; the archive's timestamp changes only when
# cargo rebuilt it, so the link reruns only then.
$(LWIP_SNAT_LIB): lwip_snat_cargo
	@mkdir -p $(LWIP_SNAT_BUILDDIR)/include
ifneq ($(lwip_snat_spec),)
	@mkdir -p $(dir $(lwip_snat_spec))
	RUSTC_BOOTSTRAP=1 $(or $(LWIP_SNAT_RUSTC),rustc) -Z unstable-options --print target-spec-json \
	  --target $(LWIP_SNAT_RUST_TARGET) >$(lwip_snat_spec).new
	@grep -q '"frame-pointer":' $(lwip_snat_spec).new || sed -i '1s/{/{\n  "frame-pointer": "may-omit",/' $(lwip_snat_spec).new
	@sed -i 's/"frame-pointer": *"[a-z-]*"/"frame-pointer": "may-omit"/' $(lwip_snat_spec).new
	@cmp -s $(lwip_snat_spec).new $(lwip_snat_spec) && rm $(lwip_snat_spec).new || mv $(lwip_snat_spec).new $(lwip_snat_spec)
endif
	cd $(LWIP_SNAT_DIR) && env $(lwip_snat_capacities) \
	  LWIP_SNAT_HEADER_DIR=$(lwip_snat_abs_builddir)/include \
	  CARGO_TARGET_DIR=$(abspath $(LWIP_SNAT_CARGO_TARGET_DIR)) \
	  $(if $(lwip_snat_shim_in_lib),LWIP_SNAT_LWIP_INCLUDE=$(abspath $(LWIP_SNAT_LWIP_INCLUDE)) \
	    LWIP_SNAT_LWIPOPTS_DIR=$(subst $(lwip_snat_space),:,$(abspath $(LWIP_SNAT_LWIPOPTS_DIR)))) \
	  $(if $(LWIP_SNAT_RUSTC),RUSTC=$(LWIP_SNAT_RUSTC)) \
	  $(if $(filter 1,$(LWIP_SNAT_BUILD_STD)),RUSTC_BOOTSTRAP=1) \
	  $(LWIP_SNAT_CARGO) rustc --release --lib --crate-type staticlib \
	  $(if $(LWIP_SNAT_RUST_TARGET),--target $(or $(abspath $(lwip_snat_spec)),$(LWIP_SNAT_RUST_TARGET))) \
	  $(if $(lwip_snat_spec),$$($(LWIP_SNAT_CARGO) -Z help 2>/dev/null | grep -qw json-target-spec && echo -Zjson-target-spec)) \
	  $(if $(filter 1,$(LWIP_SNAT_BUILD_STD)),-Zbuild-std=core) \
	  $(if $(filter 0,$(LWIP_SNAT_DEFAULT_FEATURES)),--no-default-features) \
	  --features "$(lwip_snat_features)"
	@cmp -s $(lwip_snat_cargo_out)/liblwip_snat.a $@ || cp $(lwip_snat_cargo_out)/liblwip_snat.a $@

$(LWIP_SNAT_HEADER): $(LWIP_SNAT_LIB)
	@test -f $@ || { echo "lwip_snat.mk: cargo wrote no $@" >&2; exit 1; }

.PHONY: lwip_snat_cargo
lwip_snat_cargo:

.DEFAULT_GOAL := $(lwip_snat_default_goal)
