package dev.lbrvmm.vmm.qmp;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import java.util.List;
import java.util.Map;

/**
 * The replies of the VMM's QMP commands, declared once (QEMU declares them in its qapi schema).
 * Serialised by the monitor's ReplyJson: members in declaration order, kebab-case names unless a
 * component says otherwise. The names of the types are the {@code ret-type}s of query-qmp-schema.
 * docs/monitor.md shows each in an example exchange.
 */
public final class QmpReplies {
    private QmpReplies() {}

    /** query-name. */
    public record NameInfo(String name) {}

    /** query-status: QEMU's run state name, {@code singlestep} always false. */
    public record StatusInfo(String status, boolean singlestep, boolean running) {}

    /** query-kvm: the KVM model runs every guest. */
    public record KvmInfo(boolean enabled, boolean present) {}

    /** query-cpus-fast element. */
    public record CpuInfoFast(int threadId, CpuInstanceProperties props, String qomPath, int cpuIndex, String target) {}

    /** Where a CPU sits in the topology (one socket, one thread per core). */
    public record CpuInstanceProperties(int coreId, int threadId, int socketId) {}

    /**
     * One vCPU's LBR stack, the shape {@code --dump-lbr} writes per vCPU; entries newest first.
     * ({@code lbr_select} keeps the dump file's spelling.)
     */
    public record LbrStack(int index, String model, int format, int depth, int tos, long debugctl,
            @JsonProperty("lbr_select") long lbrSelect, List<LbrEntry> entries) {}

    /** One LBR record; {@code mispredicted} and {@code cycles} only where the format records them. */
    public record LbrEntry(long from, long to, @JsonInclude(JsonInclude.Include.NON_NULL) Boolean mispredicted,
            @JsonInclude(JsonInclude.Include.NON_NULL) Integer cycles) {}

    /**
     * query-lbr: the stack plus KVM's state for it: whether the LBR MSRs are passed through, the
     * state of the vCPU's host perf event ({@code none} without one), the physical CPU it last ran on
     * (-1 before it first ran).
     */
    public record LbrInfo(@JsonUnwrapped LbrStack stack, boolean passthrough, String hostEvent, int physicalCpu) {}

    /** query-lbr-stats: the accounting of one vCPU, or of the whole VM. */
    public record LbrStatsInfo(String policy, long instructions, long vmExits, Map<String, Long> vmExitsByReason, long lbrMsrExits,
            long passthroughAccesses, long passthroughSwitches, long eventsCreated, long eventsReleased, long contextSwitches,
            long saves, long restores, long skippedRestores, long resets, long saveRestoreMsrAccesses, long reclaimDrops,
            long warnings, long overheadCycles) {}

    /** query-pmu: the vPMU's counters and controls. */
    public record PmuInfo(int version, List<PmuCounter> counters, List<FixedCounter> fixedCounters, long fixedCtrCtrl,
            long globalCtrl, long globalStatus, long lvtPmi, long pmis) {}

    /** A general-purpose counter: its PERFEVTSEL and value. */
    public record PmuCounter(int index, long eventsel, long value) {}

    /** A fixed counter. */
    public record FixedCounter(int index, long value) {}

    /** x-host-lbr-event-add: the new event's id and its perf state. */
    public record HostLbrEvent(int id, String state) {}

    /** qom-list element. */
    public record ObjectPropertyInfo(String name, String type) {}
}
