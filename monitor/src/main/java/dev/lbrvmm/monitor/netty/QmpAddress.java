package dev.lbrvmm.monitor.netty;

import java.nio.file.Path;

/**
 * A monitor endpoint in QEMU's {@code -qmp} syntax: {@code tcp:[HOST]:PORT[,server=on][,wait=off]}
 * or {@code unix:PATH[,server=on][,wait=off]}. lbrvmm is always the server and never waits; an
 * empty host means loopback (127.0.0.1), never all interfaces.
 */
public record QmpAddress(Kind kind, String host, int port, Path path) {
    public enum Kind { TCP, UNIX }

    public static QmpAddress parse(String spec) {
        String[] parts = spec.split(",");
        for (int i = 1; i < parts.length; i++) {
            String opt = parts[i].trim();
            if (!opt.equals("server") && !opt.equals("server=on") && !opt.equals("wait=off") && !opt.equals("nowait")) {
                throw new IllegalArgumentException("'" + spec + "': option '" + opt + "' is not supported (lbrvmm always listens"
                        + " as the server and never waits: server=on,wait=off)");
            }
        }
        String a = parts[0].trim();
        if (a.startsWith("unix:")) {
            String p = a.substring(5);
            if (p.isEmpty()) {
                throw new IllegalArgumentException("'" + spec + "': unix: needs a socket path, e.g. unix:/tmp/qmp.sock");
            }
            return new QmpAddress(Kind.UNIX, null, 0, Path.of(p));
        }
        if (a.startsWith("tcp:")) {
            String hp = a.substring(4);
            int colon = hp.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("'" + spec + "': tcp: needs HOST:PORT, e.g. tcp:127.0.0.1:4444");
            }
            String host = hp.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port;
            try {
                port = Integer.parseInt(hp.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + spec + "': port '" + hp.substring(colon + 1) + "' is not a number");
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("'" + spec + "': port " + port + " is outside 0..65535");
            }
            return new QmpAddress(Kind.TCP, host.isEmpty() ? "127.0.0.1" : host, port, null);
        }
        throw new IllegalArgumentException("'" + spec + "' is not a monitor address: use tcp:HOST:PORT or unix:PATH");
    }

    @Override
    public String toString() {
        return kind == Kind.TCP ? "tcp:" + host + ":" + port : "unix:" + path;
    }
}
