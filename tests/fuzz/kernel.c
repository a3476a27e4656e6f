/* kernel — see kernel.h. The prologue is hand-assembled (SDM vol. 2
 * encodings); descriptors per SDM vol. 3A §3.4.5, gates §6.11, the TSS
 * §7.2.1, 32-bit paging §4.3. */
#include "kernel.h"

#include <string.h>
#include "../diff/rng.h"      /* splitmix64, shared with the differential tester */

const char *kernel_kind_name(enum body_kind k)
{
    static const char *const n[] = { "insns", "bytes", "io", "diff" };
    return k < BODY_KINDS ? n[k] : "?";
}

static uint64_t seg_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags4)
{
    return (limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)access << 40 |
           (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)(flags4 & 0xf) << 52 |
           (uint64_t)(base >> 24) << 56;
}

/* The GDT: flat ring 0 and ring 3 code/data, then segments for the body's
 * segment loads to find: a based one, a 16-bit one, a not-present one,
 * the TSS, an expand-down one, a conforming code segment, the LDT, one
 * based near 4 GiB, random bytes. */
static void gdt(struct image *im, uint64_t *rng)
{
    uint64_t g[GDT_ENTRIES] = { 0 };
    g[1] = seg_desc(0, 0xfffff, 0x9a, 0xc);                  /* 0x08 code0 */
    g[2] = seg_desc(0, 0xfffff, 0x92, 0xc);                  /* 0x10 data0 */
    g[3] = seg_desc(0, 0xfffff, 0xfa, 0xc);                  /* 0x18 code3 */
    g[4] = seg_desc(0, 0xfffff, 0xf2, 0xc);                  /* 0x20 data3 */
    g[5] = seg_desc(IMG_SCRATCH + rng_below(rng, 0x100), 0xffff, 0x92, 0x4);   /* 0x28 based */
    g[6] = seg_desc(0, 0xffff, 0x92, 0x0);                   /* 0x30 16-bit data */
    g[7] = seg_desc(0, 0xfffff, 0x12, 0xc);                  /* 0x38 not present */
    g[8] = seg_desc(IMG_TSS, 0x67, 0x89, 0x0);               /* 0x40 TSS */
    g[9] = seg_desc(0, 0x0ffff, 0x96, 0xc);                  /* 0x48 expand-down */
    g[10] = seg_desc(0, 0xfffff, 0x9e, 0xc);                 /* 0x50 conforming code */
    g[11] = seg_desc(0, 0xfffff, 0xf2, 0xc);                 /* 0x58 data3 again */
    g[12] = seg_desc(IMG_LDT, 0x1f, 0x82, 0x0);              /* 0x60 LDT */
    g[13] = seg_desc(0xfffff000u, 0xfffff, 0x92, 0xc);       /* 0x68 based near 4 GiB */
    g[14] = seg_desc(0, 0xfffff, 0xb2, 0xc);                 /* 0x70 data, DPL 1 */
    g[15] = rng_next(rng);                                   /* 0x78 anything */
    memcpy(img_at(im, IMG_GDT), g, sizeof g);
    img_put16(im, IMG_GDTR, GDT_ENTRIES * 8 - 1);
    img_put32(im, IMG_GDTR + 2, IMG_GDT);
    /* LDT: a data and a code segment. */
    uint64_t l[4] = { 0, seg_desc(0, 0xfffff, 0x92, 0xc), seg_desc(0, 0xfffff, 0x9a, 0xc), rng_next(rng) };
    memcpy(img_at(im, IMG_LDT), l, sizeof l);
}

/* Handler stubs: "mov al, v; out 0xf4, al; cli; hlt", except the timer
 * vector (0x20), which counts the tick budget down and returns; with
 * `io`, every PIC vector (0x20-0x2f) returns after an EOI to both PICs. */
