/* compare — reference result against the result under test, with the
 * masks that make the comparison fair: undefined flags, registers and x87
 * condition codes from the reference trace, the fields neither the SDM nor
 * Unicorn pins down (unicorn-quirks.md), and a tolerance for transcendentals. */
#pragma once
#include <stdio.h>
#include "dt.h"

/* Is the reference result usable at all? If not, why (for "skipped"). */
const char *dt_ref_unusable(const struct dt_result *ref);
/* Number of differing fields; with f, print both states side by side with
 * the differences marked; with sig, a bit per differing field (the shrinker
 * keeps a simplification only if it differs in no new field). */
int dt_compare(const struct dt_case *c, const struct dt_result *ref, const struct dt_result *got,
               const char *ref_name, const char *got_name, FILE *f, uint64_t *sig);
/* Print the case: initial registers and the code as assembly. */
void dt_print_case(const struct dt_case *c, FILE *f);
