/* diskimg — makes and checks the ide kernel's scratch disk (host tool).
 *
 *   diskimg create FILE        pattern A in all DISK_SECTORS sectors
 *   diskimg check FILE         pattern B in the sectors the kernel writes,
 *                              A everywhere else; exit 1 naming the first
 *                              sector that differs */
#include <stdio.h>
#include <string.h>

#include "disk_pattern.h"

int main(int argc, char **argv)
{
    unsigned char sec[512], want[512];
    if (argc != 3 || (strcmp(argv[1], "create") && strcmp(argv[1], "check"))) {
        fprintf(stderr, "usage: diskimg create|check FILE\n");
        return 2;
    }
    int create = !strcmp(argv[1], "create");
    FILE *f = fopen(argv[2], create ? "wb" : "rb");
    if (!f) {
        perror(argv[2]);
        return 2;
    }
    for (uint32_t s = 0; s < DISK_SECTORS; s++) {
        int b = !create && s >= DISK_WRITE_LO && s <= DISK_WRITE_HI;
        for (uint32_t i = 0; i < 512; i++)
            want[i] = b ? disk_pattern_b(s, i) : disk_pattern_a(s, i);
        if (create) {
            fwrite(want, 1, 512, f);
            continue;
        }
        if (fread(sec, 1, 512, f) != 512 || memcmp(sec, want, 512) != 0) {
            fprintf(stderr, "diskimg: %s: sector %u is not pattern %c\n", argv[2], s, b ? 'B' : 'A');
            return 1;
        }
    }
    if (!create && fgetc(f) != EOF) {
        fprintf(stderr, "diskimg: %s: longer than %u sectors\n", argv[2], DISK_SECTORS);
        return 1;
    }
    if (fclose(f) != 0) {
        perror(argv[2]);
        return 2;
    }
    if (!create)
        printf("diskimg: %s: all %u sectors as expected\n", argv[2], DISK_SECTORS);
    return 0;
}