static void idt(struct image *im, bool io, bool diff)
{
    for (uint32_t v = 0; v < 256; v++) {
        uint32_t stub = IMG_STUBS + v * STUB_BYTES;
        uint32_t at = v == 0x20 || (io && v >= 0x20 && v < 0x30) ? IMG_STUBS + 256 * STUB_BYTES : stub;
        uint64_t gate = (at & 0xffff) | (uint64_t)SEL_CODE0 << 16 | (uint64_t)0xee << 40 |
                        (uint64_t)(at >> 16) << 48;         /* 32-bit interrupt gate, DPL 3 */
        memcpy(img_at(im, IMG_IDT + v * 8), &gate, 8);
        uint8_t dx = v < 32 ? DX_EXC_BASE + v : DX_INT;
        uint8_t s[STUB_BYTES] = { 0xb0, dx, 0xe6, 0xf4, 0xfa, 0xf4, 0xeb, 0xfc };
        memcpy(img_at(im, stub), s, STUB_BYTES);
    }
    img_put16(im, IMG_IDTR, 256 * 8 - 1);
    img_put32(im, IMG_IDTR + 2, IMG_IDT);
    if (diff) {
        diff_stubs(im);
        return;
    }
    /* The IRQ handler. */
    struct code c = { img_at(im, IMG_STUBS + 256 * STUB_BYTES), 0, 64, IMG_STUBS + 256 * STUB_BYTES };
    code_bytes(&c, "\xff\x0d", 2); code_u32(&c, IMG_TICKS);  /* dec dword [ticks] */
    code_bytes(&c, "\x74\x0a", 2);                           /* jz out */
    code_bytes(&c, "\x50\xb0\x20\xe6\xa0\xe6\x20\x58\xcf", 9); /* push eax; EOI slave+master; pop eax; iret */
    code_byte(&c, 0x90);
    code_bytes(&c, "\xb0\x31\xe6\xf4\xfa\xf4", 6);           /* out: mov al, DX_TICKS; out 0xf4 */
    img_put32(im, IMG_TICKS, TICK_BUDGET);
}

static void paging(struct image *im, uint64_t *rng)
{
    /* PDE 0: a page table with a few pages not present or read-only
     * (never the prologue's); PDEs 1-3: 4 MiB pages; the rest absent. */
    for (uint32_t i = 0; i < 1024; i++) {
        uint32_t pte = i << 12 | 0x7;
        bool fixed = i >= IMG_BASE >> 12 && i < IMG_BODY >> 12;
        if (!fixed && (i << 12) >= IMG_BASE && rng_chance(rng, 3))
            pte &= rng_chance(rng, 50) ? ~1u : ~2u;
        img_put32(im, IMG_PT + 4 * i, pte);
    }
    img_put32(im, IMG_PD, IMG_PT | 0x7);
    for (uint32_t i = 1; i < 4; i++)
        img_put32(im, IMG_PD + 4 * i, i << 22 | 0x87);
    if (rng_chance(rng, 30))    /* a 4 MiB page at the top: the wrap */
        img_put32(im, IMG_PD + 4 * 1023, 0x00000087);
}

static void out_imm(struct code *c, uint8_t port, uint8_t v)
{
    code_byte(c, 0xb0); code_byte(c, v);                     /* mov al, v */
    code_byte(c, 0xe6); code_byte(c, port);                  /* out port, al */
}

