package dev.lbrvmm.vmm.machine;

import dev.lbrvmm.vmm.cpu.Cpu;
import dev.lbrvmm.vmm.cpu.CpuModel;
import dev.lbrvmm.vmm.cpu.GuestMemory;
import dev.lbrvmm.vmm.host.BranchyWorkload;
import dev.lbrvmm.vmm.host.Host;
import dev.lbrvmm.vmm.host.PhysicalCpu;
import dev.lbrvmm.vmm.host.Task;
import dev.lbrvmm.vmm.host.TaskBody;
import dev.lbrvmm.vmm.kvm.Capability;
import dev.lbrvmm.vmm.kvm.Kvm;
import dev.lbrvmm.vmm.kvm.KvmException;
import dev.lbrvmm.vmm.kvm.Vcpu;
import dev.lbrvmm.vmm.kvm.VcpuExit;
import dev.lbrvmm.vmm.kvm.Vm;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Userspace VMM: builds a VM from a {@link GuestConfig} through the KVM API, loads the program,
 * wires devices, and runs the vCPUs round-robin in time slices until the guest ends.
 */
public final class Machine implements AutoCloseable {
    /** Stack of vCPU n > 0 started at the entry: this many bytes below vCPU n-1's. */
    static final long AP_STACK_SPACING = 64 * 1024;

    private final GuestConfig config;
    private final Vm vm;
    private final LoadedProgram program;
    private final SerialOutput serial;
    /** The shim's own stdout when guest.program.stdout is not "serial"; else null. */
    private final SerialOutput programStdout;
    private final IoBus io = new IoBus();
    private final LinuxSyscallShim shim;
    private final boolean[] halted;
    private final boolean[] dead;
    private MachineExit exit;
    private boolean started;

    private Machine(GuestConfig config, Vm vm, LoadedProgram program, SerialOutput serial, SerialOutput programStdout) {
        this.config = config;
        this.vm = vm;
        this.program = program;
        this.serial = serial;
        this.programStdout = programStdout;
        serial.onFailure(() -> outputFailed(serial));
        if (programStdout != null) {
            programStdout.onFailure(() -> outputFailed(programStdout));
        }
        this.shim = new LinuxSyscallShim(programStdout != null ? programStdout : serial);
        this.halted = new boolean[vm.vcpus().size()];
        this.dead = new boolean[vm.vcpus().size()];
        for (Vcpu v : vm.vcpus()) {
            v.setThreadBody(new VcpuThread(v));
        }
        io.attach(SerialPort.COM1, 8, new SerialPort(serial));
        io.attach(DebugExit.PORT, DebugExit.SIZE, new DebugExit(status ->
                finish(new MachineExit(MachineExit.Kind.DEBUG_EXIT, status & 0xFF, "guest wrote to isa-debug-exit: status " + status))));
    }

