/* unicorn — the fuzzer's comparison against Unicorn 2.0.1 (issue #15, "A
 * fuzzer of our own": where Unicorn can run the same sequence, compare).
 *
 * A BODY_DIFF kernel's body runs in Unicorn from the state the prologue
 * leaves (the image's bytes, the registers and EFLAGS the generator
 * chose, ESP at the stack top with the prologue's PUSH below it) to
 * the end of the body or the first exception; bt86's kernel reports the same point
 * through port 0xE9 (diffk.c). The vector, the EIP, the registers, the
 * arithmetic flags (less those the SDM leaves undefined on the executed
 * trace: tests/diff/trace.c) and a hash of the scratch area must agree.
 * A run that touches memory below the body or above RAM (where bt86's
 * firmware tables, descriptor bits and open bus differ from a fresh
 * Unicorn), takes an exception whose frame would not land in the stack
 * area, runs past the step limit or consumes an undefined value is "not
 * comparable". */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "kernel.h"

enum uni_verdict { UNI_MATCH, UNI_MISMATCH, UNI_NOT_COMPARABLE };

/* bt86_out: what bt86 wrote (its "DMP" report line among it). */
enum uni_verdict uni_compare(const struct image *im, const struct kernel_desc *d, const char *bt86_out,
                             char *why, size_t n);
