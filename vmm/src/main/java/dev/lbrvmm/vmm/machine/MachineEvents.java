package dev.lbrvmm.vmm.machine;

/** What the machine reports as it runs (the monitor turns these into QMP events). */
public interface MachineEvents {
    void stopped();

    void resumed();

    /** @param guest true when the guest asked for it */
    void reset(boolean guest, String reason);

    void powerdown();

    void shutdown(boolean guest, String reason);

    void guestPanicked(String action);

    MachineEvents NONE = new MachineEvents() {
        @Override
        public void stopped() {
        }

        @Override
        public void resumed() {
        }

        @Override
        public void reset(boolean guest, String reason) {
        }

        @Override
        public void powerdown() {
        }

        @Override
        public void shutdown(boolean guest, String reason) {
        }

        @Override
        public void guestPanicked(String action) {
        }
    };
}
