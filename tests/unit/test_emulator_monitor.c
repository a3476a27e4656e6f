/* The monitor's commands in-process (monitor_hmp.c, monitor_info.c, qmp.c):
 * info mem / info tlb on synthetic guest page tables (4 KiB and PSE 4 MiB
 * pages), x through paging and xp, bad HMP input, and the QMP reader fed
 * valid, broken and random bytes (an error reply each time, never a crash). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "emulator/monitor_int.h"

#define PD 0x1000u
#define PT 0x2000u

static struct vm *vm;
static struct monitor mon;

static void put32(uint32_t gpa, uint32_t v) { assert_int_equal(vm_write_phys(vm, gpa, &v, 4), 0); }

static int setup(void **state)
{
    struct vm_config cfg = { .ram_size = 8u << 20, .console_fd = -1 };
    char err[200];
    (void)state;
    vm = vm_create(&cfg, err, sizeof err);
    if (!vm)
        return -1;
    put32(PD + 0, PT | 0x7);                    /* 0-4M: the page table, user, writable */
    put32(PD + 4, 0x400000 | 0x80 | 0x63);      /* 4M-8M: a 4 MiB page, supervisor, D A W P */
    put32(PT + 0 * 4, 0x0000 | 0x7);            /* 0x0000: user rw */
    put32(PT + 1 * 4, 0x5000 | 0x1);            /* 0x1000 -> 0x5000: supervisor read-only */
    put32(PT + 2 * 4, 0x6000 | 0x1);            /* 0x2000 -> 0x6000: the same */
    put32(0x5000, 0xcafef00d);
    mon = (struct monitor){ .vm = vm, .running = true };
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vm_destroy(vm);
    return 0;
}

/* The HMP's reply to line. */
static char *hmp(const char *line)
{
    static char *text;
    size_t n = 0;
    FILE *f;
    free(text);
    text = NULL;
    f = open_memstream(&text, &n);
    hmp_command(&mon, line, f);
    fclose(f);
    return text;
}

static void info_mem_and_tlb_walk_the_guest_tables(void **state)
{
    (void)state;
    assert_non_null(strstr(hmp("info mem"), "PG disabled"));
    vm_set_control(vm, 0x80000011u, PD, 0x10);  /* PG PE ET, CR4.PSE */
    char *mem = hmp("info mem");
    assert_non_null(strstr(mem, "00000000-00001000 00001000 urw\n"));
    assert_non_null(strstr(mem, "00001000-00003000 00002000 -r-\n"));
    assert_non_null(strstr(mem, "00400000-00800000 00400000 -rw\n"));
    char *tlb = hmp("info tlb");
    assert_non_null(strstr(tlb, "00000000: 00000000 -------UW\n"));
    assert_non_null(strstr(tlb, "00001000: 00005000 ---------\n"));
    assert_non_null(strstr(tlb, "00400000: 00400000 --PDA---W\n"));
    /* A run activates the guest's address space (CR3) in the MMU: cli; hlt at 0. */
    struct vm_regs r = { .eip = 0, .eflags = 2 };
    r.gpr[4] = 0x800;
    vm_set_regs(vm, &r);
    assert_int_equal(vm_write_phys(vm, 0, "\xfa\xf4", 2), 0);
    assert_int_equal(vm_run(vm, UINT64_MAX, 5000), VM_EXIT_HALT);
    assert_non_null(strstr(hmp("x /1xw 0x1000"), "00001000: 0xcafef00d"));
    assert_non_null(strstr(hmp("xp /1xw 0x5000"), "00005000: 0xcafef00d"));
    assert_non_null(strstr(hmp("x /2xh 0x1000"), "00001000: 0xf00d 0xcafe"));
    assert_non_null(strstr(hmp("x /1dw 0x1000"), "-889262067"));
    assert_non_null(strstr(hmp("x /1xw 0x3000"), "Cannot access memory"));
    vm_set_control(vm, 0x11, 0, 0);
}

