package dev.lbrvmm.vmm.machine;

import java.nio.file.Path;
import java.util.Map;

/**
 * A validated guest configuration, one record per config section (see reference.conf for every
 * key and its default). Each section reads and checks itself ({@code from(ConfigReader)}).
 *
 * @param source  the config file, or null when only defaults and command-line values were used
 * @param origins where each key's value came from ("file:line", "-o key=value" or the default), for
 *                errors found after the config was read, when the machine is built
 */
public record GuestConfig(GuestSection guest, ProgramSection program, KvmSection kvm, HostSection host, MonitorSection monitor,
        Path source, Map<String, String> origins) {

    static GuestConfig from(ConfigReader r, Path source) throws GuestConfigException {
        return new GuestConfig(GuestSection.from(r), ProgramSection.from(r), KvmSection.from(r), HostSection.from(r),
                MonitorSection.from(r), source, r.origins());
    }

    public GuestConfig withProgram(ProgramSection p) {
        return new GuestConfig(guest, p, kvm, host, monitor, source, origins);
    }

    public GuestConfig withGuest(GuestSection g) {
        return new GuestConfig(g, program, kvm, host, monitor, source, origins);
    }

    /** Where the value of {@code key} was set, then the key: "guest.conf:7: guest.stack-pointer". */
    public String where(String key) {
        String at = origins.get(key);
        return at == null ? key : at + ": " + key;
    }
}
