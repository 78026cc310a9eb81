package dev.lbrvmm.vmm.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lbrvmm.monitor.CommandRegistry;
import dev.lbrvmm.monitor.Param;
import dev.lbrvmm.monitor.QmpCommand;
import dev.lbrvmm.monitor.QmpError;
import dev.lbrvmm.monitor.QmpMonitor;
import dev.lbrvmm.vmm.cpu.Cpu;
import dev.lbrvmm.vmm.host.LbrEvent;
import dev.lbrvmm.vmm.host.PhysicalCpu;
import dev.lbrvmm.vmm.kvm.LbrStats;
import dev.lbrvmm.vmm.kvm.Vcpu;
import dev.lbrvmm.vmm.kvm.Vm;
import dev.lbrvmm.vmm.machine.MachineController;
import dev.lbrvmm.vmm.machine.MachineEvents;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * The VMM's QMP commands and events, declared once here and bound to a running machine. Every
 * command that touches the machine runs on the VM thread (MachineController.call), so events it
 * causes are broadcast before its reply and it never races the guest.
 */
public final class VmmMonitor implements MachineEvents, dev.lbrvmm.vmm.kvm.KvmEvents {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final QmpMonitor monitor;
    private volatile MachineController controller;
    private final java.util.concurrent.CountDownLatch attached = new java.util.concurrent.CountDownLatch(1);
    private final Map<Integer, LbrEvent> hostEvents = new ConcurrentHashMap<>();
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
        controller = c;
        c.machine().vm().setEventListener(this);
        attached.countDown();
    }

    /** What happens after quit's reply went out (the process exits). */
    public void onQuit(Runnable r) {
        onQuit = r;
    }

    /** The controller, once the machine exists (clients may connect before). */
    private MachineController controller() throws QmpError {
        try {
            attached.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw QmpError.generic("interrupted");
        }
        return controller;
    }

    private <T> T onVm(Callable<T> call) throws QmpError {
        try {
            attached.await(); // clients may connect while the machine is still being built
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw QmpError.generic("interrupted");
        }
        try {
            return controller.call(call);
        } catch (QmpError e) {
            throw e;
        } catch (IllegalStateException e) {
            throw QmpError.generic(e.getMessage());
        } catch (Exception e) {
            throw QmpError.generic(e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    private Vm vm() {
        return controller.machine().vm();
    }

    private Vcpu vcpu(JsonNode index, String param) throws QmpError {
        int i = index == null ? 0 : index.intValue();
        if (i < 0 || i >= vm().vcpus().size()) {
            throw QmpError.generic("Parameter '" + param + "' expects a CPU number");
        }
        return vm().vcpus().get(i);
    }

    private void register(CommandRegistry r) {
        r.register(QmpCommand.of("query-version", List.of(), "VersionInfo", (a, s) -> monitor.versionInfo()));
        // query-name and query-status read immutable config and the volatile run state: no VM-thread hop.
        r.register(QmpCommand.of("query-name", List.of(), "NameInfo", (a, s) -> {
            ObjectNode o = NODES.objectNode();
            o.put("name", controller().machine().config().guest().name());
            return o;
        }));
        r.register(QmpCommand.of("query-status", List.of(), "StatusInfo", (a, s) -> {
            dev.lbrvmm.vmm.machine.RunState st = controller().state();
            ObjectNode o = NODES.objectNode();
            o.put("status", st.qapiName);
            o.put("singlestep", false);
            o.put("running", st == dev.lbrvmm.vmm.machine.RunState.RUNNING);
            return o;
        }));
        r.register(QmpCommand.of("stop", List.of(), "{}", (a, s) -> onVm(() -> {
            controller.stop();
            return null;
        })));
        r.register(QmpCommand.of("cont", List.of(), "{}", (a, s) -> onVm(() -> {
            controller.cont();
            return null;
        })));
        r.register(QmpCommand.of("system_reset", List.of(), "{}", (a, s) -> onVm(() -> {
            controller.reset();
            return null;
        })));
        r.register(QmpCommand.of("system_powerdown", List.of(), "{}", (a, s) -> onVm(() -> {
            controller.powerdown();
            return null;
        })));
        r.register(QmpCommand.of("quit", List.of(), "{}", (a, s) -> {
            onVm(() -> {
                controller.quit();
                return null;
            });
            s.closeAfterReply();
            s.afterReply(onQuit);
            return null;
        }));
        r.register(QmpCommand.of("query-kvm", List.of(), "KvmInfo", (a, s) -> {
            ObjectNode o = NODES.objectNode();
            o.put("enabled", true); // the KVM model is what runs every guest
            o.put("present", true);
            return o;
        }));
        r.register(QmpCommand.of("query-cpus-fast", List.of(), "[CpuInfoFast]", (a, s) -> onVm(() -> {
            ArrayNode arr = NODES.arrayNode();
            for (Vcpu v : vm().vcpus()) {
                ObjectNode o = arr.addObject();
                o.put("thread-id", v.thread().id());
                ObjectNode props = o.putObject("props");
                props.put("core-id", v.index());
                props.put("thread-id", 0);
                props.put("socket-id", 0);
                o.put("qom-path", "/machine/unattached/device[" + v.index() + "]");
                o.put("cpu-index", v.index());
                o.put("target", "x86_64");
            }
            return arr;
        })));
        r.register(QmpCommand.of("query-lbr", List.of(Param.optional("cpu-index", Param.Type.INT)), "LbrInfo", (a, s) -> onVm(() -> {
            Vcpu v = vcpu(a.get("cpu-index"), "cpu-index");
            ObjectNode o = LbrStackJson.vcpu(v);
            o.put("passthrough", v.guestLbr().passthrough());
            LbrEvent e = v.guestLbr().event();
            o.put("host-event", e == null ? "none" : e.state().name().toLowerCase(java.util.Locale.ROOT));
            PhysicalCpu pc = v.pcpu();
            o.put("physical-cpu", pc == null ? -1 : pc.index());
            return o;
        })));
        r.register(QmpCommand.of("query-lbr-stats", List.of(Param.optional("cpu-index", Param.Type.INT)), "LbrStats", (a, s) -> onVm(() -> {
            LbrStats st = a.has("cpu-index") ? vcpu(a.get("cpu-index"), "cpu-index").stats() : vm().stats();
            ObjectNode o = NODES.objectNode();
            o.put("policy", vm().lbrPolicy().name());
            o.put("instructions", st.instructions());
            o.put("vm-exits", st.exits());
            ObjectNode by = o.putObject("vm-exits-by-reason");
            st.exitsByReason().forEach((k, v) -> by.put(k.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'), v));
            o.put("lbr-msr-exits", st.lbrMsrExits());
            o.put("passthrough-accesses", st.passthroughAccesses());
            o.put("passthrough-switches", st.passthroughSwitches());
            o.put("events-created", st.eventsCreated());
            o.put("events-released", st.eventsReleased());
            o.put("context-switches", st.contextSwitches());
            o.put("saves", st.saves());
            o.put("restores", st.restores());
            o.put("skipped-restores", st.skippedRestores());
            o.put("resets", st.resets());
            o.put("save-restore-msr-accesses", st.saveRestoreMsrAccesses());
            o.put("reclaim-drops", st.reclaimDrops());
            o.put("warnings", st.warnings());
            o.put("overhead-cycles", st.overheadCycles(vm().costs()));
            return o;
        })));
        r.register(QmpCommand.of("query-pmu", List.of(Param.optional("cpu-index", Param.Type.INT)), "PmuInfo", (a, s) -> onVm(() -> {
            Vcpu v = vcpu(a.get("cpu-index"), "cpu-index");
            dev.lbrvmm.vmm.kvm.VPmu p = v.pmu();
            ObjectNode o = NODES.objectNode();
            o.put("version", v.cpu().cpuid().pmuVersion());
            ArrayNode gp = o.putArray("counters");
            for (int i = 0; i < p.gpCounters(); i++) {
                ObjectNode c = gp.addObject();
                c.put("index", i);
                c.put("eventsel", p.selector(i));
                c.put("value", p.gpValue(i));
            }
            ArrayNode fixed = o.putArray("fixed-counters");
            for (int j = 0; j < 3; j++) {
                fixed.addObject().put("index", j).put("value", p.fixedValue(j));
            }
            o.put("fixed-ctr-ctrl", p.fixedCtrl());
            o.put("global-ctrl", p.globalCtrl());
            o.put("global-status", p.globalStatus());
            o.put("lvt-pmi", p.lvtPmi());
            o.put("pmis", p.pmis());
            return o;
        })));
        r.register(QmpCommand.of("x-host-lbr-event-add", List.of(Param.required("cpu", Param.Type.INT),
                Param.optional("pinned", Param.Type.BOOL)), "HostLbrEvent", (a, s) -> onVm(() -> {
                    int cpu = a.get("cpu").intValue();
                    List<PhysicalCpu> cpus = vm().kvm().host().cpus();
                    if (cpu < 0 || cpu >= cpus.size()) {
                        throw QmpError.generic("Parameter 'cpu' expects a host CPU number (0.." + (cpus.size() - 1) + ")");
                    }
                    if (cpus.get(cpu).lbr() == null) {
                        throw QmpError.generic("host CPU " + cpu + " has no LBR");
                    }
                    boolean pinned = !a.has("pinned") || a.get("pinned").booleanValue();
                    LbrEvent e = vm().kvm().host().perf().createCpuEvent("qmp", cpus.get(cpu), pinned, 0);
                    hostEvents.put(e.id(), e);
                    ObjectNode o = NODES.objectNode();
                    o.put("id", e.id());
                    o.put("state", e.state().name().toLowerCase(java.util.Locale.ROOT));
                    return o;
                })));
        r.register(QmpCommand.of("x-host-lbr-event-del", List.of(Param.required("id", Param.Type.INT)), "{}", (a, s) -> onVm(() -> {
            LbrEvent e = hostEvents.remove(a.get("id").intValue());
            if (e == null) {
                throw QmpError.generic("no host LBR event with id " + a.get("id"));
            }
            vm().kvm().host().perf().release(e, vm().kvm().host().cpus().get(e.cpu()));
            return null;
        })));
        r.register(QmpCommand.of("qom-list", List.of(Param.required("path", Param.Type.STR)), "[ObjectPropertyInfo]",
                (a, s) -> onVm(() -> Qom.list(vm(), a.get("path").asText()))));
        r.register(QmpCommand.of("qom-get", List.of(Param.required("path", Param.Type.STR), Param.required("property", Param.Type.STR)),
                "any", (a, s) -> onVm(() -> Qom.get(vm(), a.get("path").asText(), a.get("property").asText()))));
        r.register(QmpCommand.of("qom-set", List.of(Param.required("path", Param.Type.STR), Param.required("property", Param.Type.STR),
                Param.required("value", Param.Type.ANY)), "{}", (a, s) -> onVm(() -> {
                    Qom.set(vm(), a.get("path").asText(), a.get("property").asText());
                    return null;
                })));
        r.register(QmpCommand.of("human-monitor-command", List.of(Param.required("command-line", Param.Type.STR),
                Param.optional("cpu-index", Param.Type.INT)), "str",
                (a, s) -> onVm(() -> NODES.textNode(hmp(a.get("command-line").textValue(), vcpu(a.get("cpu-index"), "cpu-index"))))));
    }

    /** The HMP subset: info status, info cpus, info registers, info lbr. Unknown commands are text, not errors. */
    private String hmp(String line, Vcpu current) {
        String cmd = line.trim().replaceAll("\\s+", " ");
        switch (cmd) {
            case "info status":
                return "VM status: " + controller.state().qapiName + "\r\n";
            case "info cpus": {
                StringBuilder sb = new StringBuilder();
                for (Vcpu v : vm().vcpus()) {
                    sb.append(v == current ? "* " : "  ").append("CPU #").append(v.index()).append(": thread_id=")
                            .append(v.thread().id()).append("\r\n");
                }
                return sb.toString();
            }
            case "info registers": {
                Cpu c = current.cpu();
                String[] names = {"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI", "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15"};
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < 16; i++) {
                    sb.append(String.format("%-3s=%016x", names[i], c.r[i])).append(i % 4 == 3 ? "\r\n" : " ");
                }
                sb.append(String.format("RIP=%016x RFL=%08x CPL=%d%n", c.rip(), c.rflags(), c.cpl()).replace("\n", "\r\n"));
                return sb.toString();
            }
            case "info lbr": {
                var snap = current.lbrSnapshot();
                if (snap.isEmpty()) {
                    return "CPU #" + current.index() + " has no LBR\r\n";
                }
                StringBuilder sb = new StringBuilder(String.format("CPU #%d LBR: format %d, depth %d, TOS %d, DEBUGCTL %x, LBR_SELECT %x\r\n",
                        current.index(), snap.get().format(), snap.get().depth(), snap.get().tos(), current.guestDebugctl(),
                        snap.get().lbrSelect()));
                var program = controller.machine().program();
                for (var e : snap.get().entries()) {
                    sb.append(String.format("  [%2d] %016x -> %016x  %s -> %s%s%s\r\n", e.index(), e.from(), e.to(),
                            program.describe(e.from()), program.describe(e.to()),
                            Boolean.TRUE.equals(e.mispredicted()) ? " mispredicted" : "",
                            e.cycles() == null ? "" : " cycles=" + e.cycles()));
                }
                return sb.toString();
            }
            default:
                return "unknown command: '" + cmd.split(" ")[0] + "'\r\n";
        }
    }

    // MachineEvents -> QMP events

    private static ObjectNode shutdownData(boolean guest, String reason) {
        ObjectNode d = NODES.objectNode();
        d.put("guest", guest);
        d.put("reason", reason);
        return d;
    }

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
        monitor.broadcast("RESET", shutdownData(guest, reason));
    }

    @Override
    public void powerdown() {
        monitor.broadcast("POWERDOWN", null);
    }

    @Override
    public void shutdown(boolean guest, String reason) {
        monitor.broadcast("SHUTDOWN", shutdownData(guest, reason));
    }

    @Override
    public void guestPanicked(String action) {
        ObjectNode d = NODES.objectNode();
        d.put("action", action);
        monitor.broadcast("GUEST_PANICKED", d);
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
            ObjectNode d = NODES.objectNode();
            d.put("cpu-index", vcpu);
            d.put("enabled", on);
            monitor.broadcast("LBR_PASSTHROUGH", d);
        }
    }

    @Override
    public void lbrReclaimed(int vcpu) {
        if (due("LBR_RECLAIMED/" + vcpu)) {
            ObjectNode d = NODES.objectNode();
            d.put("cpu-index", vcpu);
            monitor.broadcast("LBR_RECLAIMED", d);
        }
    }

}
