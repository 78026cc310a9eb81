package dev.lbrvmm.vmm.kvm;

import dev.lbrvmm.vmm.cpu.DebugCtl;
import java.util.List;
import java.util.Optional;

/**
 * How KVM shares the LBR with a guest (config {@code kvm.lbr-policy}):
 * <ul>
 * <li>{@link Lazy} - the seed design (Wei Wang's v3 series, with the v7 release condition; docs/design.md);</li>
 * <li>{@link Upstream} - what Linux 5.12+ merged (pmu_intel.c, vmx_passthrough_lbr_msrs);</li>
 * <li>{@link Eager} - the first design: save/restore the whole stack on every VM exit/entry;</li>
 * <li>{@link PassthroughUnsaved} - pass through, never save: shows the corruption the design prevents.</li>
 * </ul>
 */
public sealed interface GuestLbrPolicy {
    List<String> NAMES = List.of("lazy", "upstream", "eager", "passthrough-unsaved");

    String name();

    static Optional<GuestLbrPolicy> byName(String name) {
        return switch (name) {
            case "lazy" -> Optional.of(new Lazy());
            case "upstream" -> Optional.of(new Upstream());
            case "eager" -> Optional.of(new Eager());
            case "passthrough-unsaved" -> Optional.of(new PassthroughUnsaved());
            default -> Optional.empty();
        };
    }

    /** The vCPU is created: set the initial MSR bitmap. */
    default void init(GuestLbr s) {
    }

    /** The vCPU thread was switched in on a physical CPU (kvm_arch_sched_in). */
    default void scheduledIn(GuestLbr s) {
    }

    /** Just before VM entry. */
    default void beforeEntry(GuestLbr s) {
    }

    /** Just after a VM exit. */
    default void afterExit(GuestLbr s) {
    }

    /** A guest DEBUGCTL write was accepted (KVM always intercepts DEBUGCTL). */
    default void debugctlWritten(GuestLbr s, long value) {
    }

    /** RDMSR of an intercepted LBR MSR (guest or host-initiated): by default the real RDMSR. */
    default long trappedRead(GuestLbr s, int index) {
        return s.physicalRead(index);
    }

    /** WRMSR of an intercepted LBR MSR (guest or host-initiated): by default the real WRMSR. */
    default void trappedWrite(GuestLbr s, int index, long value) {
        s.physicalWrite(index, value);
    }

    /** vCPU reset or destruction: every policy drops its event. */
    default void reset(GuestLbr s) {
        s.releaseEvent();
    }

    /**
     * The seed design: the first trapped access of a time slice (an LBR MSR or DEBUGCTL) passes the MSRs through and creates
     * the save/restore event (task-flexible, as in v3-v7); at sched-in, MSRs used last slice are
     * intercepted again; an event whose vCPU did not touch the LBR in the last slice and has
     * DEBUGCTL.LBR = 0 is freed (the v7 condition; v3 freed without looking at DEBUGCTL). Host
     * reclaim is not handled (v3): trapped accesses always reach the physical MSRs.
     */
    record Lazy() implements GuestLbrPolicy {
        @Override
        public String name() {
            return "lazy";
        }

        private void firstUse(GuestLbr s) {
            if (!s.used) {
                s.used = true;
                s.setPassthrough(true);
                if (s.event == null) {
                    s.createEvent(false);
                }
            }
        }

        @Override
        public long trappedRead(GuestLbr s, int index) {
            firstUse(s);
            return s.physicalRead(index);
        }

        @Override
        public void trappedWrite(GuestLbr s, int index, long value) {
            firstUse(s);
            s.physicalWrite(index, value);
        }

        /** A trapped DEBUGCTL access counts as use of the LBR too (as the v3 series' DEBUGCTL trap did). */
        @Override
        public void debugctlWritten(GuestLbr s, long value) {
            firstUse(s);
        }

        @Override
        public void scheduledIn(GuestLbr s) {
            if (s.used) {
                s.used = false;
                s.setPassthrough(false); // detect use in the new slice
            } else if (s.event != null && !s.guestDebugctlLbr()) {
                s.releaseEvent();
            }
        }
    }

    /**
     * Linux 5.12+: the event is created by a DEBUGCTL.LBR = 1 write or the first trapped access;
     * at every VM entry the MSRs are passed through exactly while the event is ACTIVE; after a
     * sched-in the event is released before the next entry iff DEBUGCTL.LBR = 0; while the host
     * holds the LBR, trapped reads return 0 and writes are dropped, with a rate-limited warning.
     */
    record Upstream() implements GuestLbrPolicy {
        @Override
        public String name() {
            return "upstream";
        }

        @Override
        public void debugctlWritten(GuestLbr s, long value) {
            if ((value & DebugCtl.LBR) != 0 && s.event == null) {
                s.createEvent(true); // vmx_set_msr: DEBUGCTL.LBR = 1 -> intel_pmu_create_guest_lbr_event
            }
        }

        private boolean access(GuestLbr s) {
            if (s.event == null) {
                s.createEvent(true);
            }
            if (s.eventActive()) {
                s.used = true;
                return true;
            }
            s.used = false;
            s.stats.reclaimDrops++;
            return false;
        }

        @Override
        public long trappedRead(GuestLbr s, int index) {
            return access(s) ? s.physicalRead(index) : 0;
        }

        @Override
        public void trappedWrite(GuestLbr s, int index, long value) {
            if (access(s)) {
                s.physicalWrite(index, value);
            }
        }

        @Override
        public void scheduledIn(GuestLbr s) {
            if (s.event != null) {
                s.needCleanup = true; // KVM_REQ_PMU
            }
        }

        @Override
        public void beforeEntry(GuestLbr s) {
            if (s.needCleanup) {
                s.needCleanup = false;
                if (s.event != null && !s.guestDebugctlLbr()) {
                    s.releaseEvent();
                }
                s.used = false;
            }
            if (s.event == null) {
                s.setPassthrough(false);
                if (s.guestDebugctlLbr() || s.used) {
                    s.warn("fail to passthrough LBR.");
                }
            } else if (!s.eventActive()) {
                s.setPassthrough(false);
                s.used = false;
                s.warn("fail to passthrough LBR.");
            } else {
                s.setPassthrough(true);
            }
        }
    }

    /** The first design: LBR MSRs always passed through; the whole stack saved at every exit, restored at every entry. */
    record Eager() implements GuestLbrPolicy {
        @Override
        public String name() {
            return "eager";
        }

        @Override
        public void init(GuestLbr s) {
            s.setPassthrough(true);
        }

        @Override
        public void beforeEntry(GuestLbr s) {
            s.eagerRestore();
        }

        @Override
        public void afterExit(GuestLbr s) {
            s.eagerSave();
        }
    }

    /** Pass-through with no save/restore and no event: whatever ran on the CPU meanwhile shows up. */
    record PassthroughUnsaved() implements GuestLbrPolicy {
        @Override
        public String name() {
            return "passthrough-unsaved";
        }

        @Override
        public void init(GuestLbr s) {
            s.setPassthrough(true);
        }
    }
}
