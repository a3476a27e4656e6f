/* kernel_load — vm_load_kernel: read the kernel (and -initrd), pick the
 * loader by the image's format, and set up the entry state it asks for.
 *
 *   Multiboot (boot/loader.c): EAX = 0x2BADB002, EBX = the information
 *     structure, the reset segments (flat, CS 0x08); the command line is
 *     "KERNEL ARGS" and -initrd a module list, both as QEMU builds them.
 *   Linux bzImage (boot/linux.c): the 32-bit boot protocol — paging off,
 *     IF = 0, a GDT in guest memory with flat __BOOT_CS 0x10 and __BOOT_DS
 *     0x18 loaded, ESI = boot_params, EBX = EBP = EDI = 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulator/boot/file.h"
#include "emulator/boot/linux.h"
#include "emulator/boot/loader.h"
#include "emulator/boot/modules.h"
#include "emulator/paging.h"

#define KERNEL_MAX  (256u << 20)
#define MODULES_MAX 64

static int load_multiboot(struct vm *vm, const char *path, const uint8_t *file, size_t size,
                          const char *args, const char *initrd, char *err, size_t errlen)
{
    struct multiboot_module mods[MODULES_MAX];
    char *entries[MODULES_MAX], *cmdline = NULL;
    struct boot_info bi;
    int n = 0, nread = 0, rc = -1;

    if (initrd && *initrd) {
        n = boot_module_list(initrd, entries, MODULES_MAX, err, errlen);
        if (n < 0)
            return -1;
    }
    for (; nread < n; nread++) {
        char *mpath = boot_module_path(entries[nread]);
        uint8_t *data = NULL;
        size_t got = 0;
        int r = mpath ? boot_read_file(mpath, "multiboot module", vm->ram.r[0].size, &data,
                                       &got, err, errlen) : -1;
        free(mpath);
        if (r < 0)
            goto out;
        mods[nread] = (struct multiboot_module){ .data = data, .size = got,
                                                 .cmdline = entries[nread] };
    }
    /* QEMU (hw/i386/multiboot.c) passes "%s %s": the kernel path, -append. */
    size_t len = strlen(path) + strlen(args) + 2;
    cmdline = malloc(len);
    if (!cmdline) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    snprintf(cmdline, len, "%s %s", path, args);
    rc = multiboot_load_modules(file, size, vm->ram.r[0].host, vm->ram.r[0].size, cmdline,
                                mods, n, &bi, err, errlen);
    if (rc == 0) {
        vm->vcpu->bt.eip = bi.entry;
        vm->vcpu->bt.gpr[R_EAX] = bi.eax;
        vm->vcpu->bt.gpr[R_EBX] = bi.ebx;
    }
out:
    free(cmdline);
    for (int i = 0; i < nread; i++)
        free((void *)mods[i].data);
    for (int i = 0; i < n; i++)
        free(entries[i]);
    return rc;
}

static int load_linux(struct vm *vm, const uint8_t *file, size_t size, const char *args,
                      const char *initrd, char *err, size_t errlen)
{
    struct vcpu *v = vm->vcpu;
    struct linux_boot lb;
    uint8_t *rd = NULL;
    size_t rd_size = 0;
    int rc;

    if (initrd && *initrd &&
        boot_read_file(initrd, "initrd", vm->ram.r[0].size, &rd, &rd_size, err, errlen) < 0)
        return -1;
    rc = linux_load(file, size, vm->ram.r[0].host, vm->ram.r[0].size, args, rd, rd_size, &lb,
                    err, errlen);
    free(rd);
    if (rc < 0)
        return -1;
    /* boot.rst, "32-bit Boot Protocol": the loaded GDT holds __BOOT_CS and
     * __BOOT_DS; CS is __BOOT_CS, DS ES SS are __BOOT_DS; IF = 0. */
    struct desc code = { 0x0000ffffu, 0x00cf9b00u }, data = { 0x0000ffffu, 0x00cf9300u };
    for (int s = 0; s < 6; s++)
        seg_from_desc(&v->seg[s], LINUX_BOOT_DS, data);
    seg_from_desc(&v->seg[SEG_CS], LINUX_BOOT_CS, code);
    v->gdtr = (struct dtable){ .base = lb.gdt_base, .limit = lb.gdt_limit };
    memset(v->bt.gpr, 0, sizeof v->bt.gpr);
    v->bt.gpr[R_ESI] = lb.esi;
    v->bt.eip = lb.entry;
    v->bt.vif = 0;
    return 0;
}

int vm_load_kernel(struct vm *vm, const char *path, const char *cmdline, const char *initrd,
                   char *err, size_t errlen)
{
    uint8_t *file;
    size_t size;
    int rc;

    if (boot_read_file(path, "kernel", KERNEL_MAX, &file, &size, err, errlen) < 0)
        return -1;
    if (!cmdline)
        cmdline = "";
    if (linux_is_bzimage(file, size))
        rc = load_linux(vm, file, size, cmdline, initrd, err, errlen);
    else
        rc = load_multiboot(vm, path, file, size, cmdline, initrd, err, errlen);
    free(file);
    return rc;
}
