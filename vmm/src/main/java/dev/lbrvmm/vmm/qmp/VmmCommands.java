package dev.lbrvmm.vmm.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lbrvmm.monitor.QmpError;
import dev.lbrvmm.vmm.host.LbrEvent;
import dev.lbrvmm.vmm.host.PhysicalCpu;
import dev.lbrvmm.vmm.kvm.LbrStats;
import dev.lbrvmm.vmm.kvm.VPmu;
import dev.lbrvmm.vmm.kvm.Vcpu;
import dev.lbrvmm.vmm.kvm.Vm;
import dev.lbrvmm.vmm.machine.MachineController;
import dev.lbrvmm.vmm.machine.RunState;
import dev.lbrvmm.vmm.qmp.QmpReplies.CpuInfoFast;
import dev.lbrvmm.vmm.qmp.QmpReplies.CpuInstanceProperties;
import dev.lbrvmm.vmm.qmp.QmpReplies.FixedCounter;
import dev.lbrvmm.vmm.qmp.QmpReplies.HostLbrEvent;
import dev.lbrvmm.vmm.qmp.QmpReplies.KvmInfo;
import dev.lbrvmm.vmm.qmp.QmpReplies.LbrInfo;
import dev.lbrvmm.vmm.qmp.QmpReplies.LbrStatsInfo;
import dev.lbrvmm.vmm.qmp.QmpReplies.NameInfo;
import dev.lbrvmm.vmm.qmp.QmpReplies.ObjectPropertyInfo;
import dev.lbrvmm.vmm.qmp.QmpReplies.PmuCounter;
import dev.lbrvmm.vmm.qmp.QmpReplies.PmuInfo;
import dev.lbrvmm.vmm.qmp.QmpReplies.StatusInfo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The VMM's monitor commands, one plain method each returning its declared reply (QEMU's
 * qmp_query_status() and friends). QMP ({@link VmmMonitor}) and HMP ({@link HumanMonitor}) both
 * call these. Methods that touch the machine must run on the VM thread; {@link VmmMonitor} sends
 * them there. {@code cpuIndex} null means vCPU 0 (or, for stats, the whole VM).
 */
final class VmmCommands {
    private final MachineController controller;
    private final Map<Integer, LbrEvent> hostEvents = new ConcurrentHashMap<>();

    VmmCommands(MachineController controller) {
        this.controller = controller;
    }

    MachineController controller() {
        return controller;
    }

    Vm vm() {
        return controller.machine().vm();
    }

    Vcpu vcpu(Integer cpuIndex) throws QmpError {
        int i = cpuIndex == null ? 0 : cpuIndex;
        if (i < 0 || i >= vm().vcpus().size()) {
            throw QmpError.generic("Parameter 'cpu-index' expects a CPU number");
        }
        return vm().vcpus().get(i);
    }

    // Any thread: immutable config and the volatile run state.

    NameInfo queryName() {
        return new NameInfo(controller.machine().config().guest().name());
    }

    StatusInfo queryStatus() {
        RunState st = controller.state();
        return new StatusInfo(st.qapiName, false, st == RunState.RUNNING);
    }

    KvmInfo queryKvm() {
        return new KvmInfo(true, true);
    }

    // VM thread.

    void stop() {
        controller.stop();
    }

    void cont() {
        controller.cont();
    }

    void systemReset() throws QmpError {
        try {
            controller.reset();
        } catch (dev.lbrvmm.vmm.machine.MachineException e) {
            throw QmpError.generic(e.getMessage());
        }
    }

    void systemPowerdown() {
        controller.powerdown();
    }

    void quit() {
        controller.quit();
    }

    List<CpuInfoFast> queryCpusFast() {
        List<CpuInfoFast> out = new ArrayList<>();
        for (Vcpu v : vm().vcpus()) {
            out.add(new CpuInfoFast(v.thread().id(), new CpuInstanceProperties(v.index(), 0, 0),
                    "/machine/unattached/device[" + v.index() + "]", v.index(), "x86_64"));
        }
        return out;
    }

    LbrInfo queryLbr(Integer cpuIndex) throws QmpError {
        Vcpu v = vcpu(cpuIndex);
        LbrEvent e = v.guestLbr().event();
        PhysicalCpu pc = v.pcpu();
        return new LbrInfo(LbrStackJson.vcpu(v), v.guestLbr().passthrough(),
                e == null ? "none" : e.state().name().toLowerCase(Locale.ROOT), pc == null ? -1 : pc.index());
    }

    LbrStatsInfo queryLbrStats(Integer cpuIndex) throws QmpError {
        return StatsJson.info(vm(), cpuIndex != null ? vcpu(cpuIndex).stats() : vm().stats());
    }

    PmuInfo queryPmu(Integer cpuIndex) throws QmpError {
        Vcpu v = vcpu(cpuIndex);
        VPmu p = v.pmu();
        List<PmuCounter> gp = new ArrayList<>();
        for (int i = 0; i < p.gpCounters(); i++) {
            gp.add(new PmuCounter(i, p.selector(i), p.gpValue(i)));
        }
        List<FixedCounter> fixed = new ArrayList<>();
        for (int j = 0; j < 3; j++) {
            fixed.add(new FixedCounter(j, p.fixedValue(j)));
        }
        return new PmuInfo(v.cpu().cpuid().pmuVersion(), gp, fixed, p.fixedCtrl(), p.globalCtrl(), p.globalStatus(), p.lvtPmi(),
                p.pmis());
    }

    HostLbrEvent hostLbrEventAdd(int cpu, boolean pinned) throws QmpError {
        List<PhysicalCpu> cpus = vm().kvm().host().cpus();
        if (cpu < 0 || cpu >= cpus.size()) {
            throw QmpError.generic("Parameter 'cpu' expects a host CPU number (0.." + (cpus.size() - 1) + ")");
        }
        if (cpus.get(cpu).lbr() == null) {
            throw QmpError.generic("host CPU " + cpu + " has no LBR");
        }
        LbrEvent e = vm().kvm().host().perf().createCpuEvent("qmp", cpus.get(cpu), pinned, 0);
        hostEvents.put(e.id(), e);
        return new HostLbrEvent(e.id(), e.state().name().toLowerCase(Locale.ROOT));
    }

    void hostLbrEventDel(int id) throws QmpError {
        LbrEvent e = hostEvents.remove(id);
        if (e == null) {
            throw QmpError.generic("no host LBR event with id " + id);
        }
        vm().kvm().host().perf().release(e, vm().kvm().host().cpus().get(e.cpu()));
    }

    List<ObjectPropertyInfo> qomList(String path) throws QmpError {
        return Qom.list(vm(), path);
    }

    JsonNode qomGet(String path, String property) throws QmpError {
        return Qom.get(vm(), path, property);
    }

    void qomSet(String path, String property) throws QmpError {
        Qom.set(vm(), path, property);
    }
}
