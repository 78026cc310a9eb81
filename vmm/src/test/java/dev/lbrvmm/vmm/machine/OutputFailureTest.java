package dev.lbrvmm.vmm.machine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A guest output that cannot be written stops the guest with one clear message, never an exception out of the vCPU loop. */
class OutputFailureTest {
    private static final Path HOME = Path.of("").toAbsolutePath().getParent();

    /** An output that fails after {@code room} bytes, as a disk that fills up. */
    private static OutputStream filling(int room) {
        return new OutputStream() {
            int used;

            @Override
            public void write(int b) throws IOException {
                if (++used > room) {
                    throw new IOException("No space left on device");
                }
            }
        };
    }

    @Test
    void aFullConsoleStopsTheGuestAtOnce() throws Exception {
        GuestConfig cfg = GuestConfigLoader.load(HOME.resolve("configs/primes.conf"), List.of());
        PrintStream full = new PrintStream(filling(10), true);
        try (Machine m = Machine.create(cfg, full, full)) {
            MachineExit exit = m.run();
            assertThat(exit.kind()).isEqualTo(MachineExit.Kind.OUTPUT_ERROR);
            assertThat(exit.status()).isEqualTo(MachineExit.OUTPUT_ERROR_STATUS);
            assertThat(exit.message()).isEqualTo("cannot write serial output (standard output): write error");
            assertThat(m.outputFailure()).contains(exit.message());
        }
    }

    @Test
    void serialOutputRecordsTheFirstFailureAndDropsTheRest() {
        int[] calls = {0};
        SerialOutput out = new SerialOutput(filling(3), "serial output file x.txt", true);
        out.onFailure(() -> calls[0]++);
        for (byte b : "hello\nworld\n".getBytes()) {
            out.write(b);
        }
        out.close();
        assertThat(out.failure()).isEqualTo("cannot write serial output file x.txt: No space left on device");
        assertThat(calls[0]).as("the owner is told once").isEqualTo(1);
        assertThat(out.bytesWritten()).isEqualTo(12);
    }
}