static void prologue(struct code *c, struct kernel_desc *d, uint64_t *rng)
{
    code_byte(c, 0xfa);                                      /* cli */
    code_bytes(c, "\x0f\x01\x15", 3); code_u32(c, IMG_GDTR); /* lgdt */
    code_bytes(c, "\x0f\x01\x1d", 3); code_u32(c, IMG_IDTR); /* lidt */
    code_byte(c, 0xea); code_u32(c, code_here(c) + 6); code_u16(c, SEL_CODE0);
    code_bytes(c, "\x66\xb8\x10\x00", 4);                    /* mov ax, 0x10 */
    code_bytes(c, "\x8e\xd8\x8e\xc0\x8e\xe0\x8e\xe8\x8e\xd0", 10);  /* ds es fs gs ss */
    code_byte(c, 0xbc); code_u32(c, IMG_STACK_TOP);          /* mov esp */
    code_bytes(c, "\x66\xb8\x40\x00\x0f\x00\xd8", 7);        /* ltr 0x40 */
    /* PIC: ICW1-4 (edge, cascade, vectors 0x20/0x28, 8086 mode); PIT
     * channel 0 rate generator at 1 kHz (divisor 1193). */
    out_imm(c, 0x20, 0x11); out_imm(c, 0xa0, 0x11);
    out_imm(c, 0x21, 0x20); out_imm(c, 0xa1, 0x28);
    out_imm(c, 0x21, 0x04); out_imm(c, 0xa1, 0x02);
    out_imm(c, 0x21, 0x01); out_imm(c, 0xa1, 0x01);
    out_imm(c, 0x21, 0xfe); out_imm(c, 0xa1, 0xff);
    out_imm(c, 0x43, 0x34); out_imm(c, 0x40, 0xa9); out_imm(c, 0x40, 0x04);
    if (d->paging) {
        code_byte(c, 0xb8); code_u32(c, IMG_PD);             /* mov eax, pd */
        code_bytes(c, "\x0f\x22\xd8", 3);                    /* mov cr3, eax */
        code_bytes(c, "\x0f\x20\xe0\x83\xc8\x10\x0f\x22\xe0", 9);   /* cr4 |= PSE */
        code_bytes(c, "\x0f\x20\xc0\x0d\x00\x00\x01\x80\x0f\x22\xc0", 11); /* cr0 |= PG|WP */
    }
    if (d->sse) {
        code_bytes(c, "\x0f\x20\xe0\x0d\x00\x06\x00\x00\x0f\x22\xe0", 11); /* cr4 |= OSFXSR|OSXMMEXCPT */
        code_bytes(c, "\x0f\x20\xc0\x83\xe0\xfb\x83\xc8\x22\x0f\x22\xc0", 12); /* cr0: EM=0, MP|NE */
    }
    code_bytes(c, "\xdb\xe3", 2);                            /* fninit */
    for (int r = 0; r < 8; r++) {
        if (r == 4)
            continue;
        d->gpr[r] = d->body == BODY_DIFF ? diff_value(rng) : body_value(rng);
        code_byte(c, (uint8_t)(0xb8 + r)); code_u32(c, d->gpr[r]);
    }
    /* EFLAGS: random arithmetic flags and DF; IF when d->irq. */
    uint32_t fl = 2 | ((uint32_t)rng_next(rng) & 0x8d5) | (d->irq ? 0x200 : 0);
    code_byte(c, 0x68); code_u32(c, fl); code_byte(c, 0x9d);
    d->eflags = fl;
    d->gpr[4] = IMG_STACK_TOP;
    if (rng_chance(rng, 10) && d->body != BODY_DIFF) {   /* ESP near the 4 GiB wrap or anywhere */
        static const uint32_t odd[] = { 0, 1, 2, 3, 4, 6, 0xfffffffe, 0x1000, IMG_SCRATCH + 2 };
        uint32_t esp = rng_chance(rng, 70) ? odd[rng_below(rng, 9)] : (uint32_t)rng_next(rng);
        code_byte(c, 0xbc); code_u32(c, esp);
    }
    /* 16-bit bodies at CS:IP = FFFF:(IMG_BODY - 0xFFFF0): by IRET into
     * virtual-8086 mode (IOPL 0 or 3), or by clearing CR0.PE and a far JMP
     * (SDM vol. 3A §20.2.1, §9.9.2). */
    if (d->mode16 == 1) {
        static const uint32_t frame[9] = { 0, 0, 0xffff, 0xffff, 0x1000, 0xfff0, 0, 0xffff,
                                           IMG_BODY - 0xffff0 };   /* GS FS DS ES SS ESP EFLAGS CS EIP */
        for (int i = 0; i < 9; i++) {
            code_byte(c, 0x68);
            code_u32(c, i == 6 ? fl | 0x20000 | (rng_chance(rng, 50) ? 0x3000 : 0) : frame[i]);
        }
        code_byte(c, 0xcf);                                  /* iret */
        return;
    }
    if (d->mode16 == 2) {
        code_bytes(c, "\x0f\x20\xc0\x24\xfe\x0f\x22\xc0", 8); /* cr0 &= ~PE */
        code_byte(c, 0xea); code_u32(c, IMG_BODY - 0xffff0); code_u16(c, 0xffff);
        return;
    }
    code_byte(c, 0xe9); code_u32(c, IMG_BODY - (code_here(c) + 4));
}