    /**
     * Builds the machine.
     *
     * @param stdout where serial output goes when the config says stdout
     * @param stderr where serial output goes when the config says stderr
     */
    public static Machine create(GuestConfig cfg, PrintStream stdout, PrintStream stderr) throws MachineException {
        if (cfg.program().path() == null) {
            throw new MachineException("no guest program: set guest.program.path in the config or pass --kernel FILE");
        }
        Host host = new Host(cfg.host().cpus(), cfg.host().cpuModel(), cfg.host().timeSlice());
        Kvm kvm = new Kvm(host);
        long heap = Runtime.getRuntime().maxMemory();
        if (cfg.guest().memory() > heap - (256L << 20)) {
            throw new MachineException(cfg.where("guest.memory") + String.format(" of %d MiB does not fit in this JVM's heap of %d MiB; give the JVM more"
                    + " (for example JAVA_TOOL_OPTIONS=-Xmx%dg ./lbrvmm ...)", cfg.guest().memory() >> 20, heap >> 20,
                    (cfg.guest().memory() >> 30) + 2));
        }
        Vm vm = kvm.createVm(cfg.guest().memory());
        vm.setLbrPolicy(cfg.kvm().lbrPolicy());
        vm.setCosts(cfg.kvm().costs());
        CpuModel model = cfg.guest().cpuModel();
        if (cfg.kvm().guestLbr()) {
            try {
                vm.enableCap(Capability.X86_GUEST_LBR, 1, model);
            } catch (KvmException e) {
                throw new MachineException(cfg.where("kvm.guest-lbr") + " = on was refused: " + e.getMessage());
            }
        }
        for (int i = 0; i < cfg.guest().vcpus(); i++) {
            vm.createVcpu(model, cfg.host().vcpuAffinity()).cpu().useJit(cfg.guest().jitOrNull());
        }
        addHostWorkloads(cfg, host);
        LoadedProgram program = loadProgram(cfg, vm);
        if (program.multiboot() && cfg.guest().vcpus() > 1) {
            throw new MachineException(cfg.where("guest.vcpus") + " = " + cfg.guest().vcpus() + ": a Multiboot kernel runs on one vCPU here (starting"
                    + " application processors with INIT/SIPI is not modelled, and the kernel would wait for them forever)");
        }
        if (!program.multiboot()) {
            setupRegisters(cfg, vm, program);
        }
        applyMsrs(cfg, vm);
        // Both output files are checked before either is truncated: a failure leaves an old file intact.
        checkWritable(cfg.guest().serial(), "serial output");
        checkWritable(cfg.program().stdout(), "guest.program.stdout");
        SerialOutput serial = open(cfg.guest().serial(), "serial output", stdout, stderr);
        SerialOutput programStdout = cfg.program().stdout() == null ? null
                : open(cfg.program().stdout(), "guest.program.stdout", stdout, stderr);
        Machine m = new Machine(cfg, vm, program, serial, programStdout);
        if (program.multiboot()) {
            bootMultiboot(cfg, vm, program, m.io);
        }
        return m;
    }

    /** Branchy host processes (with their own per-task LBR users) and CPU-wide host LBR events. */
    private static void addHostWorkloads(GuestConfig cfg, Host host) throws MachineException {
        for (HostSection.HostTask t : cfg.host().tasks()) {
            Task task = host.addTask(t.name(), Task.Kind.HOST, t.affinity(), new BranchyWorkload(t.name()));
            if (t.lbr() != HostSection.LbrUse.NONE) {
                if (!cfg.host().cpuModel().hasLbr()) {
                    throw new MachineException(cfg.where("host.tasks") + ": host task " + t.name() + " wants an LBR event but host CPU model "
                            + cfg.host().cpuModel().name() + " has no LBR");
                }
                host.perf().createTaskEvent(t.name(), task, t.lbr() == HostSection.LbrUse.TASK_PINNED, false, false, 0);
            }
        }
        for (HostSection.CpuLbrEvent e : cfg.host().lbrEvents()) {
            if (!cfg.host().cpuModel().hasLbr()) {
                throw new MachineException(cfg.where("host.lbr-events") + ": a host CPU LBR event needs an LBR, but host CPU model " + cfg.host().cpuModel().name() + " has none");
            }
            host.perf().createCpuEvent("host-cpu" + e.cpu(), host.cpus().get(e.cpu()), e.pinned(), 0);
        }
    }

    /** The config's initial MSR values, through the host-initiated interface, on every vCPU. */
    private static void applyMsrs(GuestConfig cfg, Vm vm) throws MachineException {
        for (GuestSection.MsrSetting m : cfg.guest().msrs()) {
            for (Vcpu v : vm.vcpus()) {
                try {
                    v.setMsr(m.index(), m.value());
                } catch (KvmException e) {
                    throw new MachineException(m.where() + ": " + m.key() + ": " + e.getMessage());
                }
            }
        }
    }

    private static LoadedProgram loadProgram(GuestConfig cfg, Vm vm) throws MachineException {
        Path path = cfg.program().path();
        byte[] bytes;
        try {
            if (!Files.isRegularFile(path)) {
                throw new MachineException("guest program " + path + " does not exist or is not a file");
            }
            bytes = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new MachineException("cannot read guest program " + path + ": " + e.getMessage());
        }
        try {
            return switch (format(cfg, bytes)) {
                case ELF -> ElfLoader.load(path, bytes, vm.memory());
                case FLAT -> FlatLoader.load(path, bytes, cfg.program().loadAddress(), cfg.program().entry(), vm.memory());
                case MULTIBOOT -> MultibootLoader.load(path, bytes, cfg.program().cmdline(), module(cfg), vm.memory());
            };
        } catch (ProgramLoadException e) {
            throw new MachineException(e.configKey() == null ? e.getMessage() : cfg.where(e.configKey()) + ": " + e.getMessage());
        }
    }

