/* The command line: bt86's own options and QEMU's spellings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "emulator/options.h"

static struct options o;
static char err[256];

/* parse("a b c") splits on spaces; argv[0] is "bt86". */
static int parse(const char *line)
{
    static char buf[512];
    static char *argv[64];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", line);
    argv[argc++] = "bt86";
    for (char *t = strtok(buf, " "); t; t = strtok(NULL, " "))
        argv[argc++] = t;
    argv[argc] = NULL;
    err[0] = 0;
    return options_parse(argc, argv, &o, err, sizeof err);
}

static void expect_error(const char *line, const char *fragment)
{
    assert_int_equal(parse(line), -1);
    if (!strstr(err, fragment) || strchr(err, '\n'))
        fail_msg("'%s' gave '%s', expected '%s'", line, err, fragment);
}

static void defaults(void **state)
{
    assert_int_equal(parse("kernel.elf"), 0);
    assert_string_equal(o.kernel, "kernel.elf");
    assert_string_equal(o.append, "");
    assert_null(o.initrd);
    assert_int_equal(o.ram_mb, 128);
    assert_string_equal(o.serial, "stdio");
    assert_false(o.debug_exit);
    assert_int_equal(o.debug_exit_base, 0xf4);
    assert_int_equal(o.debug_exit_size, 4);
    assert_false(o.stats || o.no_chain || o.verify || o.trace || o.no_reboot);
}

static void kernel_spellings(void **state)
{
    assert_int_equal(parse("-kernel k1"), 0);
    assert_string_equal(o.kernel, "k1");
    assert_int_equal(parse("--kernel k1 k1"), 0);
    expect_error("-kernel k1 k2", "two kernels");
    expect_error("-m 64", "no kernel given");
    expect_error("", "no kernel given");
    assert_int_equal(parse("-- -odd-name"), 0);
    assert_string_equal(o.kernel, "-odd-name");
    assert_int_equal(parse("-"), 0);
    assert_string_equal(o.kernel, "-");
}

static void strings_and_flags(void **state)
{
    assert_int_equal(parse("-append console=ttyS0 -initrd rd.img --stats --no-chain "
                           "--verify --trace -no-reboot -nographic -display none k"), 0);
    assert_string_equal(o.append, "console=ttyS0");
    assert_string_equal(o.initrd, "rd.img");
    assert_true(o.stats && o.no_chain && o.verify && o.trace && o.no_reboot);
    assert_string_equal(o.kernel, "k");
    assert_int_equal(parse("-stats k"), 0);                /* one dash works too */
    assert_true(o.stats);
    expect_error("-display sdl k", "no display");
    expect_error("-append", "needs a value");
}

