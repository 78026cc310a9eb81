package dev.lbrvmm.vmm.machine;

import java.nio.file.Path;

/**
 * A validated guest configuration, one record per config section (see reference.conf for every
 * key and its default). Each section reads and checks itself ({@code from(ConfigReader)}).
 *
 * @param source the config file, or null when only defaults and command-line values were used
 */
public record GuestConfig(GuestSection guest, ProgramSection program, KvmSection kvm, HostSection host, MonitorSection monitor,
        Path source) {

    static GuestConfig from(ConfigReader r, Path source) throws GuestConfigException {
        return new GuestConfig(GuestSection.from(r), ProgramSection.from(r), KvmSection.from(r), HostSection.from(r),
                MonitorSection.from(r), source);
    }

    public GuestConfig withProgram(ProgramSection p) {
        return new GuestConfig(guest, p, kvm, host, monitor, source);
    }

    public GuestConfig withGuest(GuestSection g) {
        return new GuestConfig(g, program, kvm, host, monitor, source);
    }
}