    /** The configured format; an ELF32 file with a Multiboot header is a Multiboot kernel (as QEMU's -kernel sees it). */
    static ProgramSection.Format format(GuestConfig cfg, byte[] bytes) {
        ProgramSection.Format f = cfg.program().format();
        if (f == ProgramSection.Format.ELF && ElfLoader.isElf(bytes) && bytes.length > 4 && bytes[4] == 1
                && MultibootLoader.findHeader(bytes) >= 0) {
            return ProgramSection.Format.MULTIBOOT;
        }
        return f;
    }

    private static MultibootLoader.Module module(GuestConfig cfg) throws MachineException {
        Path p = cfg.program().initrd();
        if (p == null) {
            return null;
        }
        try {
            return new MultibootLoader.Module(p.toString(), Files.readAllBytes(p));
        } catch (IOException e) {
            throw new MachineException("cannot read the Multiboot module (guest.program.initrd) " + p + ": " + e.getMessage());
        }
    }

    /**
     * A Multiboot kernel starts as QEMU's -kernel starts it: vCPU 0 in 32-bit protected mode at the
     * entry with EAX = the loader magic and EBX = the information block, the others waiting for a
     * SIPI (halted); every vCPU has an xAPIC page, fw_cfg answers at ports 0x510/0x511 and the PIC
     * pair accepts its initialisation and masks. Other ports (POST codes at 0x80, 0x8900) are the
     * I/O bus's unclaimed ones: writes dropped.
     */
    private static void bootMultiboot(GuestConfig cfg, Vm vm, LoadedProgram program, IoBus io) {
        UnclaimedMmio unclaimed = new UnclaimedMmio();
        for (Vcpu v : vm.vcpus()) {
            v.attachLocalApic(unclaimed);
        }
        io.attach(FwCfg.SELECTOR, 2, new FwCfg(cfg.guest().vcpus(), vm.memory().size(), vm.memory().end()));
        Pic8259 pic = new Pic8259();
        io.attach(Pic8259.MASTER, 2, pic);
        io.attach(Pic8259.SLAVE, 2, pic);
        vm.vcpus().get(0).cpu().enterProtectedMode32(program.entry(), MultibootLoader.BOOTLOADER_MAGIC, MultibootLoader.INFO_ADDRESS);
    }

    /** Identity page tables for guest.paging = identity: PML4, PDPT, then one PD per GiB, 2 MiB pages. */
    private static long identityPageTables(GuestConfig cfg, GuestMemory mem, LoadedProgram program) throws MachineException {
        long gib = (mem.end() + (1L << 30) - 1) >> 30;
        long size = (2 + gib) * 4096;
        long base = (mem.lowEnd() - size) & ~0xFFFL;
        if (base < program.end()) {
            throw new MachineException(cfg.where("guest.paging") + " = identity: no room for the page tables above the program; raise guest.memory");
        }
        mem.fill(base, (byte) 0, (int) size);
        mem.write64(base, (base + 4096) | 3);
        for (long g = 0; g < gib; g++) {
            long pd = base + (2 + g) * 4096;
            mem.write64(base + 4096 + 8 * g, pd | 3);
            for (int e = 0; e < 512; e++) {
                mem.write64(pd + 8L * e, ((g << 30) + ((long) e << 21)) | 0x83);
            }
        }
        return base;
    }

