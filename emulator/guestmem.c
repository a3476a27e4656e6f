/* guestmem — the monitor's own accesses to guest memory (DESIGN §4: the
 * exception frames it pushes, the descriptors and TSS fields it reads, the
 * operands of the instructions it emulates).
 *
 * They go through the guest's page tables like the CPU's would, with the
 * Accessed and Dirty bits set (mmu_translate, SDM vol. 3A §4.8): explicit
 * accesses as the current CPL makes them, descriptor-table and TSS
 * accesses as implicit supervisor accesses (§4.6). Every page an access
 * touches is translated before any byte moves, so a #PF leaves nothing
 * half done; its CR2 and error code wait in v->pf for the caller to raise.
 * Stores go through mmu_write_phys, which keeps traced page tables
 * coherent, and invalidate the translated blocks whose bytes they change
 * (smc.c); frames that are not RAM belong to a device (mmio.c). */
#include <string.h>

#include "emulator/paging.h"

bool guest_xlate(struct vcpu *v, uint32_t lin, enum mmu_access acc, bool user, uint32_t *gpa)
{
    struct mmu_fault_result r;

    if (!paging_on(v)) {
        *gpa = lin;
        return true;
    }
    if (mmu_translate(v->vm->mmu, lin, acc, user, &r) == MMU_GUEST_PF) {
        v->pf = (struct pf_note){ .pending = true, .pf = PF(r.error, r.cr2), .site = v->bt.site };
        return false;
    }
    *gpa = r.gpa;
    if (acc == MMU_FETCH)
        v->fetch_global = r.global && (v->cr4 & CR4_PGE);
    else if (r.exact && v->acctlb.genp) {
        uint8_t *page = ram_ptr(&v->vm->ram, r.gpa & ~4095u, 4096);
        if (page)
            acctlb_fill(&v->acctlb, lin, page, r.exact);
    }
    return true;
}

bool phys_read(struct vcpu *v, uint32_t gpa, void *dst, size_t n)
{
    const void *p = ram_ptr(&v->vm->ram, gpa, n);
    const struct mmio_region *d;

    if (p) {
        memcpy(dst, p, n);
        return true;
    }
    if (!(d = mmio_find(v->vm, gpa)))
        return false;
    v->vm->stats.mmio_accesses++;
    mmio_read(d, gpa, dst, n);
    return true;
}

bool phys_write(struct vcpu *v, uint32_t gpa, const void *src, size_t n)
{
    const struct mmio_region *d;

    if (ram_ptr(&v->vm->ram, gpa, n)) {
        if (mmu_write_phys(v->vm->mmu, gpa, src, n))
            smc_code_write(v, gpa, (uint32_t)n, false);
        return true;
    }
    if (!(d = mmio_find(v->vm, gpa)))
        return false;
    v->vm->stats.mmio_accesses++;
    mmio_write(d, gpa, src, n);
    if (v->vm->events)
        events_rearm(v);        /* a timer (LAPIC, HPET) may have been programmed */
    return true;
}

/* The plain copy between buf and the host page bytes at p. */
static inline void copy_plain(uint8_t *p, void *buf, size_t n, bool write)
{
    if (write)
        memcpy(p, buf, n);
    else if (n == 8)
        memcpy(buf, p, 8);      /* descriptors and gates: a load, not a call */
    else
        memcpy(buf, p, n);
}

/* Within one page of RAM, not traced, not code: a plain copy. */
static bool access_one_page(struct vcpu *v, uint32_t lin, void *buf, size_t n, unsigned flags)
{
    uint32_t gpa;
    uint8_t *p;

    if (paging_on(v) && v->acctlb.genp) {
        /* A write entry is exact: D set, not traced, not code (acctlb.h). */
        p = acctlb_probe(&v->acctlb, lin, (flags & GM_WRITE) != 0, (flags & GM_USER) != 0);
        if (p) {
            v->vm->stats.acctlb_hits++;
            if (!(flags & GM_PROBE))
                copy_plain(p, buf, n, flags & GM_WRITE);
            return true;
        }
        v->vm->stats.acctlb_misses++;
    }
    if (!guest_xlate(v, lin, (flags & GM_WRITE) ? MMU_WRITE : MMU_READ, (flags & GM_USER) != 0, &gpa))
        return false;
    if (!(p = ram_ptr(&v->vm->ram, gpa, n)))
        return (flags & GM_PROBE) ? mmio_find(v->vm, gpa) != NULL
                                  : (flags & GM_WRITE) ? phys_write(v, gpa, buf, n) : phys_read(v, gpa, buf, n);
    if (flags & GM_PROBE)
        return true;
    if ((flags & GM_WRITE) && (mmu_is_traced(v->vm->mmu, gpa) || mmu_is_code(v->vm->mmu, gpa) ||
                               mmu_dirty_clean(v->vm->mmu, gpa)))
        return phys_write(v, gpa, buf, n);      /* also marks it dirty for a migration */
    copy_plain(p, buf, n, flags & GM_WRITE);
    return true;
}