static void bad_hmp_input_is_an_error(void **state)
{
    (void)state;
    assert_non_null(strstr(hmp("nosuch"), "unknown command: 'nosuch'"));
    assert_non_null(strstr(hmp("x /4q 0"), "invalid char in format"));
    assert_non_null(strstr(hmp("x /4x $nosuch"), "invalid address expression"));
    assert_non_null(strstr(hmp("x /4x"), "invalid address expression"));
    assert_non_null(strstr(hmp("info nosuch"), "unknown item"));
    assert_non_null(strstr(hmp("loadvm /nonexistent/x"), "Error: cannot open snapshot"));
    assert_non_null(strstr(hmp("savevm"), "Error: savevm needs a file name"));
    assert_string_equal(hmp("   "), "");
    assert_non_null(strstr(hmp("info status"), "running"));
}

/* Feed bytes to a QMP client whose replies go to a socketpair; the replies. */
static char *qmp_feed(struct mon_client *c, int rd, const char *in, size_t n)
{
    static char out[65536];
    ssize_t got;
    for (size_t i = 0; i < n;) {
        size_t k = n - i < sizeof c->buf - c->len ? n - i : sizeof c->buf - c->len;
        memcpy(c->buf + c->len, in + i, k);
        c->len += k;
        i += k;
        qmp_input(&mon, c);
    }
    got = recv(rd, out, sizeof out - 1, MSG_DONTWAIT);
    out[got > 0 ? got : 0] = 0;
    return out;
}

static void qmp_reader_survives_bad_json(void **state)
{
    int sv[2];
    struct mon_client *c = calloc(1, sizeof *c);
    char junk[3000];
    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    c->fd_in = -1;
    c->fd_out = sv[0];
    c->qmp = true;
    mon.qmp = c;
#define FEED(s) qmp_feed(c, sv[1], s, strlen(s))
    assert_non_null(strstr(FEED("{\"execute\":\"query-status\"}"), "CommandNotFound"));
    assert_non_null(strstr(FEED("{\"execute\":\"qmp_capabilities\",\"id\":[1,{\"a\":null}]}"),
                           "{\"return\": {}, \"id\": [1,{\"a\":null}]}"));
    assert_non_null(strstr(FEED("{\"execute\":\"query-status\"}"), "\"running\": true"));
    assert_non_null(strstr(FEED("{\"execute\": 5}"), "lacks member 'execute'"));
    assert_non_null(strstr(FEED("{\"execute\": \"stop\", \"arguments\": 3}"), "must be an object"));
    assert_non_null(strstr(FEED("{\"execute\": \"que\\u0072y-status\"}"), "\"status\""));
    assert_non_null(strstr(FEED("{\"a\": tru}"), "JSON parse error"));
    assert_non_null(strstr(FEED("{\"a\": \"\\q\"}"), "JSON parse error"));
    assert_non_null(strstr(FEED("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"),
                           "JSON parse error"));
    assert_non_null(strstr(FEED("{\"execute\": \"human-monitor-command\", \"arguments\": "
                                "{\"command-line\": \"info status\"}}"), "VM status: running\\n"));
    /* an object longer than the buffer */
    memset(junk, ' ', sizeof junk);
    junk[0] = '{';
    char *big = calloc(1, 3 * MON_LINE_MAX);
    memset(big, '[', 3 * MON_LINE_MAX - 1);
    assert_non_null(strstr(qmp_feed(c, sv[1], big, 3 * MON_LINE_MAX - 1), "too long"));
    /* random bytes, then a valid request still works */
    srand(14);
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof junk; i++)
            junk[i] = "{}[]\",:\\ \nabtrue0-9e."[rand() % 22];
        qmp_feed(c, sv[1], junk, sizeof junk);
        c->len = 0;
    }
    assert_non_null(strstr(FEED("\n{\"execute\":\"query-status\"}"), "\"status\""));
    free(big);
    mon.qmp = NULL;
    close(sv[0]);
    close(sv[1]);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(info_mem_and_tlb_walk_the_guest_tables),
        cmocka_unit_test(bad_hmp_input_is_an_error),
        cmocka_unit_test(qmp_reader_survives_bad_json),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
