/* native_main — the workloads as an ordinary 32-bit Linux process, the
 * "native" column of bench/run. Built from the same bench/workloads/ sources
 * as the bench kernel, with the same code-generation flags (see
 * bench/CMakeLists.txt), and prints the same line the kernel prints.
 *
 *   native-bench NAME [SCALE]   run one workload (SCALE defaults to its bench_scale)
 *   native-bench --list         the workload names, one per line
 *
 * "empty" runs nothing: its time is the process start-up that bench/run
 * subtracts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workloads.h"

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--list")) {
        for (int i = 0; i < nworkloads; i++)
            printf("%s\n", workloads[i].name);
        return 0;
    }
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: native-bench NAME [SCALE] | --list\n");
        return 2;
    }
    if (!strcmp(argv[1], "empty"))
        return 0;
    for (int i = 0; i < nworkloads; i++) {
        if (strcmp(argv[1], workloads[i].name))
            continue;
        uint32_t scale = argc == 3 ? (uint32_t)strtoul(argv[2], NULL, 0) : workloads[i].bench_scale;
        uint32_t sum = workloads[i].fn(scale);
        printf("%s %08x\n", workloads[i].name, sum);
        return 0;
    }
    fprintf(stderr, "native-bench: unknown workload '%s'\n", argv[1]);
    return 2;
}