bool guest_access(struct vcpu *v, uint32_t lin, void *buf, size_t n, unsigned flags)
{
    uint32_t gpa[3], len[3];
    unsigned k = 0;
    enum mmu_access acc = (flags & GM_WRITE) ? MMU_WRITE : MMU_READ;
    bool user = (flags & GM_USER) != 0;
    uint8_t *p = buf;

    if ((lin & 4095) + n <= 4096)
        return access_one_page(v, lin, buf, n, flags);
    if (n > 8192)
        return false;
    for (size_t done = 0; done < n; k++) {
        uint32_t a = lin + (uint32_t)done;          /* wraps at 4 GiB like the CPU */
        len[k] = 4096 - (a & 4095);
        if (len[k] > n - done)
            len[k] = (uint32_t)(n - done);
        if (!guest_xlate(v, a, acc, user, &gpa[k]))
            return false;
        done += len[k];
    }
    if (flags & GM_PROBE) {
        /* Device memory passes, and so does the open bus (mmio.c). */
        for (unsigned i = 0; i < k; i++)
            if (!ram_ptr(&v->vm->ram, gpa[i], len[i]) && !mmio_find(v->vm, gpa[i]))
                return false;
        return true;
    }
    for (unsigned i = 0; i < k; i++) {
        bool ok = (flags & GM_WRITE) ? phys_write(v, gpa[i], p, len[i]) : phys_read(v, gpa[i], p, len[i]);
        if (!ok)
            return false;
        p += len[i];
    }
    return true;
}

bool guest_read(struct vcpu *v, uint32_t lin, void *dst, size_t n)
{
    return guest_access(v, lin, dst, n, v->cpl == 3 ? GM_USER : 0);
}

bool guest_write(struct vcpu *v, uint32_t lin, const void *src, size_t n)
{
    return guest_access(v, lin, (void *)src, n, GM_WRITE | (v->cpl == 3 ? GM_USER : 0));
}

bool sys_read(struct vcpu *v, uint32_t lin, void *dst, size_t n)
{
    return guest_access(v, lin, dst, n, 0);
}

bool sys_write(struct vcpu *v, uint32_t lin, const void *src, size_t n)
{
    return guest_access(v, lin, (void *)src, n, GM_WRITE);
}

struct fault pf_take(struct vcpu *v, struct fault otherwise)
{
    if (!v->pf.pending)
        return otherwise;
    v->pf.pending = false;
    v->cr2 = v->pf.pf.cr2;
    return v->pf.pf;
}

int guest_mem_fail(struct vcpu *v, uint32_t eip, uint32_t lin, const char *what)
{
    if (v->pf.pending)
        return raise_fault(v, pf_take(v, NO_FAULT), eip);
    return vcpu_stop_error(v, eip, "guest %s unbacked physical memory at linear 0x%08x (EIP 0x%08x)",
                           what, lin, eip);
}

int vm_write_phys(struct vm *vm, uint32_t gpa, const void *src, size_t n)
{
    const uint8_t *p = src;

    if (!ram_ptr(&vm->ram, gpa, n))
        return -1;
    while (n) {
        size_t k = 4096 - (gpa & 4095);
        if (k > n)
            k = n;
        phys_write(vm->vcpu, gpa, p, k);
        gpa += (uint32_t)k;
        p += k;
        n -= k;
    }
    return 0;
}

int vm_read_phys(struct vm *vm, uint32_t gpa, void *dst, size_t n)
{
    void *p = ram_ptr(&vm->ram, gpa, n);
    if (!p)
        return -1;
    memcpy(dst, p, n);
    return 0;
}