    private static void setupRegisters(GuestConfig cfg, Vm vm, LoadedProgram program) throws MachineException {
        long top = vm.memory().lowEnd();
        if (cfg.guest().paging() == GuestSection.Paging.IDENTITY) {
            top = identityPageTables(cfg, vm.memory(), program);
            for (Vcpu v : vm.vcpus()) {
                v.cpu().enablePaging(top);
            }
        }
        long entry = cfg.program().format() == ProgramSection.Format.ELF ? cfg.program().entry().orElse(program.entry()) : program.entry();
        List<Vcpu> vcpus = vm.vcpus();
        for (Vcpu v : vcpus) {
            Cpu c = v.cpu();
            if (v.index() == 0) {
                long sp;
                if (cfg.guest().stackPointer().isPresent()) {
                    sp = cfg.guest().stackPointer().getAsLong();
                    if (sp <= 0 || sp > top) {
                        throw new MachineException(cfg.where("guest.stack-pointer") + String.format(" = 0x%x lies outside guest memory [0, 0x%x]", sp, top));
                    }
                } else if (program.elf()) {
                    sp = InitialStack.build(vm.memory(), top, program.end(), cfg.guest().name(), cfg.program().args());
                    if (sp < 0) {
                        throw new MachineException(cfg.where("guest.program.args") + String.format(
                                ": the arguments need %d bytes of stack, but only %d are free between the program's end (0x%x) and the top"
                                + " of guest memory (0x%x); shorten them or raise guest.memory", -sp, top - program.end(), program.end(), top));
                    }
                } else {
                    sp = top;
                }
                c.r[Cpu.RSP] = sp;
                c.setRip(entry);
            } else if (cfg.guest().apStart() == GuestSection.ApStart.ENTRY) {
                long sp = top - v.index() * AP_STACK_SPACING;
                if (sp <= program.end()) {
                    throw new MachineException(cfg.where("guest.memory") + ": too small for " + vcpus.size() + " vCPU stacks of "
                            + (AP_STACK_SPACING >> 10) + " KiB above the program");
                }
                c.r[Cpu.RSP] = sp;
                c.setRip(entry);
            }
        }
    }

