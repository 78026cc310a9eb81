package dev.lbrvmm.vmm.cpu;

/**
 * Picks the handler for a decoded instruction: a family's specialized handler for a common form
 * (each family's {@code select}), or the {@link Executor#REFERENCE reference executor}.
 */
final class Handlers {
    private Handlers() {}

    static Handler select(Insn in) {
        Handler h = DataTransfer.select(in);
        if (h == null) {
            h = Arithmetic.select(in);
        }
        if (h == null) {
            h = ControlFlow.select(in);
        }
        return h == null ? Executor.REFERENCE : h;
    }
}
