/* image — see image.h. */
#include "image.h"

#include <stdio.h>
#include <string.h>

#define MB_MAGIC 0x1BADB002u
#define MB_AOUT_KLUDGE (1u << 16)

void img_put32(struct image *im, uint32_t gpa, uint32_t v) { memcpy(img_at(im, gpa), &v, 4); }
void img_put16(struct image *im, uint32_t gpa, uint16_t v) { memcpy(img_at(im, gpa), &v, 2); }

void code_byte(struct code *c, uint8_t v) { if (c->len < c->cap) c->p[c->len++] = v; }
void code_bytes(struct code *c, const void *v, uint32_t n) { for (uint32_t i = 0; i < n; i++) code_byte(c, ((const uint8_t *)v)[i]); }
void code_u16(struct code *c, uint16_t v) { code_bytes(c, &v, 2); }
void code_u32(struct code *c, uint32_t v) { code_bytes(c, &v, 4); }

static bool write_all(FILE *f, const void *p, size_t n) { return fwrite(p, 1, n, f) == n; }

/* Multiboot header (spec 3.1.1-3.1.3): with the kludge the loader takes
 * the load range from the header itself; an ELF file leaves the address
 * fields to its program header. */
static void mb_header(uint8_t *h, bool aout)
{
    uint32_t flags = aout ? MB_AOUT_KLUDGE : 0;
    uint32_t f[8] = { MB_MAGIC, flags, (uint32_t)-(MB_MAGIC + flags), IMG_BASE, IMG_BASE,
                      IMG_FILE_END, IMG_BSS_END, IMG_ENTRY };
    memcpy(h, f, aout ? 32 : 12);
}

bool img_write(const struct image *im, bool elf, const char *path)
{
    static struct image copy;
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    memcpy(&copy, im, sizeof copy);
    mb_header(copy.b, !elf);
    bool ok = true;
    if (elf) {
        /* ELF32 header + one program header, then the image at 0x1000. */
        uint8_t eh[0x1000] = { 0x7f, 'E', 'L', 'F', 1, 1, 1 };
        uint16_t h16[] = { 2, 3 };                      /* ET_EXEC, EM_386 */
        memcpy(eh + 16, h16, 4);
        uint32_t ver = 1, entry = IMG_ENTRY, phoff = 52, shoff = 0, flags = 0;
        memcpy(eh + 20, &ver, 4); memcpy(eh + 24, &entry, 4); memcpy(eh + 28, &phoff, 4);
        memcpy(eh + 32, &shoff, 4); memcpy(eh + 36, &flags, 4);
        uint16_t sizes[] = { 52, 32, 1, 40, 0, 0 };     /* ehsize phentsize phnum shentsize shnum shstrndx */
        memcpy(eh + 40, sizes, sizeof sizes);
        uint32_t ph[8] = { 1, 0x1000, IMG_BASE, IMG_BASE, sizeof copy.b, IMG_BSS_END - IMG_BASE, 7, 0x1000 };
        memcpy(eh + 52, ph, sizeof ph);
        ok = write_all(f, eh, sizeof eh);
    }
    ok = ok && write_all(f, copy.b, sizeof copy.b);
    return (fclose(f) == 0) && ok;
}
