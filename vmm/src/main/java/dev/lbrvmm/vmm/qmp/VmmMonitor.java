package dev.lbrvmm.vmm.qmp;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lbrvmm.monitor.CommandRegistry;
import dev.lbrvmm.monitor.Param;
import dev.lbrvmm.monitor.QmpCommand;
import dev.lbrvmm.monitor.QmpError;
import dev.lbrvmm.monitor.QmpMonitor;
import dev.lbrvmm.monitor.ReplyType;
import dev.lbrvmm.vmm.host.Tracer;
import dev.lbrvmm.vmm.machine.MachineController;
import dev.lbrvmm.vmm.machine.MachineEvents;
import dev.lbrvmm.vmm.qmp.QmpReplies.CpuInfoFast;
import dev.lbrvmm.vmm.qmp.QmpReplies.HostLbrEvent;
import dev.lbrvmm.vmm.qmp.QmpReplies.KvmInfo;
import dev.lbrvmm.vmm.qmp.QmpReplies.LbrInfo;
import dev.lbrvmm.vmm.qmp.QmpReplies.LbrStatsInfo;
import dev.lbrvmm.vmm.qmp.QmpReplies.NameInfo;
import dev.lbrvmm.vmm.qmp.QmpReplies.ObjectPropertyInfo;
import dev.lbrvmm.vmm.qmp.QmpReplies.PmuInfo;
import dev.lbrvmm.vmm.qmp.QmpReplies.StatusInfo;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;

/**
 * The VMM's QMP commands and events: the table below declares each command once (name,
 * arguments, reply type) and binds it to its method in {@link VmmCommands}. Every command that
 * touches the machine runs on the VM thread (MachineController.call), so events it causes are
 * broadcast before its reply and it never races the guest. docs/monitor.md shows each command.
 */
public final class VmmMonitor implements MachineEvents, dev.lbrvmm.vmm.kvm.KvmEvents {
    private static final List<Param> CPU_INDEX = List.of(Param.optional("cpu-index", Param.Type.INT));

    private final QmpMonitor monitor;
    private volatile VmmCommands commands;
    private final CountDownLatch attached = new CountDownLatch(1);
    private Runnable onQuit = () -> { };

    public VmmMonitor(QmpMonitor.Version version, Executor commands) {
        this(new QmpMonitor(new CommandRegistry(), version, commands));
    }

    /** Adds the VMM's commands to a monitor that may already be serving clients (bound early). */
    public VmmMonitor(QmpMonitor monitor) {
        this.monitor = monitor;
        register(monitor.registry());
    }

    public QmpMonitor monitor() {
        return monitor;
    }

    /** Binds the commands to the machine (before clients can run machine commands). */
    public void attach(MachineController c) {
        commands = new VmmCommands(c);
        c.machine().vm().setEventListener(this);
        attached.countDown();
    }

    /** What happens after quit's reply went out (the process exits). */
    public void onQuit(Runnable r) {
        onQuit = r;
    }

    /** The commands, once the machine exists (clients may connect while it is still being built). */
    private VmmCommands commands() throws QmpError {
        try {
            attached.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw QmpError.generic("interrupted");
        }
        return commands;
    }

    /** A command body: the checked arguments in, the declared reply out. */
    @FunctionalInterface
    private interface Body {
        Object run(VmmCommands c, ObjectNode args) throws QmpError;
    }

    /** A command that reads only immutable config or volatile state: runs on the monitor's thread. */
    private QmpCommand direct(String name, List<Param> params, ReplyType reply, Body body) {
        return QmpCommand.of(name, params, reply, (a, s) -> body.run(commands(), a));
    }

    /** A command that touches the machine: runs on the VM thread. */
    private QmpCommand onVm(String name, List<Param> params, ReplyType reply, Body body) {
        return QmpCommand.of(name, params, reply, (a, s) -> {
            VmmCommands c = commands();
            try {
                return c.controller().call(() -> {
                    dev.lbrvmm.vmm.host.Host host = c.controller().machine().vm().kvm().host();
                    if (host.tracer().on(Tracer.Category.QMP)) {
                        String args = a.toString();
                        host.tracer().instant(Tracer.Category.QMP, name, Tracer.MONITOR, 0, host.now(),
                                args.length() <= 1000 ? "\"arguments\":" + args : null);
                    }
                    return body.run(c, a);
                });
            } catch (QmpError e) {
                throw e;
            } catch (Exception e) {
                throw QmpError.generic(e.getMessage() == null ? e.toString() : e.getMessage());
            }
        });
    }

    private static Integer cpuIndex(ObjectNode a) {
        return a.has("cpu-index") ? a.get("cpu-index").intValue() : null;
    }

    private static String text(ObjectNode a, String name) {
        return a.get(name).asText();
    }

