package dev.lbrvmm.vmm.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * The JVM flags every lbrvmm JVM runs with. They are written once, as {@code lbrvmm.jvm.args} in
 * the parent pom: the tests get them through Surefire's argLine, the {@code lbrvmm} launcher reads
 * them from the pom, and this class from a resource Maven fills in at build time, for the JVMs the
 * bench commands start. Why these flags: the interpreter's dispatch methods are large (never let
 * HotSpot refuse to compile them), and a type profile lets C2 speculate on whichever handler a
 * workload's start favoured and de-optimize the others (measured swings of 65-190 MIPS).
 */
public final class JvmFlags {
    private static final String RESOURCE = "/lbrvmm-jvm.properties";

    private JvmFlags() {}

    public static List<String> args() {
        Properties p = new Properties();
        try (InputStream in = JvmFlags.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the class path (a build without Maven?)");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String v = p.getProperty("jvm.args", "").trim();
        if (v.isEmpty() || v.contains("${")) {
            throw new IllegalStateException(RESOURCE + " was not filled in by the build: " + v);
        }
        return List.copyOf(Arrays.asList(v.split("\\s+")));
    }
}