void kernel_build(uint64_t seed, int kind, struct image *im, struct kernel_desc *d)
{
    uint64_t s = seed * 0x2545f4914f6cdd1dull + 1, *rng = &s;
    memset(im, 0, sizeof *im);
    memset(d, 0, sizeof *d);
    if (kind < 0)
        kind = rng_chance(rng, 75) ? BODY_INSNS : BODY_BYTES;
    d->body = (enum body_kind)kind;
    d->paging = rng_chance(rng, 40) && kind != BODY_DIFF;
    d->sse = rng_chance(rng, 80);
    d->irq = kind == BODY_IO || (rng_chance(rng, 50) && kind != BODY_DIFF);
    d->elf = rng_chance(rng, 30);
    {   /* from a stream of its own, so that the other kernels stay as they were */
        uint64_t s16 = seed ^ 0x1616161616161616ull;
        if (kind != BODY_IO && kind != BODY_DIFF && rng_chance(&s16, 8))   /* diff: Unicorn runs 32-bit */
            d->mode16 = d->paging || rng_chance(&s16, 50) ? 1 : 2;
    }

    for (uint32_t i = 0; i < IMG_SCRATCH_LEN; i += 8) {
        uint64_t v = rng_next(rng);
        if (kind == BODY_DIFF)  /* pointers back into it, so that loaded addresses stay comparable */
            v = diff_value(rng) | (uint64_t)diff_value(rng) << 32;
        memcpy(img_at(im, IMG_SCRATCH + i), &v, 8);
    }
    /* Pseudo-descriptors and far pointers for the body's LGDT/LIDT/LDS/
     * JMP FAR m to find at the start of the scratch area. */
    memcpy(img_at(im, IMG_SCRATCH), img_at(im, IMG_GDTR), 6);
    memcpy(img_at(im, IMG_SCRATCH + 8), img_at(im, IMG_IDTR), 6);
    img_put32(im, IMG_TSS + 4, IMG_STACK_TOP);                /* ESP0 */
    img_put32(im, IMG_TSS + 8, SEL_DATA0);                    /* SS0 */
    img_put16(im, IMG_TSS + 102, 104);                        /* no I/O bitmap */
    gdt(im, rng);
    idt(im, kind == BODY_IO, kind == BODY_DIFF);
    if (d->paging)
        paging(im, rng);

    struct code c = { img_at(im, IMG_ENTRY), 0, IMG_GDT - IMG_ENTRY, IMG_ENTRY };
    prologue(&c, d, rng);

    /* The body, then CLI; HLT in every byte after it (random code that
     * jumps a little past its end still halts). */
    memset(img_at(im, IMG_BODY), 0xf4, IMG_BODY_MAX);
    struct code b = { img_at(im, IMG_BODY), 0, IMG_BODY_MAX - 64, IMG_BODY };
    struct body_ctx bc = { rng, &b, d };
    if (kind == BODY_BYTES) {
        d->ninsn = 16 + (int)rng_below(rng, 240);
        body_bytes(&bc, d->ninsn);
    } else if (kind == BODY_IO) {
        d->ninsn = 8 + (int)rng_below(rng, 40);
        body_io(&bc, d->ninsn);
    } else if (kind == BODY_DIFF) {
        d->ninsn = body_diff(&bc, 4 + (int)rng_below(rng, 30));
        diff_tail(im, &b, d);
        return;
    } else {
        d->ninsn = body_insns(&bc, 4 + (int)rng_below(rng, 60));
    }
    code_bytes(&b, "\xfa\xf4", 2);
}