    private void register(CommandRegistry r) {
        r.register(QmpCommand.of("query-version", List.of(), ReplyType.of(QmpMonitor.VersionInfo.class), (a, s) -> monitor.versionInfo()));
        r.register(direct("query-name", List.of(), ReplyType.of(NameInfo.class), (c, a) -> c.queryName()));
        r.register(direct("query-status", List.of(), ReplyType.of(StatusInfo.class), (c, a) -> c.queryStatus()));
        r.register(onVm("stop", List.of(), ReplyType.NONE, (c, a) -> run(c::stop)));
        r.register(onVm("cont", List.of(), ReplyType.NONE, (c, a) -> run(c::cont)));
        r.register(onVm("system_reset", List.of(), ReplyType.NONE, (c, a) -> {
            c.systemReset();
            return null;
        }));
        r.register(onVm("system_powerdown", List.of(), ReplyType.NONE, (c, a) -> run(c::systemPowerdown)));
        QmpCommand quit = onVm("quit", List.of(), ReplyType.NONE, (c, a) -> run(c::quit));
        r.register(QmpCommand.of(quit.name(), quit.params(), quit.returns(), (a, s) -> {
            quit.handler().handle(a, s);
            s.closeAfterReply();
            s.afterReply(onQuit);
            return null;
        }));
        r.register(direct("query-kvm", List.of(), ReplyType.of(KvmInfo.class), (c, a) -> c.queryKvm()));
        r.register(onVm("query-cpus-fast", List.of(), ReplyType.listOf(CpuInfoFast.class), (c, a) -> c.queryCpusFast()));
        r.register(onVm("query-lbr", CPU_INDEX, ReplyType.of(LbrInfo.class), (c, a) -> c.queryLbr(cpuIndex(a))));
        r.register(onVm("query-lbr-stats", CPU_INDEX, ReplyType.of(LbrStatsInfo.class), (c, a) -> c.queryLbrStats(cpuIndex(a))));
        r.register(onVm("query-pmu", CPU_INDEX, ReplyType.of(PmuInfo.class), (c, a) -> c.queryPmu(cpuIndex(a))));
        r.register(onVm("x-host-lbr-event-add", List.of(Param.required("cpu", Param.Type.INT), Param.optional("pinned", Param.Type.BOOL)),
                ReplyType.of(HostLbrEvent.class), (c, a) -> c.hostLbrEventAdd(a.get("cpu").intValue(),
                        !a.has("pinned") || a.get("pinned").booleanValue())));
        r.register(onVm("x-host-lbr-event-del", List.of(Param.required("id", Param.Type.INT)), ReplyType.NONE,
                (c, a) -> {
                    c.hostLbrEventDel(a.get("id").intValue());
                    return null;
                }));
        r.register(onVm("qom-list", List.of(Param.required("path", Param.Type.STR)), ReplyType.listOf(ObjectPropertyInfo.class),
                (c, a) -> c.qomList(text(a, "path"))));
        r.register(onVm("qom-get", List.of(Param.required("path", Param.Type.STR), Param.required("property", Param.Type.STR)),
                ReplyType.ANY, (c, a) -> c.qomGet(text(a, "path"), text(a, "property"))));
        r.register(onVm("qom-set", List.of(Param.required("path", Param.Type.STR), Param.required("property", Param.Type.STR),
                Param.required("value", Param.Type.ANY)), ReplyType.NONE, (c, a) -> {
                    c.qomSet(text(a, "path"), text(a, "property"));
                    return null;
                }));
        r.register(onVm("human-monitor-command", List.of(Param.required("command-line", Param.Type.STR),
                Param.optional("cpu-index", Param.Type.INT)), ReplyType.STR,
                (c, a) -> new HumanMonitor(c).run(a.get("command-line").textValue(), cpuIndex(a))));
    }

    /** Runs an action that has no reply. */
    private static Object run(Runnable action) {
        action.run();
        return null;
    }

    // MachineEvents -> QMP events

    /** RESET and SHUTDOWN data, as QEMU sends it. */
    public record ShutdownInfo(boolean guest, String reason) {}

    /** GUEST_PANICKED data. */
    public record GuestPanicInfo(String action) {}

    /** LBR_PASSTHROUGH data: KVM passed the LBR MSRs through (or intercepts them again). */
    public record LbrPassthroughInfo(int cpuIndex, boolean enabled) {}

    /** LBR_RECLAIMED data: a host LBR user took the LBR back from the vCPU. */
    public record LbrReclaimedInfo(int cpuIndex) {}

    @Override
    public void stopped() {
        monitor.broadcast("STOP", null);
    }

    @Override
    public void resumed() {
        monitor.broadcast("RESUME", null);
    }

    @Override
    public void reset(boolean guest, String reason) {
        monitor.broadcast("RESET", new ShutdownInfo(guest, reason));
    }

    @Override
    public void powerdown() {
        monitor.broadcast("POWERDOWN", null);
    }

    @Override
    public void shutdown(boolean guest, String reason) {
        monitor.broadcast("SHUTDOWN", new ShutdownInfo(guest, reason));
    }

    @Override
    public void guestPanicked(String action) {
        monitor.broadcast("GUEST_PANICKED", new GuestPanicInfo(action));
    }

    // KvmEvents -> LBR_PASSTHROUGH / LBR_RECLAIMED, at most one per second per vCPU and event
    // (like QEMU's rate-limited events; the lazy policy toggles pass-through every time slice).

    private final Map<String, Long> lastSent = new ConcurrentHashMap<>();

    private boolean due(String key) {
        long now = System.nanoTime();
        Long last = lastSent.get(key);
        if (last != null && now - last < 1_000_000_000L) {
            return false;
        }
        lastSent.put(key, now);
        return true;
    }

    @Override
    public void lbrPassthrough(int vcpu, boolean on) {
        if (due("LBR_PASSTHROUGH/" + vcpu)) {
            monitor.broadcast("LBR_PASSTHROUGH", new LbrPassthroughInfo(vcpu, on));
        }
    }

    @Override
    public void lbrReclaimed(int vcpu) {
        if (due("LBR_RECLAIMED/" + vcpu)) {
            monitor.broadcast("LBR_RECLAIMED", new LbrReclaimedInfo(vcpu));
        }
    }
}
