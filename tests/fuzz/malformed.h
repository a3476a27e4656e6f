/* malformed — broken kernel files made from good ones: truncations and
 * header mutations (ELF header, program headers, Multiboot header incl.
 * the a.out kludge's address fields). bt86 must refuse them with status 3
 * and one line, or run them; never crash or report an internal error. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Mutation i of the file `src` (n bytes) into `dst` (room for n bytes);
 * returns the new length. Deterministic in (seed, i). */
size_t malformed_make(const uint8_t *src, size_t n, uint64_t seed, long i, uint8_t *dst, char *what, size_t wn);
