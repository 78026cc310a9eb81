package dev.lbrvmm.vmm.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lbrvmm.vmm.cpu.CpuModels;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The host scheduler and perf's event priorities. */
class HostTest {
    /** A task that records where and when it ran and stops after {@code runs} slices. */
    static final class Probe implements TaskBody {
        final List<Integer> cpus = new ArrayList<>();
        final List<String> log;
        final String name;
        int runs;

        Probe(String name, int runs, List<String> log) {
            this.name = name;
            this.runs = runs;
            this.log = log;
        }

        @Override
        public long run(PhysicalCpu cpu, long budget) {
            cpus.add(cpu.index());
            log.add(name + "@" + cpu.index());
            runs--;
            return budget;
        }

        @Override
        public boolean runnable() {
            return runs > 0;
        }
    }

    private static Host host(int cpus) {
        return new Host(cpus, CpuModels.byName("skylake-client").orElseThrow(), 100);
    }

    @Test
    void roundRobinOnOneCpuIsDeterministic() {
        List<String> log = new ArrayList<>();
        Host h = host(1);
        h.addTask("a", Task.Kind.VCPU, 1, new Probe("a", 3, log));
        h.addTask("b", Task.Kind.HOST, 1, new Probe("b", 2, log));
        h.run(() -> false);
        assertThat(log).containsExactly("a@0", "b@0", "a@0", "b@0", "a@0");
        assertThat(h.cpus().get(0).contextSwitches()).as("idle->a, four alternations, a->idle").isEqualTo(6);
    }

    @Test
    void placementFollowsAffinityAndBalancesQueues() {
        List<String> log = new ArrayList<>();
        Host h = host(2);
        Task a = h.addTask("a", Task.Kind.VCPU, 0b11, new Probe("a", 1, log));
        Task b = h.addTask("b", Task.Kind.VCPU, 0b11, new Probe("b", 1, log));
        Task c = h.addTask("c", Task.Kind.HOST, 0b01, new Probe("c", 1, log));
        assertThat(a.cpu().index()).isZero();
        assertThat(b.cpu().index()).isEqualTo(1);
        assertThat(c.cpu().index()).isZero();
        assertThatThrownBy(() -> h.addTask("d", Task.Kind.HOST, 0b100, new Probe("d", 1, log)))
                .hasMessageContaining("allowed on no CPU");
    }

    @Test
    void anIdleCpuStealsARunnableTaskItMayRun() {
        List<String> log = new ArrayList<>();
        Host h = host(2);
        Probe a = new Probe("a", 4, log);
        Probe b = new Probe("b", 4, log);
        Probe pinned = new Probe("p", 4, log);
        h.addTask("a", Task.Kind.VCPU, 0b01, a);       // CPU 0 only
        h.addTask("p", Task.Kind.HOST, 0b10, new Probe("q", 1, log)); // CPU 1, finishes at once
        Task bt = h.addTask("b", Task.Kind.VCPU, 0b11, b);
        h.addTask("pin", Task.Kind.HOST, 0b01, pinned);
        h.run(() -> false);
        assertThat(h.migrations()).isPositive();
        assertThat(b.cpus).contains(1);
        assertThat(a.cpus).containsOnly(0);
        assertThat(pinned.cpus).containsOnly(0);
        assertThat(bt.allowedOn(1)).isTrue();
    }

    @Test
    void perfPrioritiesCpuPinnedBeatsTaskPinnedBeatsFlexible() {
        Host h = host(1);
        List<String> log = new ArrayList<>();
        Task t = h.addTask("t", Task.Kind.VCPU, 1, new Probe("t", 10, log));
        h.ensureRunning(t);
        LbrEvent flexible = h.perf().createTaskEvent("flex", t, false, false, false, 0);
        assertThat(flexible.state()).isEqualTo(LbrEvent.State.ACTIVE);
        LbrEvent taskPinned = h.perf().createTaskEvent("guest", t, true, true, true, 0);
        assertThat(taskPinned.state()).isEqualTo(LbrEvent.State.ACTIVE);
        assertThat(flexible.state()).isEqualTo(LbrEvent.State.INACTIVE);
        assertThat(taskPinned.priority()).isEqualTo(1);
        LbrEvent cpuPinned = h.perf().createCpuEvent("perf -a", h.cpus().get(0), true, 0);
        assertThat(cpuPinned.state()).isEqualTo(LbrEvent.State.ACTIVE);
        assertThat(taskPinned.state()).as("a pinned loser goes to ERROR").isEqualTo(LbrEvent.State.ERROR);
        h.perf().release(cpuPinned, h.cpus().get(0));
        assertThat(taskPinned.state()).as("ERROR is sticky until released").isEqualTo(LbrEvent.State.ERROR);
        assertThat(h.cpus().get(0).hostLbrEnabled()).as("flexible host event gets the LBR back").isTrue();
    }
}
