package dev.lbrvmm.vmm.machine;

import com.typesafe.config.ConfigObject;
import dev.lbrvmm.vmm.cpu.CpuModel;
import java.util.List;
import java.util.Locale;

/**
 * The {@code host} section: the physical machine the VM shares, its scheduler's time slice, and
 * the other LBR users on it.
 *
 * @param vcpuAffinity bit i: vCPU threads may run on physical CPU i
 */
public record HostSection(int cpus, CpuModel cpuModel, long timeSlice, long vcpuAffinity, List<HostTask> tasks,
        List<CpuLbrEvent> lbrEvents) {

    /** How a host task uses the LBR: perf's per-task event priorities. */
    public enum LbrUse {
        NONE, TASK_PINNED, TASK_FLEXIBLE;

        /** The config spelling: none, task-pinned, task-flexible. */
        public String configName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** A branchy host workload and its LBR use. */
    public record HostTask(String name, long affinity, LbrUse lbr) {}

    /** A CPU-wide host LBR user. */
    public record CpuLbrEvent(int cpu, boolean pinned) {}

    static HostSection from(ConfigReader r) throws GuestConfigException {
        int cpus = r.intIn("host.cpus", 1, 64);
        long slice = r.longIn("host.time-slice", 1, 1_000_000_000L, " guest instructions");
        long vcpuAffinity = ConfigReader.cpuMask(r.value("host.vcpu-cpus"), "host.vcpu-cpus", cpus);
        return new HostSection(cpus, r.model("host.cpu-model"), slice, vcpuAffinity, tasks(r, cpus), events(r, cpus));
    }

    private static List<HostTask> tasks(ConfigReader r, int cpus) throws GuestConfigException {
        return r.eachObject("host.tasks", List.of("name", "cpus", "lbr"), (o, at, i) -> new HostTask(
                o.containsKey("name") ? ConfigReader.string(o.get("name"), at + ".name") : "host-task-" + i,
                o.containsKey("cpus") ? ConfigReader.cpuMask(o.get("cpus"), at + ".cpus", cpus) : dev.lbrvmm.vmm.host.Host.allCpus(cpus),
                o.containsKey("lbr") ? lbrUse(o, at) : LbrUse.NONE));
    }

    private static LbrUse lbrUse(ConfigObject o, String at) throws GuestConfigException {
        String s = ConfigReader.string(o.get("lbr"), at + ".lbr");
        for (LbrUse u : LbrUse.values()) {
            if (u.configName().equals(s)) {
                return u;
            }
        }
        throw ConfigReader.bad(o.get("lbr"), at + ".lbr", "must be none, task-pinned or task-flexible, got '" + s + "'");
    }

    private static List<CpuLbrEvent> events(ConfigReader r, int cpus) throws GuestConfigException {
        return r.eachObject("host.lbr-events", List.of("cpu", "pinned"), (o, at, i) -> {
            long cpu = o.containsKey("cpu") ? ConfigReader.number(o.get("cpu"), at + ".cpu") : 0;
            if (cpu < 0 || cpu >= cpus) {
                throw ConfigReader.bad(o, at + ".cpu", "must name one of the host's " + cpus + " CPUs, got " + cpu);
            }
            return new CpuLbrEvent((int) cpu, !o.containsKey("pinned") || ConfigReader.bool(o.get("pinned"), at + ".pinned"));
        });
    }
}