    private static void checkWritable(OutputTarget where, String what) throws MachineException {
        if (where == null || where.kind() != OutputTarget.Kind.FILE) {
            return;
        }
        try (FileChannel ignored = FileChannel.open(where.file(), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            // opened without truncating
        } catch (IOException e) {
            String why = e instanceof NoSuchFileException ? "its folder does not exist"
                    : e instanceof AccessDeniedException ? "permission denied" : e.getMessage();
            throw new MachineException("cannot open " + what + " file " + where.file() + ": " + why);
        }
    }

    private static SerialOutput open(OutputTarget where, String what, PrintStream stdout, PrintStream stderr)
            throws MachineException {
        return switch (where.kind()) {
            case STDOUT -> new SerialOutput(stdout, what + " (standard output)", false);
            case STDERR -> new SerialOutput(stderr, what + " (standard error)", false);
            case NONE -> new SerialOutput(null, what, false);
            case FILE -> {
                try {
                    OutputStream o = new FileOutputStream(where.file().toFile());
                    yield new SerialOutput(o, what + " file " + where.file(), true);
                } catch (IOException e) {
                    throw new MachineException("cannot open " + what + " file " + where.file() + ": " + e.getMessage());
                }
            }
        };
    }

    public GuestConfig config() {
        return config;
    }

    public Vm vm() {
        return vm;
    }

    public LoadedProgram program() {
        return program;
    }

    /** Instructions retired by all vCPUs. */
    public long instructionsRetired() {
        long n = 0;
        for (Vcpu v : vm.vcpus()) {
            n += v.cpu().retired();
        }
        return n;
    }

    /** A guest output could not be written: the guest stops (between instructions, as a monitor stop does). */
    private void outputFailed(SerialOutput o) {
        finish(new MachineExit(MachineExit.Kind.OUTPUT_ERROR, MachineExit.OUTPUT_ERROR_STATUS, o.failure()));
        kickVcpus();
    }

    /** The first failed write of the serial or program stdout output, if any (also after the guest ended). */
    public java.util.Optional<String> outputFailure() {
        String f = serial.failure();
        if (f == null && programStdout != null) {
            f = programStdout.failure();
        }
        return java.util.Optional.ofNullable(f);
    }

    private void finish(MachineExit e) {
        if (exit == null) {
            exit = e;
        }
    }

    /** Runs until the guest ends; the serial output is flushed before returning. */
    public MachineExit run() {
        return runUntil(() -> false);
    }

    /**
     * Runs the guest until it ends (returns its exit) or {@code interrupt} becomes true between
     * scheduling slices (returns null; call again to go on).
     */
    public MachineExit runUntil(java.util.function.BooleanSupplier interrupt) {
        if (!started) {
            started = true;
            if (config.guest().apStart() == GuestSection.ApStart.HALTED) {
                for (int i = 1; i < halted.length; i++) {
                    halted[i] = true;
                }
            }
        }
        try {
            vm.kvm().host().run(() -> exit != null || noVcpuRunnable() || interrupt.getAsBoolean());
            if (exit == null && noVcpuRunnable()) {
                finish(new MachineExit(MachineExit.Kind.HALTED, 0, "all vCPUs halted with nothing left to wake them"));
            }
        } finally {
            serial.flush();
            if (programStdout != null) {
                programStdout.flush();
            }
        }
        return exit;
    }

    /** Makes every vCPU leave its current slice soon (any thread). */
    public void kickVcpus() {
        for (Vcpu v : vm.vcpus()) {
            v.kick();
        }
    }

    /** system_reset: every vCPU reset, the program loaded again, registers set up as at start. */
    public void reset() throws MachineException {
        for (Vcpu v : vm.vcpus()) {
            v.reset();
        }
        java.util.Arrays.fill(halted, false);
        java.util.Arrays.fill(dead, false);
        exit = null;
        started = false;
        loadProgram(config, vm);
        setupRegisters(config, vm, program);
        applyMsrs(config, vm);
    }

    private boolean noVcpuRunnable() {
        for (int i = 0; i < halted.length; i++) {
            if (!halted[i] && !dead[i]) {
                return false;
            }
        }
        return true;
    }

    /** The vCPU thread's loop (QEMU's vCPU thread): KVM_RUN, handle the exit, again, until the slice ends. */
    private final class VcpuThread implements TaskBody {
        private final Vcpu vcpu;

        VcpuThread(Vcpu vcpu) {
            this.vcpu = vcpu;
        }

        @Override
        public long run(PhysicalCpu cpu, long budget) {
            long before = vcpu.cpu().retired();
            runSlice(vcpu, budget);
            return vcpu.cpu().retired() - before;
        }

        @Override
        public boolean runnable() {
            return exit == null && !halted[vcpu.index()] && !dead[vcpu.index()];
        }
    }

    private void runSlice(Vcpu v, long slice) {
        Cpu c = v.cpu();
        long end = c.retired() + slice;
        while (exit == null && c.retired() < end) {
            VcpuExit e = v.run(end - c.retired());
            if (e instanceof VcpuExit.Io io) {
                if (io.in()) {
                    v.completeIn(this.io.in(io.port(), io.size()));
                } else {
                    this.io.out(io.port(), io.size(), io.value());
                }
            } else if (e instanceof VcpuExit.IoOutString out) {
                this.io.outString(out.port(), out.size(), out.data());
            } else if (e instanceof VcpuExit.Syscall) {
                int status = shim.handle(c);
                if (status >= 0) {
                    finish(new MachineExit(MachineExit.Kind.GUEST_EXIT, status, "guest called exit(" + status + ")"));
                }
            } else if (e instanceof VcpuExit.Hlt) {
                halted[v.index()] = true; // no interrupt source exists yet to wake it
                return;
            } else if (e instanceof VcpuExit.Shutdown s) {
                dead[v.index()] = true;
                finish(new MachineExit(MachineExit.Kind.TRIPLE_FAULT, MachineExit.CRASH_STATUS, s.reason()));
            } else if (e instanceof VcpuExit.InternalError ie) {
                dead[v.index()] = true;
                finish(new MachineExit(MachineExit.Kind.INTERNAL_ERROR, MachineExit.CRASH_STATUS, ie.reason()));
            } else {
                return; // Preempted or Stopped: the slice ends
            }
        }
    }

    /** Tears the VM down (its perf events are destroyed; a leaked one is an error) and closes the output. */
    @Override
    public void close() {
        try {
            vm.destroy();
        } finally {
            serial.close();
            if (programStdout != null) {
                programStdout.close();
            }
        }
    }
}