static void memory_sizes(void **state)
{
    static const struct { const char *arg; uint32_t mb; } ok[] = {
        { "256", 256 }, { "256M", 256 }, { "256m", 256 }, { "1G", 1024 }, { "3g", 3072 },
        { "2", 2 }, { "3072", 3072 }, { "2048K", 2 }, { "size=64M", 64 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char line[64];
        snprintf(line, sizeof line, "-m %s k", ok[i].arg);
        assert_int_equal(parse(line), 0);
        assert_int_equal(o.ram_mb, ok[i].mb);
    }
    expect_error("-m 1 k", "2 to 3072 MiB");
    expect_error("-m 0 k", "2 to 3072 MiB");
    expect_error("-m 3073 k", "2 to 3072 MiB");
    expect_error("-m 4G k", "2 to 3072 MiB");
    expect_error("-m 99999999999999999999999 k", "expected a size");
    expect_error("-m 18446744073709551615G k", "2 to 3072 MiB");
    expect_error("-m 2500K k", "whole number of MiB");
    expect_error("-m abc k", "expected a size");
    expect_error("-m 12X k", "expected a size");
    expect_error("-m 128MB k", "expected a size");
    expect_error("-m -5 k", "expected a size");
    expect_error("k -m", "needs a value");
}

static void serial(void **state)
{
    assert_int_equal(parse("-serial null k"), 0);
    assert_string_equal(o.serial, "null");
    assert_int_equal(parse("-serial none k"), 0);
    assert_string_equal(o.serial, "null");
    assert_int_equal(parse("-serial mon:stdio k"), 0);
    assert_string_equal(o.serial, "stdio");
    assert_int_equal(parse("-serial file:/tmp/out.txt k"), 0);
    assert_string_equal(o.serial, "file:/tmp/out.txt");
    expect_error("-serial file: k", "file: needs a path");
    assert_int_equal(parse("-serial pty k"), 0);
    assert_string_equal(o.serial, "pty");
    assert_int_equal(parse("-serial tcp::4444,server,nowait k"), 0);
    assert_string_equal(o.serial, "tcp::4444,server,nowait");
    assert_int_equal(parse("-serial tcp:127.0.0.1:4444,server,wait=off k"), 0);
    assert_int_equal(parse("-serial unix:/tmp/s,server,nowait k"), 0);
    expect_error("-serial tcp:4444 k", "expected tcp:[HOST]:PORT");
    expect_error("-serial tcp::0,server k", "port of 1-65535");
    expect_error("-serial tcp::70000 k", "port of 1-65535");
    expect_error("-serial tcp::4444,server,bogus k", "unknown socket flag");
    expect_error("-serial unix: k", "needs a socket path");
    expect_error("-serial vc k", "supported are null, stdio, pty");
    expect_error("-monitor vc k", "-monitor 'vc': supported are stdio");
    expect_error("-qmp stdio k", "-qmp 'stdio': supported are tcp:");
    assert_int_equal(parse("-monitor tcp:localhost:4444,server,nowait -qmp pty k"), 0);
    assert_string_equal(o.monitor, "tcp:localhost:4444,server,nowait");
    assert_string_equal(o.qmp, "pty");
}

static void debug_exit_device(void **state)
{
    assert_int_equal(parse("-device isa-debug-exit k"), 0);
    assert_true(o.debug_exit);
    assert_int_equal(o.debug_exit_base, 0xf4);
    assert_int_equal(o.debug_exit_size, 4);
    assert_int_equal(parse("-device isa-debug-exit,iobase=0x501,iosize=0x02 k"), 0);
    assert_int_equal(o.debug_exit_base, 0x501);
    assert_int_equal(o.debug_exit_size, 2);
    assert_int_equal(parse("-device isa-debug-exit,iosize=1,iobase=244 k"), 0);
    assert_int_equal(o.debug_exit_base, 0xf4);
    assert_int_equal(o.debug_exit_size, 1);
    expect_error("-device virtio-net k", "unsupported device (try -device help)");
    expect_error("-device isa-debug-exitx k", "unsupported device");
    expect_error("-device isa-debug-exit,speed=3 k", "unknown property 'speed'");
    expect_error("-device isa-debug-exit,iobase k", "expected property=value");
    expect_error("-device isa-debug-exit,iobase=0x10000 k", "bad iobase");
    expect_error("-device isa-debug-exit,iobase=zz k", "bad iobase");
    expect_error("-device isa-debug-exit,iobase= k", "bad iobase");
    expect_error("-device isa-debug-exit,iobase=-1 k", "bad iobase");
    expect_error("-device isa-debug-exit,iosize=0 k", "outside the I/O space");
    expect_error("-device isa-debug-exit,iobase=0xffff,iosize=2 k", "outside the I/O space");
}

/* A typical QEMU test runner's command line (kvm-unit-tests' x86 runner). */
static void qemu_runner_line(void **state)
{
    assert_int_equal(parse("-nodefaults -global kvm-pit.lost_tick_policy=discard "
                           "-device pc-testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4 "
                           "-vnc none -serial stdio -device pci-testdev -no-user-config "
                           "-name guest1 -machine accel=tcg -smp 1 -kernel K -append a=b "
                           "-initrd E"), 0);
    assert_true(o.nodefaults && o.pc_testdev && o.pci_testdev && o.debug_exit);
    assert_string_equal(o.serial, "stdio");
    assert_string_equal(o.kernel, "K");
    assert_int_equal(parse("-nodefaults k"), 0);        /* no default COM1, as in QEMU */
    assert_string_equal(o.serial, "null");
    expect_error("-global kvm-pit k", "DRIVER.PROPERTY=VALUE");
    expect_error("-global .x=1 k", "DRIVER.PROPERTY=VALUE");
    expect_error("-vnc :1 k", "no display");
    expect_error("-device pci-testdev,membar=4096 k", "takes no properties");
}

static void cpu_models(void **state)
{
    assert_int_equal(parse("k"), 0);
    assert_int_equal(o.cpuid_edx, OPT_CPU_ALL);
    assert_int_equal(parse("-cpu qemu32 k"), 0);
    assert_int_equal(o.cpuid_edx & (1u << 26), 1u << 26);
    assert_int_equal(parse("-cpu max,-sse2,-sse k"), 0);
    assert_int_equal(o.cpuid_edx & (3u << 25), 0);
    assert_true(o.cpuid_edx & 1);
    assert_int_equal(parse("-cpu pentium3 k"), 0);
    assert_int_equal(o.cpuid_edx & (3u << 25), 1u << 25);
    assert_int_equal(parse("-cpu pentium,+mmx,sse=on,fpu=off k"), 0);
    assert_int_equal(o.cpuid_edx & ((1u << 23) | (1u << 25) | 1u), (1u << 23) | (1u << 25));
    assert_int_equal(parse("-cpu host,-vme,-apic k"), 0);      /* -vme absent already */
    assert_int_equal(o.cpuid_ext_edx, 1u << 20);
    assert_int_equal(parse("-cpu host,-nx,-pae,-pge k"), 0);
    assert_int_equal(o.cpuid_ext_edx, 0);
    assert_int_equal(o.cpuid_edx & ((1u << 6) | (1u << 13)), 0);
    assert_int_equal(parse("-cpu qemu32 k"), 0);              /* QEMU's qemu32 has no NX */
    assert_int_equal(o.cpuid_ext_edx, 0);
    assert_int_equal(parse("-cpu qemu32,+nx k"), 0);
    assert_int_equal(o.cpuid_ext_edx, 1u << 20);
    assert_int_equal(parse("-cpu qemu32,+apic k"), 0);        /* the pc machine has one */
    expect_error("-cpu qemu32,+mtrr k", "does not emulate feature 'mtrr'");
    expect_error("-cpu qemu32,+frobnicate k", "unknown CPU feature 'frobnicate'");
    expect_error("-cpu qemu32,sse k", "bad feature");
    expect_error("-cpu athlon k", "unknown CPU model");
}

static void rtc_chardev_log_gdb(void **state)
{
    assert_int_equal(parse("-rtc base=utc,clock=host k"), 0);
    assert_int_equal(o.rtc_base, OPT_RTC_UTC);
    assert_int_equal(parse("-rtc base=localtime,clock=vm,driftfix=slew k"), 0);
    assert_int_equal(o.rtc_base, OPT_RTC_LOCAL);
    assert_int_equal(parse("-rtc base=2006-06-17T16:01:21 k"), 0);
    assert_int_equal(o.rtc_base, OPT_RTC_DATE);
    assert_int_equal(o.rtc_date, 1150560081);
    assert_int_equal(parse("-rtc base=2000-03-01 k"), 0);
    assert_int_equal(o.rtc_date, 951868800);
    expect_error("-rtc base=yesterday k", "bad base");
    expect_error("-rtc clock=wall k", "unknown setting");

    assert_int_equal(parse("-serial chardev:c1 -chardev file,id=c1,path=/tmp/x.log k"), 0);
    assert_string_equal(o.serial, "file:/tmp/x.log");
    assert_int_equal(parse("-chardev stdio,id=s,mux=on,signal=off -serial chardev:s k"), 0);
    assert_string_equal(o.serial, "stdio");
    assert_int_equal(parse("-chardev null,id=n -serial chardev:n k"), 0);
    assert_string_equal(o.serial, "null");
    expect_error("-serial chardev:zz k", "no -chardev with id=zz");
    assert_int_equal(parse("-chardev pty,id=p -serial chardev:p k"), 0);
    assert_string_equal(o.serial, "pty");
    assert_int_equal(parse("-chardev socket,id=m,port=5555,host=127.0.0.1,server=on,wait=off "
                           "-monitor chardev:m k"), 0);
    assert_string_equal(o.monitor, "tcp:127.0.0.1:5555,server,nowait");
    assert_int_equal(parse("-chardev socket,id=q,path=/tmp/q.sock,server,nowait -qmp chardev:q k"), 0);
    assert_string_equal(o.qmp, "unix:/tmp/q.sock,server,nowait");
    assert_int_equal(parse("-chardev socket,id=c,port=5555 -serial chardev:c k"), 0);
    assert_string_equal(o.serial, "tcp::5555");
    expect_error("-chardev vc,id=v -serial chardev:v k", "backend 'vc' not supported");
    expect_error("-chardev socket,id=s -serial chardev:s k", "needs port=PORT or path=PATH");
    expect_error("-chardev file,id=f,path=/tmp/f -monitor chardev:f k", "-monitor 'file:/tmp/f'");
    expect_error("-chardev stdio,id=s -qmp chardev:s k", "-qmp 'stdio'");
    expect_error("-chardev file,id=f -serial chardev:f k", "needs path=PATH");
    expect_error("-chardev stdio k", "needs id=NAME");

    assert_int_equal(parse("-d in_asm,int -D /tmp/log k"), 0);
    assert_true(o.trace);
    assert_string_equal(o.log_file, "/tmp/log");
    assert_int_equal(parse("-d guest_errors,unimp,trace:foo* k"), 0);
    assert_false(o.trace);
    expect_error("-d everything k", "unknown log item 'everything'");

    assert_int_equal(parse("-s -S k"), 0);
    assert_string_equal(o.gdb, "tcp::1234");
    assert_true(o.gdb_wait);
    assert_int_equal(parse("-gdb unix:/tmp/g.sock k"), 0);
    assert_string_equal(o.gdb, "unix:/tmp/g.sock");
    assert_int_equal(parse("-gdb tcp:localhost:4321 k"), 0);
    expect_error("-gdb tcp::0 k", "bad TCP port");
    expect_error("-gdb stdio k", "supported are");
}

static void accel(void **state)
{
    assert_int_equal(parse("-accel tcg k"), 0);
    assert_int_equal(parse("-accel tcg,thread=single k"), 0);
    assert_int_equal(parse("-accel bt86 k"), 0);
    expect_error("-accel kvm k", "its own accelerator");
    expect_error("-accel tcgx k", "its own accelerator");
}

/* --cpu-limit SECONDS: the run's CPU-time budget, in milliseconds. */
static void cpu_limit(void **state)
{
    assert_int_equal(parse("k.elf"), 0);
    assert_int_equal(o.cpu_limit_ms, 0);
    assert_int_equal(parse("--cpu-limit 60 k.elf"), 0);
    assert_int_equal(o.cpu_limit_ms, 60000);
    assert_int_equal(parse("-cpu-limit 0.25 k.elf"), 0);
    assert_int_equal(o.cpu_limit_ms, 250);
    expect_error("--cpu-limit 0 k.elf", "--cpu-limit '0'");
    expect_error("--cpu-limit -1 k.elf", "expected seconds");
    expect_error("--cpu-limit 5s k.elf", "expected seconds");
    expect_error("--cpu-limit nan k.elf", "expected seconds");
}

static void machine_and_smp(void **state)
{
    assert_int_equal(parse("-smp 1 -M pc k"), 0);
    assert_false(o.isapc);
    assert_int_equal(parse("-smp cpus=1 -machine pc,accel=tcg k"), 0);
    assert_int_equal(parse("-M pc-i440fx-7.2 k"), 0);
    assert_int_equal(parse("-M isapc k"), 0);
    assert_true(o.isapc);
    assert_int_equal(parse("-machine type=isapc -M pc k"), 0);
    assert_false(o.isapc);                              /* the later one wins */
    assert_int_equal(parse("-M isapc -machine accel=tcg k"), 0);   /* properties only */
    assert_true(o.isapc);
    assert_int_equal(parse("-machine accel=tcg k"), 0);
    assert_false(o.isapc);
    expect_error("-machine accel=kvm k", "only tcg");
    expect_error("-smp 2 k", "SMP is not supported yet");
    expect_error("-smp cpus=4 k", "SMP is not supported yet");
    expect_error("-smp x k", "expected a CPU count");
    expect_error("-M q35 k", "supported are pc and isapc");
    expect_error("-M pc,accel=kvm k", "only tcg");
    expect_error("-M pc,usb=on k", "unsupported property 'usb=on'");
}

static void unknown_option(void **state)
{
    assert_int_equal(parse("-x k"), -1);
    assert_string_equal(err, "unknown option '-x' (try --help)");
    expect_error("--kernelx k", "unknown option '--kernelx'");
    expect_error("---stats k", "unknown option");
    char tiny[10];
    char *argv[] = { "bt86", "-x", NULL };
    assert_int_equal(options_parse(2, argv, &o, tiny, sizeof tiny), -1);
    assert_string_equal(tiny, "unknown o");
    assert_int_equal(options_parse(2, argv, &o, NULL, 0), -1);
}

static void help_and_version(void **state)
{
    assert_int_equal(parse("--help"), 1);
    assert_int_equal(parse("-h k"), 1);
    assert_int_equal(parse("k --version"), 1);
    expect_error("-x --help", "unknown option");    /* left to right */

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    options_usage(f);
    fclose(f);
    static const char *const must[] = {
        "bt86 [options] KERNEL", "-kernel FILE", "-append", "-initrd", "-m SIZE", "-serial",
        "-display", "-nographic", "-no-reboot", "-device isa-debug-exit", "-accel",
        "--stats", "--no-chain", "--verify", "--trace", "-h, --help", "--version",
        "-nodefaults", "-no-user-config", "-global", "-cpu", "-vnc", "-name", "-rtc",
        "-chardev", "-d ITEMS", "-D FILE", "-gdb", "-s ", "-S ", "pc-testdev", "pci-testdev",
        "Exit status", "(v<<1)|1", "triple fault", "internal monitor error",
    };
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        if (!strstr(text, must[i]))
            fail_msg("--help lacks '%s'", must[i]);
    free(text);
}

static void drives(void **state)
{
    assert_int_equal(parse("-drive file=fs.img,index=1,media=disk,format=raw k"), 0);
    assert_string_equal(o.drive[1].file, "fs.img");
    assert_true(o.drive[1].format_raw);
    assert_false(o.drive[1].readonly || o.drive[1].snapshot || o.snapshot);
    assert_string_equal(o.drive[0].file, "");
    assert_int_equal(parse("-drive file=a,if=ide,readonly=on -drive file=b,,c -snapshot k"), 0);
    assert_string_equal(o.drive[0].file, "a");               /* first free index */
    assert_true(o.drive[0].readonly);
    assert_string_equal(o.drive[1].file, "b,c");             /* ",," is a comma */
    assert_true(o.snapshot);
    assert_int_equal(parse("-drive file=x,bus=1,unit=1,cache=none k"), 0);
    assert_string_equal(o.drive[3].file, "x");
    assert_int_equal(parse("-hda a -hdb b -hdc c -hdd d k"), 0);
    assert_string_equal(o.drive[2].file, "c");
    assert_int_equal(o.drive[3].hd, 'd');
    expect_error("-drive file=x,format=qcow2 k", "format 'qcow2' is not supported");
    expect_error("-drive file=x,media=cdrom k", "media 'cdrom'");
    expect_error("-drive file=x,if=virtio k", "interface 'virtio'");
    expect_error("-drive file=x,index=4 k", "index 0 to 3");
    expect_error("-drive index=1 k", "no file=");
    expect_error("-drive file=x,index=0 -hda y k", "already in use");
    expect_error("-drive file=x,bogus=1 k", "unknown property 'bogus'");
    expect_error("-drive x.img k", "expected property=value");
    expect_error("-drive file=x,readonly=maybe k", "expected on or off");
    expect_error("-drive file=a -drive file=b -drive file=c -drive file=d -drive file=e k",
                 "all four");
    assert_int_equal(parse("--screen out.txt k"), 0);
    assert_string_equal(o.screen, "out.txt");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults), cmocka_unit_test(kernel_spellings),
        cmocka_unit_test(strings_and_flags), cmocka_unit_test(memory_sizes),
        cmocka_unit_test(serial), cmocka_unit_test(debug_exit_device),
        cmocka_unit_test(accel), cmocka_unit_test(cpu_limit), cmocka_unit_test(machine_and_smp),
        cmocka_unit_test(unknown_option),
        cmocka_unit_test(help_and_version), cmocka_unit_test(drives),
        cmocka_unit_test(qemu_runner_line),
        cmocka_unit_test(cpu_models), cmocka_unit_test(rtc_chardev_log_gdb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
