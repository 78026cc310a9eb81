package dev.lbrvmm.vmm.machine;

/** QEMU RunState values the machine can be in (query-status). */
public enum RunState {
    PRELAUNCH("prelaunch"),
    RUNNING("running"),
    PAUSED("paused"),
    SHUTDOWN("shutdown"),
    GUEST_PANICKED("guest-panicked"),
    INTERNAL_ERROR("internal-error");

    public final String qapiName;

    RunState(String qapiName) {
        this.qapiName = qapiName;
    }
}
